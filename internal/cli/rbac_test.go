package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// rbacJobExperiment is a Job experiment; namespace may be empty.
func rbacJobExperiment(namespace string) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: jobs
  namespace: %q
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 2
  maxFailedTrialCount: 1
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{name: lr, reference: lr}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: train:1
                command: [train, "--lr=${trialParameters.lr}"]
`, namespace)
}

// rbacWorkflowExperiment is a Workflow experiment whose metrics come from
// the Workflow's outputs (no primaryPodLabels).
const rbacWorkflowExperiment = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: flows, namespace: ml}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 2
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
  trialTemplate:
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters: [{name: lr, reference: lr}]
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: main
        templates:
          - name: main
            container: {image: train:1, command: [train, "--lr=${trialParameters.lr}"]}
`

// rbacDocs decodes tune rbac's YAML output into its documents, by kind.
func rbacDocs(t *testing.T, out string) (sa *corev1.ServiceAccount, role *rbacv1.Role, binding *rbacv1.RoleBinding) {
	t.Helper()
	for doc := range strings.SplitSeq(out, "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %q: %v", doc, err)
		}
		var dst any
		switch meta.Kind {
		case "ServiceAccount":
			sa = new(corev1.ServiceAccount)
			dst = sa
		case "Role":
			role = new(rbacv1.Role)
			dst = role
		case "RoleBinding":
			binding = new(rbacv1.RoleBinding)
			dst = binding
		default:
			t.Fatalf("unexpected document of kind %q:\n%s", meta.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), dst); err != nil {
			t.Fatalf("%s: %v", meta.Kind, err)
		}
	}
	return sa, role, binding
}

func rule(group, resource string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{resource}, Verbs: verbs}
}

var (
	jobsRule      = rule("batch", "jobs", "create", "get", "list", "watch", "delete")
	workflowsRule = rule("argoproj.io", "workflows", "create", "get", "list", "watch", "delete")
	podsRule      = rule("", "pods", "get", "list", "watch")
	podLogRule    = rule("", "pods/log", "get")
	configRule    = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"artifact-repositories", "workflow-controller-configmap"}, Verbs: []string{"get"}}
)

func TestRBACCommand(t *testing.T) {
	dir := t.TempDir()
	for name, y := range map[string]string{"job.yaml": rbacJobExperiment(""), "team.yaml": rbacJobExperiment("team-a"), "flow.yaml": rbacWorkflowExperiment} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
current-context: dev
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u, namespace: from-context}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(), "KUBECONFIG="+kc)

	tests := map[string]struct {
		args      []string
		namespace string
		rules     []rbacv1.PolicyRule
		subjects  []rbacv1.Subject
		noSA      bool
	}{
		"Job, -n": {
			args: []string{"job.yaml", "-n", "team-b"}, namespace: "team-b",
			rules:    []rbacv1.PolicyRule{jobsRule, podsRule, podLogRule},
			subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tune", Namespace: "team-b"}},
		},
		"Job, the experiment's namespace": {
			args: []string{"team.yaml", "--service-account", "trainer", "--name", "hpo"}, namespace: "team-a",
			rules:    []rbacv1.PolicyRule{jobsRule, podsRule, podLogRule},
			subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "trainer", Namespace: "team-a"}},
		},
		"Job, the context's namespace": {
			args: []string{"job.yaml"}, namespace: "from-context",
			rules:    []rbacv1.PolicyRule{jobsRule, podsRule, podLogRule},
			subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tune", Namespace: "from-context"}},
		},
		"Workflow without pod logs": {
			args: []string{"flow.yaml"}, namespace: "ml",
			rules:    []rbacv1.PolicyRule{workflowsRule, podsRule, configRule},
			subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tune", Namespace: "ml"}},
		},
		"no file: Jobs and Workflows, to a user and a group": {
			args: []string{"-n", "lab", "--user", "alice@example.com", "--group", "ml-team"}, namespace: "lab", noSA: true,
			rules: []rbacv1.PolicyRule{jobsRule, podsRule, podLogRule, workflowsRule, configRule},
			subjects: []rbacv1.Subject{
				{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice@example.com"},
				{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "ml-team"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := tuneEnv(t, dir, env, append([]string{"rbac"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "# What tune needs to run ") {
				t.Errorf("no header comment:\n%s", r.stdout)
			}
			sa, role, binding := rbacDocs(t, r.stdout)
			if role == nil || binding == nil {
				t.Fatalf("no Role or RoleBinding:\n%s", r.stdout)
			}
			if diff := cmp.Diff(tc.rules, role.Rules); diff != "" {
				t.Errorf("Role rules (-want +got):\n%s", diff)
			}
			if role.Namespace != tc.namespace || binding.Namespace != tc.namespace {
				t.Errorf("Role in %q, RoleBinding in %q; want %q", role.Namespace, binding.Namespace, tc.namespace)
			}
			if binding.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name}) {
				t.Errorf("RoleBinding refers to %+v, not Role %s", binding.RoleRef, role.Name)
			}
			if diff := cmp.Diff(tc.subjects, binding.Subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
			switch {
			case tc.noSA && sa != nil:
				t.Errorf("ServiceAccount %s printed", sa.Name)
			case !tc.noSA && (sa == nil || sa.Name != tc.subjects[0].Name || sa.Namespace != tc.namespace):
				t.Errorf("ServiceAccount %+v, want %s in %s", sa, tc.subjects[0].Name, tc.namespace)
			}
		})
	}
	t.Run("json is a List of the same objects", func(t *testing.T) {
		r := tuneEnv(t, dir, env, "rbac", "flow.yaml", "-o", "json")
		var list struct {
			Kind  string
			Items []json.RawMessage
		}
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		var role rbacv1.Role
		if err := json.Unmarshal(list.Items[1], &role); err != nil {
			t.Fatal(err)
		}
		if list.Kind != "List" || len(list.Items) != 3 || role.Kind != "Role" || !cmp.Equal(role.Rules, []rbacv1.PolicyRule{workflowsRule, podsRule, configRule}) {
			t.Errorf("list %s of %d items, Role %+v", list.Kind, len(list.Items), role)
		}
	})
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"-n against the experiment's": {[]string{"team.yaml", "-n", "other"}, "-n other: the experiment's trials run in its metadata.namespace, team-a"},
		"two files":                   {[]string{"job.yaml", "team.yaml"}, "expected at most one FILE"},
		"bad name":                    {[]string{"--name", "Not_A_Name"}, `--name "Not_A_Name": not a valid object name`},
		"bad format":                  {[]string{"-o", "table"}, `-o "table": want yaml or json`},
		"missing file":                {[]string{"nope.yaml"}, "nope.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			r := tuneEnv(t, dir, env, append([]string{"rbac"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// fakeAPIServer answers SelfSubjectAccessReviews, allowing the
// permissions ("verb group/resource" as in tune's messages) of allow, or
// refusing every review with 403 when allow is nil, and
// SelfSubjectReviews; it answers any other request with 403 Forbidden and
// records it.
type fakeAPIServer struct {
	*httptest.Server
	mu     sync.Mutex
	others []string
}

func newFakeAPIServer(t *testing.T, user string, allow []string) *fakeAPIServer {
	s := &fakeAPIServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" && allow != nil:
			// client-go sends protobuf; the answer may be JSON.
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
			review, ok := obj.(*authzv1.SelfSubjectAccessReview)
			if err != nil || !ok {
				http.Error(w, fmt.Sprintf("decoding %T: %v", obj, err), http.StatusBadRequest)
				return
			}
			review.APIVersion, review.Kind = "authorization.k8s.io/v1", "SelfSubjectAccessReview"
			ra := review.Spec.ResourceAttributes
			p := ra.Verb + " " + ra.Resource
			if ra.Subresource != "" {
				p += "/" + ra.Subresource
			}
			if ra.Group != "" {
				p = ra.Verb + " " + ra.Group + "/" + ra.Resource
			}
			review.Status.Allowed = slices.Contains(allow, p)
			_ = json.NewEncoder(w).Encode(review)
		case r.Method == http.MethodPost && r.URL.Path == "/apis/authentication.k8s.io/v1/selfsubjectreviews":
			_ = json.NewEncoder(w).Encode(authnv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "SelfSubjectReview"}, Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{Username: user}}})
		default:
			s.mu.Lock()
			s.others = append(s.others, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"%s is forbidden"}`, r.URL.Path)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeAPIServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.others)
}

// writeKubeconfig writes a kubeconfig for server into dir.
func writeKubeconfig(t *testing.T, dir, server string) string {
	t.Helper()
	kc := filepath.Join(dir, "kubeconfig")
	y := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: secret}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: team-a}}]
`, server)
	if err := os.WriteFile(kc, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestRunRefusesWithoutPermissions: tune run asks the cluster for every
// permission a Job trial needs and, missing one, stops before writing or
// submitting anything, naming it and the command that prints the Role.
func TestRunRefusesWithoutPermissions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "exp.yaml"), []byte(rbacJobExperiment("")), 0o644); err != nil {
		t.Fatal(err)
	}
	all := []string{
		"create batch/jobs", "get batch/jobs", "list batch/jobs", "watch batch/jobs", "delete batch/jobs",
		"get pods", "list pods", "watch pods", "get pods/log",
	}
	srv := newFakeAPIServer(t, "system:serviceaccount:team-a:tune", slices.DeleteFunc(slices.Clone(all), func(p string) bool {
		return p == "delete batch/jobs" || p == "get pods/log"
	}))
	kc := writeKubeconfig(t, dir, srv.URL)
	r := tune(t, dir, "run", "--executor", "kubernetes", "--kubeconfig", kc, "exp.yaml")
	const want = "missing permissions in namespace team-a for system:serviceaccount:team-a:tune: delete batch/jobs, get pods/log; `tune rbac exp.yaml -n team-a` prints a Role that grants them"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	if others := srv.requests(); len(others) > 0 {
		t.Errorf("requests besides the reviews: %q", others)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tune")); !os.IsNotExist(err) {
		t.Errorf("a refused run created a store: %v", err)
	}
	// The Role tune rbac prints grants exactly what was asked.
	r = tune(t, dir, "rbac", "exp.yaml", "-n", "team-a")
	_, role, _ := rbacDocs(t, r.stdout)
	var granted []string
	for _, rl := range role.Rules {
		for _, v := range rl.Verbs {
			p := v + " " + rl.Resources[0]
			if rl.APIGroups[0] != "" {
				p = v + " " + rl.APIGroups[0] + "/" + rl.Resources[0]
			}
			granted = append(granted, p)
		}
	}
	if diff := cmp.Diff(all, granted); diff != "" {
		t.Errorf("tune rbac grants (-checked +granted):\n%s", diff)
	}
}

// TestRunGoesOnWhenReviewsForbidden: a cluster that does not let the user
// ask is not held against it: a warning, then the run, whose Job creation
// the fake cluster forbids.
func TestRunGoesOnWhenReviewsForbidden(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "exp.yaml"), []byte(rbacJobExperiment("")), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newFakeAPIServer(t, "", nil)
	kc := writeKubeconfig(t, dir, srv.URL)
	r := tune(t, dir, "run", "--executor", "kubernetes", "--kubeconfig", kc, "exp.yaml")
	if !strings.Contains(r.stderr, "warning: permissions in namespace team-a not checked: the cluster does not let this user ask") {
		t.Errorf("stderr %q; want the warning", r.stderr)
	}
	if !slices.Contains(srv.requests(), "POST /apis/batch/v1/namespaces/team-a/jobs") {
		t.Errorf("requests %q; want the Job created after the warning (exit %d, stderr %q)", srv.requests(), r.code, r.stderr)
	}
}

// TestRBACNodes: --nodes adds the ClusterRole for nodes, which a Role
// cannot grant, bound to the same subjects as the Role.
func TestRBACNodes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.yaml"), []byte(rbacJobExperiment("team-a")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "rbac", "job.yaml", "--nodes", "-o", "json")
	var list struct{ Items []json.RawMessage }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 || len(list.Items) != 5 {
		t.Fatalf("exit %d, %v, %d items:\n%s%s", r.code, err, len(list.Items), r.stdout, r.stderr)
	}
	var cr rbacv1.ClusterRole
	var crb rbacv1.ClusterRoleBinding
	if err := json.Unmarshal(list.Items[3], &cr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(list.Items[4], &crb); err != nil {
		t.Fatal(err)
	}
	if cr.Kind != "ClusterRole" || cr.Name != "tune-nodes" || !cmp.Equal(cr.Rules, []rbacv1.PolicyRule{rule("", "nodes", "get", "watch")}) {
		t.Errorf("ClusterRole %+v", cr)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tune", Namespace: "team-a"}}
	if crb.Kind != "ClusterRoleBinding" || crb.Name != "tune-nodes-team-a" || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != "tune-nodes" || !cmp.Equal(crb.Subjects, want) {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}
}
