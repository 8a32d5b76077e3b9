//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// The image, Job and experiment of examples/in-cluster.
const (
	inClusterDir   = "../../../examples/in-cluster"
	tuneImage      = "registry.example.com/tune:dev"
	tuneJob        = "tune-mlp-in-cluster"
	tunePodsLabel  = "batch.kubernetes.io/job-name"
	inPodExpName   = "in-pod"
	saTokenMountAt = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// tuneImageSpec returns what the pod runner runs for tuneImage, read from
// examples/in-cluster/Dockerfile's final stage: its ENTRYPOINT (the tune
// binary, here the one under test), WORKDIR and USER.
func tuneImageSpec(t *testing.T) podImage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(inClusterDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var img podImage
	for line := range strings.Lines(string(b)) {
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "FROM": // a new stage: only the last one is the image
			img = podImage{}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &img.Entrypoint); err != nil || len(img.Entrypoint) == 0 {
				t.Fatalf("Dockerfile: ENTRYPOINT %s: want the exec form (%v)", rest, err)
			}
		case "WORKDIR":
			img.WorkingDir = rest
		case "USER":
			img.User = rest
		}
	}
	if len(img.Entrypoint) == 0 {
		t.Fatal("Dockerfile: no ENTRYPOINT in its last stage")
	}
	img.Path = map[string]string{img.Entrypoint[0]: tuneBin}
	img.OwnHome = true // distroless: an empty HOME, no ~/.kube/config
	return img
}

// applyInCluster creates in ns every object of examples/in-cluster/tune.yaml
// as shipped (kubectl -n ns apply -f tune.yaml), and returns them by kind.
func (c *cluster) applyInCluster(t *testing.T, ns string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(inClusterDir, "tune.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	ctx := t.Context()
	for doc := range strings.SplitSeq(string(b), "\n---\n") {
		var head struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		if head.Metadata.Namespace != "" {
			t.Errorf("tune.yaml: %s %s names namespace %s; kubectl -n would refuse it", head.Kind, head.Metadata.Name, head.Metadata.Namespace)
		}
		var err error
		switch head.Kind {
		case "ServiceAccount":
			var o corev1.ServiceAccount
			if err = yaml.UnmarshalStrict([]byte(doc), &o); err == nil {
				_, err = c.kube.CoreV1().ServiceAccounts(ns).Create(ctx, &o, metav1.CreateOptions{})
			}
		case "Role":
			var o rbacv1.Role
			if err = yaml.UnmarshalStrict([]byte(doc), &o); err == nil {
				_, err = c.kube.RbacV1().Roles(ns).Create(ctx, &o, metav1.CreateOptions{})
			}
		case "RoleBinding":
			var o rbacv1.RoleBinding
			if err = yaml.UnmarshalStrict([]byte(doc), &o); err == nil {
				_, err = c.kube.RbacV1().RoleBindings(ns).Create(ctx, &o, metav1.CreateOptions{})
			}
		case "PersistentVolumeClaim":
			var o corev1.PersistentVolumeClaim
			if err = yaml.UnmarshalStrict([]byte(doc), &o); err == nil {
				_, err = c.kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &o, metav1.CreateOptions{})
			}
		case "Job":
			var o batchv1.Job
			if err = yaml.UnmarshalStrict([]byte(doc), &o); err == nil {
				_, err = c.kube.BatchV1().Jobs(ns).Create(ctx, &o, metav1.CreateOptions{})
			}
		default:
			err = fmt.Errorf("unexpected kind %q", head.Kind)
		}
		if err != nil {
			t.Fatalf("applying tune.yaml's %s %s: %v", head.Kind, head.Metadata.Name, err)
		}
		kinds[head.Kind] = head.Metadata.Name
	}
	return kinds
}

// gatedKubelet is the fake kubelet (fakeKubelet) of ns's trial pods, but
// for a gate: a pod is played only once a pass is given (allow), in the
// order the pods come; a pod deleted while it waits is left alone.
type gatedKubelet struct{ passes chan struct{} }

func (c *cluster) gatedKubelet(t *testing.T, ns string) *gatedKubelet {
	g := &gatedKubelet{passes: make(chan struct{}, 1000)}
	c.onHeldPods(t, ns, "app.kubernetes.io/managed-by=tune", false, "gated kubelet", func(ctx context.Context, pod *corev1.Pod) error {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		gone := make(chan struct{})
		go func() {
			if c.waitDeleted(wctx, pod) {
				close(gone)
			}
		}()
		select {
		case <-g.passes:
		case <-gone:
			return nil
		case <-ctx.Done():
			return nil
		}
		return c.serveTrialLog(ctx, pod)
	})
	return g
}

// allow lets n more trial pods run to their end.
func (g *gatedKubelet) allow(n int) {
	for range n {
		g.passes <- struct{}{}
	}
}

// storeTrials reads the trials of exp from the store file db with tune
// get trials, as a user reading the volume would.
func storeTrials(db, exp string) ([]jsonTrial, error) {
	cmd := exec.Command(tuneBin, "get", "trials", exp, "--store", db, "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = ee.Stderr
		}
		return nil, fmt.Errorf("tune get trials: %w: %s", err, stderr)
	}
	var ts []jsonTrial
	if err := json.Unmarshal(out, &ts); err != nil {
		return nil, fmt.Errorf("tune get trials: %w", err)
	}
	return ts, nil
}

// byStatus returns the names of ts by status.
func byStatus(ts []jsonTrial) map[string][]string {
	out := map[string][]string{}
	for _, tr := range ts {
		out[tr.Status] = append(out[tr.Status], tr.Name)
	}
	return out
}

// tunePod returns the name of the one tune pod of ns that runs (Running,
// not being deleted).
func (c *cluster) tunePod(t *testing.T, ns string) string {
	t.Helper()
	pods, err := c.kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: tunePodsLabel + "=" + tuneJob})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("tune pods running: %v, want 1", names)
	}
	return names[0]
}

// TestTunePodInCluster runs examples/in-cluster as shipped: tune.yaml's
// ServiceAccount, Role, RoleBinding, claim and Job, the experiment in the
// ConfigMap tune-experiment. The Job's pod is run for real by the pod
// runner: tune, with no kubeconfig and an empty HOME, finds the service
// account's token, CA and namespace that the apiserver's ServiceAccount
// admission projected into the pod (a token from TokenRequest bound to
// the pod, kube-root-ca.crt, the namespace) at their standard path,
// KUBERNETES_SERVICE_HOST/PORT naming the apiserver, the experiment
// read-only at /experiment and the claim's volume at /data. Its trials
// (Job trials in the service account's namespace, 2 at a time, 5 in all)
// are played by a gated fake kubelet. With two trials Succeeded and two
// running, tune's pod goes:
//
//   - node-lost: its process is killed with SIGKILL and the pod deleted
//     at once (a node lost, an OOM kill): the Job controller's new pod
//     resumes the experiment from /data/tune.db and re-attaches to the
//     two running trials: their Jobs keep their UIDs, and no Job is
//     created for them again.
//   - pod-deleted: the pod is deleted (kubectl delete pod, a drain, an
//     eviction): tune gets SIGTERM, as from the kubelet, and with the
//     example's --on-terminate detach leaves the two running trials'
//     Jobs alone, the experiment Running (ExperimentDetached), and exits
//     130; the new pod resumes and re-attaches to them, as above.
//
// Either way the experiment ends Succeeded with 5 trials Succeeded, each
// with the loss computed here from its parameters (read from the
// volume's store with tune get trials), and the tune Job completes.
func TestTunePodInCluster(t *testing.T) {
	c := newCluster(t)
	img := tuneImageSpec(t)
	for _, mode := range []string{"node-lost", "pod-deleted"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testTunePod(t, c, img, mode)
		})
	}
}

func testTunePod(t *testing.T, c *cluster, img podImage, mode string) {
	start := time.Now()
	ns := c.namespace(t)
	c.holdPods(t, ns, "tune", tunePodsLabel, tuneJob)
	c.provisionVolumes(t, ns, t.TempDir())
	tunePods := c.runPodsOf(t, ns, tunePodsLabel+"="+tuneJob, map[string]podImage{tuneImage: img})
	trialPods := c.gatedKubelet(t, ns)
	trialPods.allow(2)

	// The experiment names no namespace: tune puts its trials in the
	// service account's.
	y := strings.Replace(jobExperiment(inPodExpName, ns, 2, 5, 1, 1, ""), "  namespace: "+ns+"\n", "", 1)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tune-experiment"}, Data: map[string]string{"experiment.yaml": y}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	applied := c.applyInCluster(t, ns)
	if applied["Job"] != tuneJob || applied["PersistentVolumeClaim"] == "" {
		t.Fatalf("tune.yaml holds %v; want the Job %s and a claim", applied, tuneJob)
	}
	var db string
	c.waitFor(t, 60*time.Second, "the store's claim to be bound", func() bool {
		dir, err := c.claimDir(t.Context(), ns, applied["PersistentVolumeClaim"])
		db = filepath.Join(dir, "tune.db")
		return err == nil
	})

	// Two trials finished, two running (held by the gate).
	var mid []jsonTrial
	c.waitFor(t, 90*time.Second, "2 trials Succeeded and 2 Running in the store", func() bool {
		ts, err := storeTrials(db, inPodExpName)
		s := byStatus(ts)
		mid = ts
		return err == nil && len(s["Succeeded"]) == 2 && len(s["Running"]) == 2
	})
	c.waitRunningPods(t, ns, 2)
	running := byStatus(mid)["Running"]
	slices.Sort(running)
	t.Logf("%s: trials %v Succeeded, %v running, %s after the Job was applied", mode, byStatus(mid)["Succeeded"], running, time.Since(start).Round(time.Millisecond))

	jobs, err := c.kube.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tune"})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]types.UID{}
	listed := map[types.UID]bool{} // finished trials' Jobs being deleted too
	for _, j := range jobs.Items {
		listed[j.UID] = true
		if j.DeletionTimestamp == nil {
			before[j.Name] = j.UID
		}
	}
	if names := slices.Sorted(maps.Keys(before)); !slices.Equal(names, running) {
		t.Fatalf("trial Jobs %v, want those of the running trials %v", names, running)
	}
	// Every trial Job from now on, by name: its UIDs.
	w, err := c.kube.BatchV1().Jobs(ns).Watch(t.Context(), metav1.ListOptions{ResourceVersion: jobs.ResourceVersion, LabelSelector: "app.kubernetes.io/managed-by=tune"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	after := map[string][]types.UID{}
	var watched sync.WaitGroup
	watched.Go(func() {
		for ev := range w.ResultChan() {
			if j, ok := ev.Object.(*batchv1.Job); ok {
				mu.Lock()
				if !slices.Contains(after[j.Name], j.UID) {
					after[j.Name] = append(after[j.Name], j.UID)
				}
				mu.Unlock()
			}
		}
	})
	defer func() { w.Stop(); watched.Wait() }()

	first := c.tunePod(t, ns)
	stopped := time.Now()
	switch mode {
	case "node-lost":
		if !tunePods.lose(first) {
			t.Fatalf("tune's pod %s has no process running", first)
		}
		c.waitFor(t, 30*time.Second, "tune's process to die", func() bool { return len(tunePods.ran()) == 1 })
		if err := c.kube.CoreV1().Pods(ns).Delete(t.Context(), first, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			t.Fatal(err)
		}
	case "pod-deleted":
		if err := c.kube.CoreV1().Pods(ns).Delete(t.Context(), first, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		c.waitFor(t, 60*time.Second, "tune's process to end after SIGTERM", func() bool { return len(tunePods.ran()) == 1 })
	}
	ran := tunePods.ran()
	t.Logf("%s: tune's first pod %s ended %s after it was stopped: exit code %d, deleted %v, lost %v; its output:\n%s",
		mode, first, time.Since(stopped).Round(time.Millisecond), ran[0].ExitCode, ran[0].Deleted, ran[0].Lost, logText(ran[0].Log))

	// The Job's next pod resumes the experiment.
	c.waitFor(t, 120*time.Second, "a new tune pod to resume the experiment", func() bool {
		return tunePods.wrote("resuming experiment "+inPodExpName) == 1
	})
	resumed := time.Since(stopped)
	trialPods.allow(100)
	c.waitFor(t, 120*time.Second, "the tune Job to complete", func() bool {
		j, err := c.kube.BatchV1().Jobs(ns).Get(t.Context(), tuneJob, metav1.GetOptions{})
		return err == nil && slices.ContainsFunc(j.Status.Conditions, func(cd batchv1.JobCondition) bool {
			return cd.Type == batchv1.JobComplete && cd.Status == corev1.ConditionTrue
		})
	})
	t.Logf("%s: the new pod resumed %s after the first was stopped; the Job completed %s after it was applied", mode, resumed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	ran = tunePods.ran()
	last := ran[len(ran)-1]
	if last.ExitCode != 0 || last.Deleted || last.Lost || last.Pod.Name == first {
		t.Errorf("tune's last pod %s: exit code %d (deleted %v, lost %v); want a new pod's tune exiting 0\n%s", last.Pod.Name, last.ExitCode, last.Deleted, last.Lost, logText(last.Log))
	}
	// A pod started while the previous tune still stops (the Job
	// controller replaces a pod as soon as it is terminating) finds the
	// experiment locked and fails; the Job then starts another.
	for _, r := range ran[1 : len(ran)-1] {
		if r.ExitCode == 1 && strings.Contains(logText(r.Log), "experiment is busy") {
			t.Logf("tune pod %s started while the previous one held the experiment's lock:\n%s", r.Pod.Name, logText(r.Log))
			continue
		}
		t.Errorf("tune pod %s in between exited %d:\n%s", r.Pod.Name, r.ExitCode, logText(r.Log))
	}
	checkTunePod(t, last.Pod, last.Argv, db)
	// kubectl logs, as the example's README says to follow the run.
	summary := "experiment " + inPodExpName + " Succeeded (ExperimentMaxTrialsReached)"
	if log, err := c.kube.CoreV1().Pods(ns).GetLogs(last.Pod.Name, &corev1.PodLogOptions{}).DoRaw(t.Context()); err != nil || !strings.Contains(string(log), summary) {
		t.Errorf("pods/log of tune pod %s: %v: %q; want the summary %q", last.Pod.Name, err, log, summary)
	}

	// The store on the volume, read with tune.
	ts, err := storeTrials(db, inPodExpName)
	if err != nil {
		t.Fatal(err)
	}
	s := byStatus(ts)
	for _, tr := range ts {
		if tr.Status != "Succeeded" {
			continue
		}
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		yv, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		if want := (x-1)*(x-1) + (yv+2)*(yv+2); tr.Metrics["loss"] != want {
			t.Errorf("%s: loss %v; want %v, computed from x=%v y=%v", tr.Name, tr.Metrics["loss"], want, x, yv)
		}
	}
	if len(s["Succeeded"]) != 5 {
		t.Errorf("%d trials Succeeded, want 5 (maxTrialCount): %v", len(s["Succeeded"]), s)
	}
	mu.Lock()
	seen := maps.Clone(after)
	mu.Unlock()
	switch mode {
	case "pod-deleted":
		// SIGTERM with --on-terminate detach (the example's args): tune
		// leaves the running trials' Jobs and the experiment Running.
		if ran[0].ExitCode != 130 {
			t.Errorf("tune's first pod: exit code %d after SIGTERM, want 130 (interrupted)", ran[0].ExitCode)
		}
		if first := logText(ran[0].Log); !strings.Contains(first, "terminated: leaving running trials to the cluster") || !strings.Contains(first, "experiment "+inPodExpName+" Running (ExperimentDetached)") {
			t.Errorf("tune's first pod's output has no detach notice or no Running (ExperimentDetached) summary:\n%s", first)
		}
	}
	// Re-attached either way: the running trials ended Succeeded through
	// their own Jobs, never created again; only the fifth trial is new.
	if len(ts) != 5 || !slices.Contains(s["Succeeded"], running[0]) || !slices.Contains(s["Succeeded"], running[1]) {
		t.Errorf("trials %v; want 5, the 2 running ones among them Succeeded", s)
	}
	for name, uid := range before {
		if !slices.Equal(seen[name], []types.UID{uid}) {
			t.Errorf("Job %s: UIDs %v after tune's pod went (%s), want only %s (re-attached, not re-created)", name, seen[name], mode, uid)
		}
	}
	// Created since the list: a finished trial's Job still being deleted
	// then has its last events in seen too.
	var created []string
	for name, uids := range seen {
		if slices.ContainsFunc(uids, func(u types.UID) bool { return !listed[u] }) {
			created = append(created, name)
		}
	}
	if len(created) != 1 {
		t.Errorf("Jobs created after tune's pod went (%s): %v of those seen %v; want 1 (the fifth trial's)", mode, created, seen)
	}
	code, out, errOut := runTuneStore(t, db, "get", "experiments", "-o", "json")
	var exps []struct{ Name, Status string }
	if err := json.Unmarshal([]byte(out), &exps); code != 0 || err != nil || len(exps) != 1 || exps[0].Name != inPodExpName || exps[0].Status != "Succeeded" {
		t.Errorf("tune get experiments: exit %d, %v: %s%s; want %s Succeeded", code, err, out, errOut, inPodExpName)
	}
	t.Logf("%s: %d tune pods, %s in all; the last one's output:\n%s", mode, len(ran), time.Since(start).Round(time.Millisecond), logText(last.Log))
}

// checkTunePod checks that pod, tune's as the Job controller created it
// and the apiserver admitted it, has the service account's projected
// volume (a bound token, kube-root-ca.crt, the namespace) at the standard
// path, and that argv, as the runner ran it, is the Job's: tune run of the
// ConfigMap's experiment with its store on the claim's volume (db).
func checkTunePod(t *testing.T, pod *corev1.Pod, argv []string, db string) {
	t.Helper()
	if pod.Spec.ServiceAccountName != serviceAccountTune {
		t.Errorf("tune pod %s runs as service account %q, want %q", pod.Name, pod.Spec.ServiceAccountName, serviceAccountTune)
	}
	ct := pod.Spec.Containers[0]
	i := slices.IndexFunc(ct.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == saTokenMountAt })
	if i < 0 {
		t.Errorf("tune pod %s mounts %+v; want the service account's volume at %s", pod.Name, ct.VolumeMounts, saTokenMountAt)
		return
	}
	vi := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == ct.VolumeMounts[i].Name })
	if vi < 0 || pod.Spec.Volumes[vi].Projected == nil || !slices.ContainsFunc(pod.Spec.Volumes[vi].Projected.Sources, func(s corev1.VolumeProjection) bool {
		return s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == "token"
	}) {
		t.Errorf("tune pod %s: volume %s is not the projected service account token", pod.Name, ct.VolumeMounts[i].Name)
	}
	want := []string{tuneBin, "run", "<dir>/experiment.yaml", "--executor", "kubernetes", "--store", db, "--on-terminate", "detach"}
	if len(argv) != len(want) || argv[0] != tuneBin || !slices.Equal(argv[3:], want[3:]) || filepath.Base(argv[2]) != "experiment.yaml" {
		t.Errorf("tune pod %s ran %q; want %q", pod.Name, argv, want)
	}
}

// runTuneStore runs tune with args on the store file db.
func runTuneStore(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	return runTune(t, filepath.Dir(db), args...)
}

// logText returns lines as text, one a line.
func logText(lines []logLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  %s: %s\n", l.stream, l.text)
	}
	return b.String()
}
