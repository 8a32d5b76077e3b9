//go:build k8se2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/internal/testutil"
)

// serviceAccountTune is the service account tune rbac creates by default.
const serviceAccountTune = "tune"

// applyRBAC runs tune rbac with args in dir and creates what it prints, as
// kubectl apply would: the ServiceAccount, the Role and the RoleBinding,
// deleted when the test ends. It returns the Role.
func (c *cluster) applyRBAC(t *testing.T, dir string, args ...string) *rbacv1.Role {
	t.Helper()
	code, out, errOut := runTune(t, dir, append([]string{"rbac"}, args...)...)
	if code != 0 {
		t.Fatalf("tune rbac: exit %d: %s", code, errOut)
	}
	var role *rbacv1.Role
	for doc := range strings.SplitSeq(out, "\n---\n") {
		var head struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		name, ns := head.Metadata.Name, head.Metadata.Namespace
		var err error
		var del func(context.Context) error
		switch head.Kind {
		case "ServiceAccount":
			var sa corev1.ServiceAccount
			if err = yaml.UnmarshalStrict([]byte(doc), &sa); err == nil {
				_, err = c.kube.CoreV1().ServiceAccounts(ns).Create(t.Context(), &sa, metav1.CreateOptions{})
			}
			del = func(ctx context.Context) error {
				return c.kube.CoreV1().ServiceAccounts(ns).Delete(ctx, name, metav1.DeleteOptions{})
			}
		case "Role":
			role = new(rbacv1.Role)
			if err = yaml.UnmarshalStrict([]byte(doc), role); err == nil {
				_, err = c.kube.RbacV1().Roles(ns).Create(t.Context(), role, metav1.CreateOptions{})
			}
			del = func(ctx context.Context) error {
				return c.kube.RbacV1().Roles(ns).Delete(ctx, name, metav1.DeleteOptions{})
			}
		case "RoleBinding":
			var rb rbacv1.RoleBinding
			if err = yaml.UnmarshalStrict([]byte(doc), &rb); err == nil {
				_, err = c.kube.RbacV1().RoleBindings(ns).Create(t.Context(), &rb, metav1.CreateOptions{})
			}
			del = func(ctx context.Context) error {
				return c.kube.RbacV1().RoleBindings(ns).Delete(ctx, name, metav1.DeleteOptions{})
			}
		default:
			err = fmt.Errorf("unexpected kind %q", head.Kind)
		}
		if err != nil {
			t.Fatalf("applying tune rbac's %s: %v\n%s", head.Kind, err, doc)
		}
		t.Cleanup(func() { _ = del(context.Background()) })
	}
	if role == nil {
		t.Fatalf("tune rbac printed no Role:\n%s", out)
	}
	return role
}

// saToken returns a token of service account sa of ns (TokenRequest, as
// the kubelet projects one into a pod).
func (c *cluster) saToken(t *testing.T, ns, sa string) string {
	t.Helper()
	tr, err := c.kube.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), sa, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// apiServer returns the stack's apiserver URL and the path of its CA.
func apiServer(t *testing.T) (host, caFile string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Host, cfg.CAFile
}

// tokenKubeconfig writes a kubeconfig that authenticates with token and
// has no namespace, and returns its path.
func tokenKubeconfig(t *testing.T, dir, token string) string {
	t.Helper()
	host, ca := apiServer(t)
	path := filepath.Join(dir, "sa.kubeconfig")
	y := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: sa
clusters: [{name: e2e, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: sa, user: {token: %q}}]
contexts: [{name: sa, context: {cluster: e2e, user: sa}}]
`, host, ca, token)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitAccess waits until the apiserver's answer to whether token's user
// may verb group/resource in ns is allowed (RBAC sees a Role change
// through a watch, a moment after it is written).
func waitAccess(t *testing.T, token, ns, verb, group, resource string, allowed bool) {
	t.Helper()
	host, ca := apiServer(t)
	cs, err := kubernetes.NewForConfig(&restclient.Config{Host: host, BearerToken: token, TLSClientConfig: restclient.TLSClientConfig{CAFile: ca}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(t.Context(), &authzv1.SelfSubjectAccessReview{
			Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: ns, Verb: verb, Group: group, Resource: resource,
			}},
		}, metav1.CreateOptions{})
		if err == nil && r.Status.Allowed == allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s/%s in %s never became allowed=%v (last: %v, %v)", verb, group, resource, ns, allowed, r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeVerb updates role without verb on resource and waits until token's
// user is denied it.
func (c *cluster) removeVerb(t *testing.T, role *rbacv1.Role, token, group, resource, verb string) {
	t.Helper()
	r, err := c.kube.RbacV1().Roles(role.Namespace).Get(t.Context(), role.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, rule := range r.Rules {
		if slices.Equal(rule.APIGroups, []string{group}) && slices.Equal(rule.Resources, []string{resource}) && slices.Contains(rule.Verbs, verb) {
			r.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return v == verb })
			found = true
		}
	}
	if !found {
		t.Fatalf("Role %s has no verb %s on %s/%s: %+v", role.Name, verb, group, resource, r.Rules)
	}
	if _, err := c.kube.RbacV1().Roles(role.Namespace).Update(t.Context(), r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAccess(t, token, role.Namespace, verb, group, resource, false)
}

// restoreRole puts role back as tune rbac printed it and waits until
// token's user is allowed verb on group/resource again.
func (c *cluster) restoreRole(t *testing.T, role *rbacv1.Role, token, group, resource, verb string) {
	t.Helper()
	r, err := c.kube.RbacV1().Roles(role.Namespace).Get(t.Context(), role.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Rules = role.Rules
	if _, err := c.kube.RbacV1().Roles(role.Namespace).Update(t.Context(), r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAccess(t, token, role.Namespace, verb, group, resource, true)
}

// checkLossTrials checks that every trial of exp Succeeded with the loss
// its pod's log reported, computed here from its parameters.
func checkLossTrials(t *testing.T, dir, exp string, n int) {
	t.Helper()
	ts := trials(t, dir, exp)
	if len(ts) != n {
		t.Fatalf("%d trials, want %d", len(ts), n)
	}
	for _, tr := range ts {
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		want := (x-1)*(x-1) + (y+2)*(y+2)
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
			t.Errorf("%s: %s %s, loss %v; want Succeeded with loss %v from its pod's log", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], want)
		}
	}
}

// noJobs checks that no Job of experiment exp exists in ns.
func (c *cluster) noJobs(t *testing.T, ns, exp string) {
	t.Helper()
	jobs, err := c.kube.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "katib.kubeflow.org/experiment=" + exp})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) > 0 {
		t.Errorf("%d Jobs of %s were submitted", len(jobs.Items), exp)
	}
}

// TestServiceAccountWithTuneRBAC runs a Job experiment as a service
// account bound to exactly the Role tune rbac prints, through a kubeconfig
// holding its token: every trial succeeds with its metrics. With one verb
// removed from the Role, tune refuses before submitting or writing
// anything, naming the verb and the account.
func TestServiceAccountWithTuneRBAC(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	c.fakeKubelet(t, ns)
	dir := t.TempDir()
	file := writeExperiment(t, dir, jobExperiment("as-sa", ns, 2, 3, 1, 1, ""))
	role := c.applyRBAC(t, dir, file)
	token := c.saToken(t, ns, serviceAccountTune)
	kc := tokenKubeconfig(t, dir, token)
	waitAccess(t, token, ns, "delete", "batch", "jobs", true)

	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--kubeconfig", kc, file)
	if code != 0 {
		t.Fatalf("tune run as %s: exit %d\n%s%s", serviceAccountTune, code, out, errOut)
	}
	checkLossTrials(t, dir, "as-sa", 3)

	c.removeVerb(t, role, token, "batch", "jobs", "delete")
	dir2 := t.TempDir()
	file2 := writeExperiment(t, dir2, jobExperiment("as-sa-2", ns, 2, 3, 1, 1, ""))
	code, out, errOut = runTune(t, dir2, "run", "--executor", "kubernetes", "--kubeconfig", kc, file2)
	want := fmt.Sprintf("missing permissions in namespace %s for system:serviceaccount:%s:%s: delete batch/jobs; `tune rbac %s -n %s` prints a Role that grants them", ns, ns, serviceAccountTune, file2, ns)
	if code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("tune run without delete on jobs: exit %d, stderr %q; want exit 2 and %q", code, errOut, want)
	}
	c.noJobs(t, ns, "as-sa-2")
	if _, err := os.Stat(filepath.Join(dir2, "tune.db")); !os.IsNotExist(err) {
		t.Errorf("the refused run created its store: %v", err)
	}
}

// TestInClusterConfiguration runs tune as a pod would: no kubeconfig, the
// service account's token, CA and namespace at the standard path
// (/var/run/secrets/kubernetes.io/serviceaccount, a temporary directory
// bind-mounted there in a mount namespace of tune's own) and
// KUBERNETES_SERVICE_HOST/PORT naming the apiserver. With the Role tune
// rbac prints missing a verb, tune refuses naming the service account
// (so it is that account it runs as); with the whole Role, the experiment,
// which names no namespace, runs in the service account's namespace and
// every trial succeeds with its metrics.
func TestInClusterConfiguration(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	c.fakeKubelet(t, ns)
	dir := t.TempDir()
	y := strings.Replace(jobExperiment("in-cluster", ns, 2, 3, 1, 1, ""), "  namespace: "+ns+"\n", "", 1)
	file := writeExperiment(t, dir, y)
	role := c.applyRBAC(t, dir, file, "-n", ns)
	token := c.saToken(t, ns, serviceAccountTune)

	// What the kubelet projects into a pod.
	secrets := filepath.Join(dir, "serviceaccount")
	_, caFile := apiServer(t)
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"token": token, "ca.crt": string(ca), "namespace": ns} {
		if err := os.MkdirAll(secrets, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host, _ := apiServer(t)
	hostPort := strings.TrimPrefix(host, "https://")
	svcHost, svcPort, ok := strings.Cut(hostPort, ":")
	if !ok {
		t.Fatalf("apiserver %s has no port", host)
	}
	inPod := func(dir string, args ...string) (int, string, string) {
		t.Helper()
		cmd := inClusterCommand(t, secrets, append([]string{tuneBin, "--store", filepath.Join(dir, "tune.db")}, args...)...)
		cmd.Dir = dir
		home := t.TempDir() // no ~/.kube/config
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "KUBERNETES_SERVICE_HOST=" + svcHost, "KUBERNETES_SERVICE_PORT=" + svcPort}
		return testutil.Run(t, cmd)
	}

	c.removeVerb(t, role, token, "", "pods", "watch")
	code, _, errOut := inPod(dir, "run", "--executor", "kubernetes", file)
	want := fmt.Sprintf("missing permissions in namespace %s for system:serviceaccount:%s:%s: watch pods", ns, ns, serviceAccountTune)
	if code != 2 || !strings.Contains(errOut, want) {
		t.Fatalf("in-cluster tune run without watch on pods: exit %d, stderr %q; want exit 2 and %q", code, errOut, want)
	}
	c.noJobs(t, ns, "in-cluster")

	c.restoreRole(t, role, token, "", "pods", "watch")
	code, out, errOut := inPod(dir, "run", "--executor", "kubernetes", file)
	if code != 0 {
		t.Fatalf("in-cluster tune run: exit %d\n%s%s", code, out, errOut)
	}
	checkLossTrials(t, dir, "in-cluster", 3)
}

// inClusterCommand returns a command that runs argv in a new mount
// namespace where dir is bind-mounted on
// /var/run/secrets/kubernetes.io/serviceaccount. So that nothing is
// created on the host, the directory holding /var/run/secrets (/run here)
// gets a tmpfs of its own in that namespace first.
func inClusterCommand(t *testing.T, dir string, argv ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) is needed to mount the service account's files: %v", err)
	}
	run, err := filepath.EvalSymlinks("/var/run")
	if err != nil {
		t.Fatal(err)
	}
	const script = `set -e
run=$1 src=$2
shift 2
mount -t tmpfs -o mode=0755 tune-e2e-run "$run"
mkdir -p /var/run/secrets/kubernetes.io/serviceaccount
mount --bind "$src" /var/run/secrets/kubernetes.io/serviceaccount
exec "$@"`
	args := append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", run, dir}, argv...)
	return exec.CommandContext(context.Background(), "unshare", args...)
}

// TestWorkflowAsServiceAccount runs a Workflow experiment whose metrics
// come from the Workflow's outputs as a service account bound to the Role
// tune rbac prints for it, which has no pods/log: every trial succeeds with
// the loss its step wrote.
func TestWorkflowAsServiceAccount(t *testing.T) {
	c := newCluster(t)
	const ns = "argo" // the namespace the workflow-controller watches
	steps := c.runSteps(t, ns)
	name := fmt.Sprintf("wf-sa-%d", time.Now().UnixNano()%1000000)
	y := lossWorkflowExperiment(name, ns, 5, fmt.Sprintf(`        entrypoint: step
        templates:
          - name: step
            container:
              image: example.invalid/train:1
              command: [%s, loss]
              args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}", --loss-out, /tmp/loss]
            outputs:
              parameters:
                - {name: loss, valueFrom: {path: /tmp/loss}}
`, pipestep(t)))
	dir := t.TempDir()
	file := writeExperiment(t, dir, y)
	// Names of this test's own: the namespace is shared.
	role := c.applyRBAC(t, dir, file, "--name", name, "--service-account", name)
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "pods/log") {
			t.Errorf("the Role of a Workflow trial without primaryPodLabels grants pods/log: %+v", role.Rules)
		}
	}
	token := c.saToken(t, ns, name)
	waitAccess(t, token, ns, "create", "argoproj.io", "workflows", true)
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--kubeconfig", tokenKubeconfig(t, dir, token), file)
	if code != 0 {
		t.Fatalf("tune run as %s: exit %d\n%s%s", name, code, out, errOut)
	}
	checkLossTrials(t, dir, name, 2)
	if n := len(steps.ran()); n != 2 {
		t.Errorf("the step runner ran %d steps, want 2", n)
	}
}
