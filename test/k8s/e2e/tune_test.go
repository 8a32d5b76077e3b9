//go:build k8se2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tune-hpo/tune/internal/testutil"
)

// tuneBin is the tune binary under test, built by TestMain.
var tuneBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tune-k8s-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tuneBin = filepath.Join(dir, "tune")
	if err := testutil.Build(map[string]string{tuneBin: "github.com/tune-hpo/tune/cmd/tune"}, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cluster holds the clients of the stack e2e.sh started.
type cluster struct {
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	logsDir string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	kc := os.Getenv("KUBECONFIG")
	run := os.Getenv("TUNE_K8S_RUNDIR")
	if kc == "" || run == "" {
		t.Fatal("KUBECONFIG and TUNE_K8S_RUNDIR are not set; run the suite with test/k8s/e2e.sh")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 200, 400 // the fake kubelet serves up to 20 pods at once
	c := &cluster{logsDir: filepath.Join(run, "pod-logs")}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return c
}

// namespace creates a fresh namespace for one test and deletes it after.
func (c *cluster) namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}
	ns, err := c.kube.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.kube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

var logsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// fakeKubelet plays the training program of every trial pod in ns: for a
// pod held with the tune.test/hold annotation it writes the log the
// program would print, derived from the pod's --x and --y arguments
// (loss = (x−1)² + (y+2)², as the local tests' trial program), serves it
// through a kwok Logs object, waits until the apiserver returns it, and
// releases the pod, which kwok then completes. It runs until the test ends.
func (c *cluster) fakeKubelet(t *testing.T, ns string) {
	c.onHeldPods(t, ns, "app.kubernetes.io/managed-by=tune", false, "fake kubelet", c.serveTrialLog)
}

// onHeldPods calls handle, on a goroutine of its own, once for each pod of
// ns matching selector that carries the tune.test/hold annotation (and,
// with running, is Running), re-establishing its watch as needed, until the
// test ends. Errors fail the test under the name who.
func (c *cluster) onHeldPods(t *testing.T, ns, selector string, running bool, who string, handle func(context.Context, *corev1.Pod) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	done := map[string]bool{}
	wg.Go(func() {
		for ctx.Err() == nil {
			w, err := c.kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				pod, ok := ev.Object.(*corev1.Pod)
				if !ok || ev.Type == watch.Deleted || done[pod.Name] || pod.Annotations["tune.test/hold"] == "" || running && pod.Status.Phase != corev1.PodRunning {
					continue
				}
				done[pod.Name] = true
				wg.Go(func() {
					if err := handle(ctx, pod); err != nil && ctx.Err() == nil {
						t.Errorf("%s, pod %s: %v", who, pod.Name, err)
					}
				})
			}
			w.Stop()
		}
	})
}

// trialLoss is the loss the trial program reports for a container's
// --x and --y arguments: (x−1)² + (y+2)².
func trialLoss(args []string) float64 {
	var x, y float64
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--x="); ok {
			x, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(a, "--y="); ok {
			y, _ = strconv.ParseFloat(v, 64)
		}
	}
	return (x-1)*(x-1) + (y+2)*(y+2)
}

func (c *cluster) serveTrialLog(ctx context.Context, pod *corev1.Pod) error {
	loss := trialLoss(pod.Spec.Containers[0].Args)
	var b strings.Builder
	for e := 1; e <= 3; e++ {
		fmt.Fprintf(&b, "epoch %d: loss=%g\n", e, loss+float64(3-e))
	}
	if err := c.serveLog(ctx, pod, "", b.String(), fmt.Sprintf("loss=%g", loss)); err != nil {
		return err
	}
	return c.release(ctx, pod)
}

// serveLog makes kwok serve log (lines) as the log of pod's container (""
// for all of them), through a kwok Logs object and a CRI-format file, and
// waits until pods/log returns a text holding want.
func (c *cluster) serveLog(ctx context.Context, pod *corev1.Pod, container, log, want string) error {
	var lines []logLine
	for line := range strings.Lines(log) {
		lines = append(lines, logLine{"stdout", strings.TrimSuffix(line, "\n")})
	}
	return c.serveCRILog(ctx, pod, container, lines, want)
}

// serveCRILog is serveLog for lines tagged with their stream (stdout or
// stderr).
func (c *cluster) serveCRILog(ctx context.Context, pod *corev1.Pod, container string, lines []logLine, want string) error {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	var b bytes.Buffer
	for _, line := range lines {
		fmt.Fprintf(&b, "%s %s F %s\n", now, line.stream, line.text)
	}
	file := filepath.Join(c.logsDir, pod.Namespace+"_"+pod.Name+".log")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		return err
	}
	entry := map[string]any{"logsFile": file}
	if container != "" {
		entry["containers"] = []any{container}
	}
	logs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace},
		"spec":     map[string]any{"logs": []any{entry}},
	}}
	if err := retry(ctx, func() error {
		_, err := c.dyn.Resource(logsGVR).Namespace(pod.Namespace).Create(ctx, logs, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // created by an attempt whose answer was lost (apiserver restart)
		}
		return err
	}); err != nil {
		return fmt.Errorf("create Logs: %w", err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; {
		p, err := c.kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			out, err := c.kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
			if err == nil && bytes.Contains(out, []byte(want)) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kwok never served the log of %s", pod.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// release removes the tune.test/hold annotation of pod, so that kwok
// completes it.
func (c *cluster) release(ctx context.Context, pod *corev1.Pod) error {
	patch := []byte(`[{"op":"remove","path":"/metadata/annotations/tune.test~1hold"}]`)
	return retry(ctx, func() error {
		_, err := c.kube.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
		return err
	})
}

// retry calls fn until it succeeds, for up to a minute: the fake kubelet
// must ride out an apiserver restart as a real one does.
func retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// jobExperiment is a Katib Job experiment over x and y whose trials ask for
// gpus GPUs on the GPU nodes, held for the fake kubelet; extra is appended
// to the pod template's annotations.
func jobExperiment(name, ns string, parallel, max, maxFailed int, gpus int, annotations string) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
  namespace: %s
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
    algorithmSettings:
      - {name: random_state, value: "3"}
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: %d
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        backoffLimit: 0
        template:
          metadata:
            annotations: {tune.test/hold: "true"%s}
          spec:
            restartPolicy: Never
            nodeSelector: {tune.test/gpu: "true"}
            containers:
              - name: main
                image: example.invalid/train:1
                command: [train]
                args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]
                resources:
                  limits: {nvidia.com/gpu: "%d"}
`, name, ns, parallel, max, maxFailed, annotations, gpus)
}

// writeExperiment writes experiment YAML y into dir and returns its path.
func writeExperiment(t *testing.T, dir, y string) string {
	t.Helper()
	file := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// runTune runs the tune binary with a store in dir and returns its exit
// code and output.
func runTune(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(tuneBin, append([]string{"--store", filepath.Join(dir, "tune.db")}, args...)...)
	cmd.Dir = dir
	return testutil.Run(t, cmd)
}

type jsonTrial struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Reason     string             `json:"reason"`
	Message    string             `json:"message"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
}

func trials(t *testing.T, dir, exp string) []jsonTrial {
	t.Helper()
	code, out, errOut := runTune(t, dir, "get", "trials", exp, "-o", "json")
	if code != 0 {
		t.Fatalf("tune get trials: exit %d: %s", code, errOut)
	}
	var ts []jsonTrial
	if err := json.Unmarshal([]byte(out), &ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// placement is where the scheduler put a pod, and whether the pod
// tolerates the GPU nodes' taint.
type placement struct {
	node          string
	toleratesGPUs bool
}

// recordPlacements watches the pods of ns until the test ends and
// returns a function listing where each pod that got a node was placed,
// by pod name.
func (c *cluster) recordPlacements(t *testing.T, ns string) func() map[string]placement {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	seen := map[string]placement{}
	wg := watchAlways(ctx, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		return c.kube.CoreV1().Pods(ns).Watch(ctx, opts)
	}, func(ev watch.Event) {
		p, isPod := ev.Object.(*corev1.Pod)
		if !isPod || p.Spec.NodeName == "" {
			return
		}
		tolerates := slices.ContainsFunc(p.Spec.Tolerations, func(tl corev1.Toleration) bool {
			return tl.Key == "nvidia.com/gpu" && tl.Operator == corev1.TolerationOpExists && (tl.Effect == "" || tl.Effect == corev1.TaintEffectNoSchedule)
		})
		mu.Lock()
		seen[p.Name] = placement{p.Spec.NodeName, tolerates}
		mu.Unlock()
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return func() map[string]placement {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

// watchAlways calls open for a watch, from the start, and hands each of
// its events to handle, on a goroutine of its own, until ctx is done: when
// the API server ends the watch (its timeout, or a consumer too slow for
// its cache, which a loaded machine makes likely), it is opened again from
// the last resource version seen, so that no event is lost, or from the
// start when that version has expired (the objects are then replayed as
// Added). The returned group is done once the goroutine has returned.
func watchAlways(ctx context.Context, open func(context.Context, metav1.ListOptions) (watch.Interface, error), handle func(watch.Event)) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		rv := ""
		for ctx.Err() == nil {
			w, err := open(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					rv = ""
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				if ev.Type == watch.Error {
					if st := apierrors.FromObject(ev.Object); apierrors.IsResourceExpired(st) || apierrors.IsGone(st) {
						rv = ""
					}
					break
				}
				if m, err := meta.Accessor(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
				if ev.Type != watch.Bookmark {
					handle(ev)
				}
			}
			w.Stop()
		}
	})
	return &wg
}

// gpuNodes returns the names of the nodes labelled tune.test/gpu.
func (c *cluster) gpuNodes(t *testing.T) map[string]bool {
	t.Helper()
	nodes, err := c.kube.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{LabelSelector: "tune.test/gpu=true"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range nodes.Items {
		out[n.Name] = true
	}
	if len(out) != 2 {
		t.Fatalf("GPU nodes %v, want 2", out)
	}
	return out
}

// TestJobExperimentOnGPUNodes runs a Katib Job experiment, three trials at a
// time, on the fake GPU nodes: every trial's pod is placed on a GPU node
// (tainted nvidia.com/gpu NoSchedule; the trial template has no
// toleration, the apiserver's ExtendedResourceToleration adds it to pods
// requesting GPUs), its metrics arrive from the pod's log through
// pods/log, and the Jobs are deleted when their trials end.
func TestJobExperimentOnGPUNodes(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	placed := c.recordPlacements(t, ns)
	c.fakeKubelet(t, ns)

	dir := t.TempDir()
	file := writeExperiment(t, dir, jobExperiment("gpu-jobs", ns, 3, 6, 1, 1, ""))
	start := time.Now()
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("6 trials in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
	ts := trials(t, dir, "gpu-jobs")
	if len(ts) != 6 {
		t.Fatalf("%d trials, want 6", len(ts))
	}
	for _, tr := range ts {
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		want := (x-1)*(x-1) + (y+2)*(y+2)
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
			t.Errorf("%s: %s, loss %v; want Succeeded with loss %v from its pod's log", tr.Name, tr.Status, tr.Metrics["loss"], want)
		}
	}
	jobs, err := c.kube.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "katib.kubeflow.org/experiment=gpu-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			t.Errorf("job %s was not deleted after its trial ended", j.Name)
		}
	}
	gpu := c.gpuNodes(t)
	pods := placed()
	if len(pods) != 6 {
		t.Errorf("%d trial pods placed, want 6: %v", len(pods), pods)
	}
	for pod, p := range pods {
		if !gpu[p.node] || !p.toleratesGPUs {
			t.Errorf("pod %s on node %s (a GPU node: %v), tolerating nvidia.com/gpu: %v; want a GPU node, the toleration added by the apiserver", pod, p.node, gpu[p.node], p.toleratesGPUs)
		}
	}
}

// TestUnschedulableTrialFails asks for more GPUs than any node has: the
// trial is reported Unschedulable with the scheduler's message (in tune
// run's output when first seen) and fails, and maxFailedTrialCount ends
// the experiment.
func TestUnschedulableTrialFails(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	dir := t.TempDir()
	file := writeExperiment(t, dir, jobExperiment("too-big", ns, 1, 3, 1, 99, ""))
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--unschedulable-timeout", "3s", file)
	if code != 1 {
		t.Fatalf("tune run: exit %d, want 1 (experiment Failed)\n%s%s", code, out, errOut)
	}
	ts := trials(t, dir, "too-big")
	if len(ts) != 1 || ts[0].Status != "Failed" || ts[0].Reason != "Unschedulable" || !strings.Contains(ts[0].Message, "Insufficient nvidia.com/gpu") {
		t.Fatalf("trials %+v; want one Failed/Unschedulable naming Insufficient nvidia.com/gpu", ts)
	}
	// tune run said so when it was first seen, before the trial failed,
	// with the scheduler's message.
	seen := strings.Index(errOut, "[0/3] trial too-big-0001 Unschedulable: "+ts[0].Message+"\n")
	failed := strings.Index(errOut, "trial too-big-0001 Failed: ")
	if seen < 0 || failed < 0 || seen > failed {
		t.Errorf("tune run's output has no line with the scheduler's message before the Failed one:\n%s", errOut)
	}
}

// TestFailingPodFailsTrial makes every pod fail (exit code 1): the trials
// are Failed and the experiment fails on maxFailedTrialCount.
func TestFailingPodFailsTrial(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	dir := t.TempDir()
	// Without the hold the fake kubelet leaves these pods alone, and the
	// fail annotation makes kwok fail them.
	file := writeExperiment(t, dir, strings.Replace(jobExperiment("failing", ns, 2, 4, 2, 1, ""), `{tune.test/hold: "true"}`, `{tune.test/fail: "true"}`, 1))
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 1 || !strings.Contains(out, "Failed (ExperimentMaxFailedTrialsReached)") {
		t.Fatalf("tune run: exit %d, want 1 with the experiment Failed\n%s%s", code, out, errOut)
	}
	failed := 0
	for _, tr := range trials(t, dir, "failing") {
		switch {
		case tr.Status == "Failed":
			failed++
		case tr.Status == "Killed" && tr.Reason == "TrialInterrupted":
			// Started before the second failure ended the experiment.
		default:
			t.Errorf("%s: %s/%s (%s), want Failed, or Killed when the experiment ended", tr.Name, tr.Status, tr.Reason, tr.Message)
		}
	}
	if failed != 2 {
		t.Errorf("%d trials Failed, want 2 (maxFailedTrialCount)", failed)
	}
}

// startTune starts tune run in the background and returns the command.
func startTune(t *testing.T, dir string, args ...string) (*exec.Cmd, *testutil.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(tuneBin, append([]string{"--store", filepath.Join(dir, "tune.db")}, args...)...)
	cmd.Dir = dir
	// Safe to read while tune still writes to it (TestAPIServerRestart).
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &out
}

// waitRunningPods waits until n trial pods of ns are Running.
func (c *cluster) waitRunningPods(t *testing.T, ns string, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		pods, err := c.kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tune"})
		running := 0
		if err == nil {
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
		}
		if running >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d trial pods Running in %s, want %d", running, ns, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// liveJobs returns the names of the trial Jobs of ns not being deleted.
func (c *cluster) liveJobs(t *testing.T, ns string) []string {
	t.Helper()
	jobs, err := c.kube.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tune"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			names = append(names, j.Name)
		}
	}
	return names
}

// TestInterruptDeletesRunningTrials presses Ctrl-C while two trials run:
// their Jobs are deleted and the experiment is Stopped.
func TestInterruptDeletesRunningTrials(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	dir := t.TempDir()
	// Held pods and no fake kubelet: the trials run until stopped.
	file := writeExperiment(t, dir, jobExperiment("stopme", ns, 2, 4, 1, 1, ""))
	cmd, out := startTune(t, dir, "run", "--executor", "kubernetes", file)
	c.waitRunningPods(t, ns, 2)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after Ctrl-C: %v, want exit 130\n%s", err, out)
	}
	if live := c.liveJobs(t, ns); len(live) != 0 {
		t.Errorf("Jobs left after Ctrl-C: %v", live)
	}
	for _, tr := range trials(t, dir, "stopme") {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s, want Killed", tr.Name, tr.Status)
		}
	}
}

// TestResumeReattaches kills tune run with SIGKILL while two trials run,
// then resumes: the running trials' Jobs are followed again, not created
// anew (every Job the resume touches has the UID of one from before it),
// and their metrics arrive.
func TestResumeReattaches(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	dir := t.TempDir()
	file := writeExperiment(t, dir, jobExperiment("reattach", ns, 2, 2, 1, 1, ""))
	cmd, _ := startTune(t, dir, "run", "--executor", "kubernetes", file)
	c.waitRunningPods(t, ns, 2)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	jobs, err := c.kube.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := map[types.UID]string{}
	for _, j := range jobs.Items {
		before[j.UID] = j.Name
	}
	if len(before) != 2 {
		t.Fatalf("Jobs after the kill: %v, want 2", before)
	}
	// Every Job the resume touches or creates, from the list on: the same
	// two, by UID, or a Job was replaced.
	w, err := c.kube.BatchV1().Jobs(ns).Watch(t.Context(), metav1.ListOptions{ResourceVersion: jobs.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	after := map[types.UID]string{}
	var watched sync.WaitGroup
	watched.Go(func() {
		for ev := range w.ResultChan() {
			if j, ok := ev.Object.(*batchv1.Job); ok {
				after[j.UID] = j.Name
			}
		}
	})
	// The Jobs outlive the runner; now let their pods finish.
	c.fakeKubelet(t, ns)
	code, out, errOut := runTune(t, dir, "resume", "--executor", "kubernetes", "reattach")
	if code != 0 {
		t.Fatalf("tune resume: exit %d\n%s%s", code, out, errOut)
	}
	// The Jobs' deletion, when their trials ended, is the watch's last news.
	for deadline := time.Now().Add(30 * time.Second); len(c.liveJobs(t, ns)) > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Jobs left after the resume: %v", c.liveJobs(t, ns))
		}
	}
	w.Stop()
	watched.Wait()
	if !maps.Equal(after, before) {
		t.Errorf("Jobs seen during the resume %v, want the same two as before it %v (same UIDs: re-attached, not re-created)", after, before)
	}
	ts := trials(t, dir, "reattach")
	if len(ts) != 2 {
		t.Fatalf("%d trials after resume, want the same 2 (re-attached, not replaced): %+v", len(ts), ts)
	}
	for _, tr := range ts {
		if tr.Status != "Succeeded" || tr.Metrics["loss"] == 0 {
			t.Errorf("%s: %s with %v, want Succeeded with its loss", tr.Name, tr.Status, tr.Metrics)
		}
	}
}

var taskResultGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflowtaskresults"}

// TestWorkflowTrialOutputs runs trials that are 2-step Argo DAG Workflows
// (the shape of a compiled pipeline) through the real workflow-controller,
// each step a real process (the step runner) writing its own loss to the
// file of its output parameter (prepare L+1, train L): the trials succeed
// with both values recorded from the Workflow's status (tune export:
// count 2, max prepare's, min train's) and the loss the metric's strategy
// (min, Katib's default for minimize) picks, train's.
func TestWorkflowTrialOutputs(t *testing.T) {
	c := newCluster(t)
	const ns = "argo" // the namespace the workflow-controller watches
	steps := c.runSteps(t, ns)
	name := fmt.Sprintf("wf-%d", time.Now().Unix()%100000)
	y := lossWorkflowExperiment(name, ns, 9, fmt.Sprintf(`        entrypoint: main
        templates:
          - name: main
            dag:
              tasks:
                - name: prepare
                  template: step
                  arguments: {parameters: [{name: add, value: "1"}]}
                - name: train
                  template: step
                  dependencies: [prepare]
                  arguments: {parameters: [{name: add, value: "0"}]}
          - name: step
            inputs:
              parameters: [{name: add}]
            container:
              image: example.invalid/train:1
              command: [%s, loss]
              args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}", "--add={{inputs.parameters.add}}", --loss-out, /tmp/loss]
            outputs:
              parameters:
                - {name: loss, valueFrom: {path: /tmp/loss}}
`, pipestep(t)))
	dir := t.TempDir()
	file := writeExperiment(t, dir, y)
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	ts := trials(t, dir, name)
	if len(ts) != 2 {
		t.Fatalf("%d trials, want 2", len(ts))
	}
	code, out, errOut = runTune(t, dir, "export", name, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("tune export: exit %d: %s", code, errOut)
	}
	rows := map[string]map[string]any{}
	for line := range strings.Lines(out) {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("tune export: %v: %q", err, line)
		}
		trial, _ := row["trial"].(string)
		rows[trial] = row
	}
	for _, tr := range ts {
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		yv, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		train := (x-1)*(x-1) + (yv+2)*(yv+2)
		prepare := (x-1)*(x-1) + (yv+2)*(yv+2) + 1
		if tr.Status != "Succeeded" || tr.Metrics["loss"] != train {
			t.Errorf("%s: %s (%s), loss %v; want Succeeded with loss %v, train's (prepare reported %v; the strategy is min)", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], train, prepare)
		}
		row := rows[tr.Name]
		if row["loss.min"] != train || row["loss.max"] != prepare || row["loss.count"] != 2.0 {
			t.Errorf("%s: loss min %v, max %v, count %v; want each step's value once: train's %v and prepare's %v", tr.Name, row["loss.min"], row["loss.max"], row["loss.count"], train, prepare)
		}
	}
	if n := len(steps.ran()); n != 4 {
		t.Errorf("the step runner ran %d steps, want 4 (2 trials × 2 steps)", n)
	}
}

// restartAPIServer stops the stack's kube-apiserver and starts it again
// with the same command line, as a control-plane upgrade or crash would,
// and waits until it serves again. It starts the new one only once the
// old one is gone (no /proc entry) or no longer holds its port, and
// starts it again when it exits before serving (a loaded machine may
// still be releasing the port), up to 5 times.
func (c *cluster) restartAPIServer(t *testing.T) {
	t.Helper()
	run := os.Getenv("TUNE_K8S_RUNDIR")
	pidFile := filepath.Join(run, "pids", "kube-apiserver.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	addr := net.JoinHostPort(flagValue(args, "--bind-address", "127.0.0.1"), flagValue(args, "--secure-port", "6443"))
	proc, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL: a crash. (A graceful stop waits for every open watch and log
	// stream to drain, which takes a minute.)
	_ = proc.Kill()
	// The process's main thread turns zombie (Z) before its other threads
	// have exited and closed the listening socket: wait for the process to
	// be gone or its port free.
	gone := func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		return errors.Is(err, fs.ErrNotExist)
	}
	c.waitFor(t, 60*time.Second, "the killed kube-apiserver to release "+addr, func() bool { return gone() || bindable(addr) })
	logf, err := os.OpenFile(filepath.Join(run, "logs", "kube-apiserver.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }() // reaps it, whenever it ends
		var exitErr error
		early := false
		c.waitFor(t, 90*time.Second, "kube-apiserver to serve again", func() bool {
			select {
			case exitErr = <-exited:
				early = true
				return true
			default:
			}
			_, err := c.kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(t.Context())
			return err == nil
		})
		if !early {
			if attempt > 1 {
				t.Logf("kube-apiserver serving again after %d starts", attempt)
			}
			return
		}
		if attempt == 5 {
			t.Fatalf("kube-apiserver exited before serving, 5 times (last: %v); see %s", exitErr, logf.Name())
		}
		t.Logf("kube-apiserver (start %d) exited before serving: %v; starting it again once %s is free", attempt, exitErr, addr)
		c.waitFor(t, 60*time.Second, addr+" to be free", func() bool { return bindable(addr) })
	}
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// timeout.
func (c *cluster) waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
	}
}

// flagValue returns the value of --name=value in args, else def.
func flagValue(args []string, name, def string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return def
}

// bindable reports whether a listener can be opened on addr now (as the
// apiserver opens its own, with SO_REUSEADDR, as Go does).
func bindable(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// TestAPIServerRestart restarts the apiserver in the middle of an
// experiment: tune's watches and log streams recover and the experiment
// completes with every trial's metrics.
func TestAPIServerRestart(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	c.fakeKubelet(t, ns)
	dir := t.TempDir()
	file := writeExperiment(t, dir, jobExperiment("restart", ns, 2, 6, 1, 1, ""))
	cmd, out := startTune(t, dir, "run", "--executor", "kubernetes", file)
	// Restart once the first trials have run.
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), "Succeeded"); {
		if time.Now().After(deadline) {
			t.Fatalf("no trial finished before the restart:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.restartAPIServer(t)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tune run after the apiserver restart: %v\n%s", err, out)
		}
	case <-time.After(4 * time.Minute):
		t.Fatalf("tune run did not finish after the apiserver restart:\n%s", out)
	}
	ts := trials(t, dir, "restart")
	for _, tr := range ts {
		if tr.Status != "Succeeded" || tr.Metrics["loss"] == 0 {
			t.Errorf("%s: %s (%s) with %v, want Succeeded with its loss", tr.Name, tr.Status, tr.Message, tr.Metrics)
		}
	}
	if len(ts) != 6 {
		t.Errorf("%d trials, want 6", len(ts))
	}
}

// lossWorkflowExperiment returns an experiment in namespace ns minimising
// loss over x in [-2, 4] and y in [-5, 1] by random search seeded with
// seed, two trials two at a time, whose trials are the Argo Workflow with
// spec (its spec's lines, indented by 8 spaces), judged by the conditions
// of Katib's Argo example.
func lossWorkflowExperiment(name, ns string, seed int, spec string) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %s, namespace: %s}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "%d"}]
  parallelTrialCount: 2
  maxTrialCount: 2
  maxFailedTrialCount: 1
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
%s`, name, ns, seed, spec)
}
