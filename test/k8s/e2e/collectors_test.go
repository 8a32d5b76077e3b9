//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/internal/testutil"
)

// collectorImage is the image the collector tests give tune with
// --collector-image: the pod runner runs init containers of this image
// with tune resolved to the binary under test.
const collectorImage = "example.invalid/tune-collector:e2e"

// podRunner stands in for the kubelet of every held trial pod of one
// namespace, for Job trials whose primary container runs tune's metrics
// collector (the File, TensorFlowEvent, PrometheusMetric and Push
// collectors): it runs the pod's containers as host processes, as
// Kubernetes would run them, so that what reaches tune is what tune's
// collector in a real pod writes.
//
//   - Volumes: each emptyDir volume of the pod is a fresh host directory,
//     one per (pod, volume), shared by every container mounting it; a
//     hostPath volume is its path; other volumes (the service account's
//     projected token) are left out. Host directories are short paths
//     under /tmp, so that a Unix socket in one stays under the 108-byte
//     limit of its path.
//   - Container paths: a host process cannot have mounts of its own, so
//     each container path of a container's volume mounts is rewritten to
//     its host directory (pathMap, at path boundaries, longest first) in
//     the container's argv, env values and workingDir: inside the JSON of
//     `tune collector run --config` too. A readOnly mount is a read-only
//     bind mount of the volume's directory (the suite runs in a mount
//     namespace of its own, as root), so that a write there fails with
//     EROFS as in a real container.
//   - Init containers run first, in order, each to its end; only those of
//     collectorImage can run (tune is on that image's PATH: argv[0]
//     "tune" is the binary under test); any other image, or a non-zero
//     exit, is an error of the runner, which fails the pod (phase
//     Failed, main terminated with exit code 128, reason StartError, the
//     error as the message).
//   - The primary container (the pod's only container) runs argv =
//     command then args, $(VAR) expanded from its env as the kubelet does,
//     never through a shell, with its env over PATH, HOME, TMPDIR and GO*
//     of this process (standing in for the image's), in its workingDir or
//     the pod's host directory.
//   - Logs: its stdout and stderr, interleaved as written and tagged with
//     their stream, are the pod's log, served through kwok (serveCRILog)
//     once it has exited.
//   - Exit: 0 releases the pod and kwok completes it; otherwise the pod
//     is Failed with container main terminated with the exit code
//     (failPod), then released. A pod deleted while its process runs has
//     it sent SIGTERM, then SIGKILL after 5 s, and nothing is reported
//     (ran lists it with Deleted set).
//
// Not modelled: resources, probes, the image's own entrypoint (tune gives
// the primary container a command), restarts.
type podRunner struct {
	c    *cluster
	root string
	n    atomic.Int32

	active atomic.Int32 // primary containers running
	mu     sync.Mutex
	runs   []podRun
	live   map[*processLog]bool // the output of the primary containers running
}

// podRun is one pod the runner ran.
type podRun struct {
	Pod      *corev1.Pod // as the runner got it
	Argv     []string    // the primary container's, as run (host paths)
	ExitCode int
	Log      []logLine
	Deleted  bool // the pod was deleted while its primary container ran
}

// runPods starts a podRunner for the held trial pods of ns; it runs until
// the test ends.
func (c *cluster) runPods(t *testing.T, ns string) *podRunner {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "tc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	r := &podRunner{c: c, root: root}
	c.onHeldPods(t, ns, "app.kubernetes.io/managed-by=tune", true, "pod runner", r.run)
	return r
}

// running returns how many primary containers run now.
func (r *podRunner) running() int { return int(r.active.Load()) }

// printed returns how many running primary containers have printed a line
// holding text to stdout.
func (r *podRunner) printed(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for l := range r.live {
		if strings.Contains(l.stdout(), text) {
			n++
		}
	}
	return n
}

// ran returns the pods run so far, in the order they ended.
func (r *podRunner) ran() []podRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

// run runs pod. When the runner itself fails, it fails the pod (exit code
// 128, reason StartError, the runner's error as the message), so that the
// Job and the test end.
func (r *podRunner) run(ctx context.Context, pod *corev1.Pod) error {
	err := r.runPod(ctx, pod)
	if err != nil && ctx.Err() == nil {
		if ferr := r.c.failPod(ctx, pod, 128, "StartError", "pod runner: "+err.Error(), nil); ferr == nil {
			_ = r.c.release(ctx, pod)
		}
	}
	return err
}

func (r *podRunner) runPod(ctx context.Context, pod *corev1.Pod) error {
	if len(pod.Spec.Containers) != 1 {
		return fmt.Errorf("%d containers, want 1", len(pod.Spec.Containers))
	}
	dir := filepath.Join(r.root, strconv.Itoa(int(r.n.Add(1))))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	// emptyDir semantics: one directory per volume of this pod.
	volumes := map[string]string{}
	for i, v := range pod.Spec.Volumes {
		switch {
		case v.EmptyDir != nil:
			host := filepath.Join(dir, "v"+strconv.Itoa(i))
			if err := os.Mkdir(host, 0o777); err != nil {
				return err
			}
			volumes[v.Name] = host
		case v.HostPath != nil:
			volumes[v.Name] = v.HostPath.Path
		}
	}
	var mounted []string
	defer func() {
		for _, m := range slices.Backward(mounted) {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}()
	// paths maps ct's mounts to host directories; a readOnly mount is a
	// read-only bind mount of its volume's directory.
	paths := func(ct *corev1.Container) (*pathMap, error) {
		var m pathMap
		for _, vm := range ct.VolumeMounts {
			host, ok := volumes[vm.Name]
			if !ok {
				continue
			}
			host = filepath.Join(host, vm.SubPath)
			if vm.ReadOnly {
				ro := filepath.Join(dir, "ro"+strconv.Itoa(len(mounted)))
				if err := os.Mkdir(ro, 0o755); err != nil {
					return nil, err
				}
				if err := syscall.Mount(host, ro, "", syscall.MS_BIND, ""); err != nil {
					return nil, fmt.Errorf("read-only mount %s: bind %s: %w", vm.MountPath, host, err)
				}
				mounted = append(mounted, ro)
				if err := syscall.Mount("", ro, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
					return nil, fmt.Errorf("read-only mount %s: remount read-only: %w", vm.MountPath, err)
				}
				host = ro
			}
			m.add(vm.MountPath, host)
		}
		return &m, nil
	}
	// command returns ct's argv and environment as the kubelet composes
	// them, container paths rewritten.
	command := func(ct *corev1.Container) (argv, env []string, cwd string, err error) {
		m, err := paths(ct)
		if err != nil {
			return nil, nil, "", err
		}
		env, vars, err := containerEnvironment(pod, ct, m)
		if err != nil {
			return nil, nil, "", err
		}
		for _, a := range append(slices.Clone(ct.Command), ct.Args...) {
			argv = append(argv, m.rewrite(expandVars(a, vars)))
		}
		if len(argv) == 0 {
			return nil, nil, "", fmt.Errorf("container %s has no command (the runner cannot read an image's entrypoint)", ct.Name)
		}
		cwd = dir
		if ct.WorkingDir != "" {
			cwd = m.rewrite(ct.WorkingDir)
		}
		return argv, env, cwd, nil
	}

	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if ic.Image != collectorImage {
			return fmt.Errorf("init container %s: image %s: the pod runner runs only %s", ic.Name, ic.Image, collectorImage)
		}
		argv, env, cwd, err := command(ic)
		if err != nil {
			return err
		}
		if argv[0] == "tune" {
			argv[0] = tuneBin // on the image's PATH
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env, cmd.Dir = env, cwd
		if out, err := cmd.CombinedOutput(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("init container %s (%q): %v: %s", ic.Name, argv, err, out)
		}
	}

	main := &pod.Spec.Containers[0]
	argv, env, cwd, err := command(main)
	if err != nil {
		return err
	}
	// A deleted pod's process gets SIGTERM, then SIGKILL after a grace
	// period, and nothing is reported.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var deleted atomic.Bool
	go func() {
		if r.c.waitDeleted(runCtx, pod) {
			deleted.Store(true)
			stop()
		}
	}()
	var log processLog
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = cwd, env
	cmd.Stdout, cmd.Stderr = log.stream("stdout"), log.stream("stderr")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	exit, reason, msg := 0, "Completed", ""
	err = cmd.Start()
	if err == nil {
		r.mu.Lock()
		if r.live == nil {
			r.live = map[*processLog]bool{}
		}
		r.live[&log] = true
		r.mu.Unlock()
		r.active.Add(1)
		err = cmd.Wait()
		r.active.Add(-1)
		r.mu.Lock()
		delete(r.live, &log)
		r.mu.Unlock()
	}
	switch {
	case err == nil:
	case errors.As(err, new(*exec.ExitError)):
		exit, reason = exitCode(cmd), "Error"
	default:
		exit, reason, msg = 128, "StartError", err.Error()
	}
	lines := log.lines()
	if ctx.Err() != nil && !deleted.Load() {
		return nil // the test ended
	}
	r.mu.Lock()
	r.runs = append(r.runs, podRun{Pod: pod.DeepCopy(), Argv: argv, ExitCode: exit, Log: lines, Deleted: deleted.Load()})
	r.mu.Unlock()
	if deleted.Load() {
		return nil
	}
	stop()
	if len(lines) > 0 {
		if err := r.c.serveCRILog(ctx, pod, "", lines, lines[len(lines)-1].text); err != nil {
			return err
		}
	}
	if exit != 0 {
		if err := r.c.failPod(ctx, pod, exit, reason, msg, nil); err != nil {
			return err
		}
	}
	return r.c.release(ctx, pod)
}

// collectTrain builds testdata/collecttrain once per test binary.
var collectTrain = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tune-k8s-e2e-collecttrain-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "collecttrain")
	return bin, testutil.Build(map[string]string{bin: "./testdata/collecttrain"}, false)
})

// collectorExperiment is a Job experiment over x and y, parallel trials at
// a time, max in all (maxFailedTrialCount 1), whose metricsCollectorSpec
// is spec (its lines, indented by 4) and whose pods, held for the pod
// runner, run prog with command [prog, to...] and args --x, --y and
// extra; with own, the pod has an emptyDir volume of its own, metrics,
// mounted there.
func collectorExperiment(name, ns string, parallel, max int, spec, prog string, to, extra []string, own string) string {
	q := func(ss []string) string {
		var out []string
		for _, s := range ss {
			out = append(out, strconv.Quote(s))
		}
		return strings.Join(out, ", ")
	}
	args := append([]string{"--x=${trialParameters.x}", "--y=${trialParameters.y}"}, extra...)
	volume := ""
	if own != "" {
		volume = fmt.Sprintf("                volumeMounts: [{name: metrics, mountPath: %s}]\n            volumes: [{name: metrics, emptyDir: {}}]\n", own)
	}
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %s, namespace: %s}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "5"}]
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: 1
  metricsCollectorSpec:
%s
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
            annotations: {tune.test/hold: "true"}
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: example.invalid/train:1
                command: [%s]
                args: [%s]
%s`, name, ns, parallel, max, spec, q(append([]string{prog}, to...)), q(args), volume)
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCollectors runs a Job experiment per collector that reads more than
// the trial's output (File in TEXT and JSON, TensorFlowEvent,
// PrometheusMetric, Push) with --collector-image, each trial pod run for
// real by the pod runner: tune's init container installs tune into the
// pod, tune's collector runs the training program (collecttrain) as its
// child in the primary container and forwards what it reads through the
// container's log. Every trial Succeeded with the loss computed here from
// its parameters (each epoch's value once: none from the decoy
// loss=-999 the program prints to stdout), its pod had the init container
// of the image given and the wrapped command, and its log (tune logs)
// holds the program's own lines and none of the collector's. A program
// exiting 3 under the collector fails its trial with exit code 3; Ctrl-C
// stops the programs through the collector (testCollectorInterrupt).
func TestCollectors(t *testing.T) {
	c := newCluster(t)
	prog, err := collectTrain()
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(v float64) float64 { return float64(float32(v)) }
	exact := func(v float64) float64 { return v }
	cases := []struct {
		name, kind string
		spec       string
		to, extra  []string
		parallel   int
		// path is the collector's path in the pod's --config (File,
		// TensorFlowEvent); own is where the template mounts a volume of
		// its own, metrics; mounted is where the metrics directory's
		// volume is mounted (tune's tune-metrics-0, or metrics when own
		// holds the directory).
		path, own, mounted string
		// value is what the collector records of a value written: a
		// TensorFlow event holds a float32.
		value func(float64) float64
		// count is how many values a trial records: each epoch's, or one
		// for a gauge scraped while unchanged.
		count float64
	}{
		{name: "file-text", kind: "File", to: []string{"--to", "file"}, extra: []string{"--log-path=/katib/metrics.log"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}",
			path: "/katib/metrics.log", mounted: "/katib", value: exact, count: 3},
		{name: "file-json", kind: "File", to: []string{"--to", "json"}, extra: []string{"--log-path=/var/log/train/metrics.json"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /var/log/train/metrics.json, kind: File, format: JSON}}\n    collector: {kind: File}",
			// The template's own volume at /var/log holds the metrics
			// directory: tune adds none (tune's collector makes
			// /var/log/train in it before the program starts).
			path: "/var/log/train/metrics.json", own: "/var/log", mounted: "/var/log", value: exact, count: 3},
		{name: "tfevent", kind: "TensorFlowEvent", to: []string{"--to", "tfevent"}, extra: []string{"--dir=/logs/tfevents"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /logs/tfevents, kind: Directory}}\n    collector: {kind: TensorFlowEvent}",
			path: "/logs/tfevents", mounted: "/logs/tfevents", value: f32, count: 3},
		// One trial at a time: every "pod" here shares the host's
		// loopback, unlike real pods (each its own network namespace), so
		// two trials would serve on the same port at once.
		{name: "prometheus", kind: "PrometheusMetric", to: []string{"--to", "prometheus"}, parallel: 1,
			spec:  fmt.Sprintf("    source: {httpGet: {port: %d, path: /metrics}}\n    collector: {kind: PrometheusMetric}", freePort(t)),
			value: exact, count: 1},
		{name: "push", kind: "Push", to: []string{"--to", "push"}, parallel: 2,
			spec: "    collector: {kind: Push}", value: exact, count: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := c.namespace(t)
			pods := c.runPods(t, ns)
			dir := t.TempDir()
			file := writeExperiment(t, dir, collectorExperiment(tc.name, ns, tc.parallel, 2, tc.spec, prog, tc.to, tc.extra, tc.own))
			start := time.Now()
			code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
			if code != 0 {
				t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
			}
			t.Logf("2 trials in %s", time.Since(start).Round(time.Millisecond))
			if strings.Contains(out+errOut, "warning") {
				t.Errorf("tune run warned:\n%s%s", out, errOut)
			}
			ts := trials(t, dir, tc.name)
			if len(ts) != 2 {
				t.Fatalf("%d trials, want 2", len(ts))
			}
			rows := exportRows(t, dir, tc.name)
			runs := map[string]podRun{}
			for _, run := range pods.ran() {
				runs[run.Pod.Labels["katib.kubeflow.org/trial"]] = run
			}
			for _, tr := range ts {
				x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
				y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
				loss := (x-1)*(x-1) + (y+2)*(y+2)
				want, last := tc.value(loss), tc.value(loss+2)
				if tc.count == 1 {
					last = want
				}
				if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
					t.Errorf("%s: %s (%s), loss %v; want Succeeded with loss %v, computed from x=%v y=%v (the decoy is -999)", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], want, x, y)
				}
				row := rows[tr.Name]
				if row["loss.min"] != want || row["loss.max"] != last || row["loss.count"] != tc.count {
					t.Errorf("%s: loss min %v, max %v, count %v; want %v, %v, %v (the epochs' values, nothing else)", tr.Name, row["loss.min"], row["loss.max"], row["loss.count"], want, last, tc.count)
				}
				run, ok := runs[tr.Name]
				if !ok {
					t.Errorf("%s: the pod runner ran no pod of it", tr.Name)
					continue
				}
				checkCollectorPod(t, run.Pod, tc.kind, tc.path, tc.own, tc.mounted, prog, tc.to)
				checkTrialLog(t, dir, tc.name, tr.Name, x, y)
			}
		})
	}
	t.Run("interrupt", func(t *testing.T) {
		t.Parallel()
		testCollectorInterrupt(t, c, prog)
	})
	t.Run("failing", func(t *testing.T) {
		t.Parallel()
		ns := c.namespace(t)
		pods := c.runPods(t, ns)
		dir := t.TempDir()
		spec := "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}"
		file := writeExperiment(t, dir, collectorExperiment("failing", ns, 1, 1, spec, prog, []string{"--to", "file"}, []string{"--log-path=/katib/metrics.log", "--exit=3"}, ""))
		code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
		if code != 1 {
			t.Fatalf("tune run: exit %d, want 1 (the experiment Failed)\n%s%s", code, out, errOut)
		}
		ts := trials(t, dir, "failing")
		codes := exitCodes(t, dir, "failing")
		if len(ts) != 1 || ts[0].Status != "Failed" || codes[ts[0].Name] != 3 {
			t.Fatalf("trials %+v, exit codes %v; want one Failed with exit code 3, the program's, passed on by tune's collector", ts, codes)
		}
		if runs := pods.ran(); len(runs) != 1 || runs[0].ExitCode != 3 {
			t.Errorf("the pod runner ran %+v; want one pod whose primary container exited 3", runs)
		}
		// The program's standard error passes through tune's collector
		// (pods/log serves both streams as one: tune logs has it).
		if code, out, errOut := runTune(t, dir, "logs", "failing", ts[0].Name); code != 0 || !strings.Contains(out, "collecttrain: exiting with 3\n") {
			t.Errorf("tune logs failing %s: exit %d: %q %s; want the program's line \"collecttrain: exiting with 3\", written to its standard error", ts[0].Name, code, out, errOut)
		}
		t.Logf("%s: %s/%s: %s", ts[0].Name, ts[0].Status, ts[0].Reason, ts[0].Message)
	})
}

// testCollectorInterrupt presses Ctrl-C while two trials run under tune's
// collector: tune run exits 130 with the trials Killed, and the deletion
// of their pods reaches the training programs: the pod runner's SIGTERM to
// the container's process (tune collector run) is passed on to the
// program, which says so and exits 143, the collector's exit code too,
// and the collector forwards the metrics file's lines before it exits.
func testCollectorInterrupt(t *testing.T, c *cluster, prog string) {
	ns := c.namespace(t)
	pods := c.runPods(t, ns)
	dir := t.TempDir()
	spec := "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}"
	file := writeExperiment(t, dir, collectorExperiment("stopme", ns, 2, 4, spec, prog, []string{"--to", "file"}, []string{"--log-path=/katib/metrics.log", "--wait"}, ""))
	start := time.Now()
	cmd, out := startTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The program prints this once it handles SIGTERM.
	for deadline := time.Now().Add(90 * time.Second); pods.printed("collecttrain: waiting for SIGTERM") < 2; {
		select {
		case err := <-exited:
			t.Fatalf("tune run ended before its trials ran: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d trial programs running after 90 s, %d of them waiting for SIGTERM, want 2\n%s", pods.running(), pods.printed("collecttrain: waiting for SIGTERM"), out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("2 programs waiting for SIGTERM %s after tune run started", time.Since(start).Round(time.Millisecond))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after Ctrl-C: %v, want exit 130\n%s", err, out)
	}
	ts := trials(t, dir, "stopme")
	if len(ts) != 2 {
		t.Errorf("%d trials, want the 2 that were running", len(ts))
	}
	for _, tr := range ts {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s (%s), want Killed", tr.Name, tr.Status, tr.Message)
		}
	}
	for deadline := time.Now().Add(90 * time.Second); pods.running() > 0 || len(pods.ran()) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: %d trial programs still running, %d ended", pods.running(), len(pods.ran()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("tune run stopped, both programs ended %s after it started", time.Since(start).Round(time.Millisecond))
	for _, run := range pods.ran() {
		var stdout []string
		forwarded := 0
		for _, l := range run.Log {
			if l.stream == "stdout" {
				stdout = append(stdout, l.text)
			}
			if strings.HasPrefix(l.text, "tune-collector: ") && strings.Contains(l.text, "loss=") {
				forwarded++
			}
		}
		if !run.Deleted || run.ExitCode != 143 || !slices.Contains(stdout, "collecttrain: terminated") || forwarded != 3 {
			t.Errorf("pod %s: deleted %v, exit code %d, %d metrics file lines forwarded, stdout %q; want its program stopped by SIGTERM through tune's collector (exit code 143, \"collecttrain: terminated\"), the file's 3 lines forwarded",
				run.Pod.Name, run.Deleted, run.ExitCode, forwarded, stdout)
		}
	}
}

// exportRows returns tune export's rows of exp by trial name.
func exportRows(t *testing.T, dir, exp string) map[string]map[string]any {
	t.Helper()
	code, out, errOut := runTune(t, dir, "export", exp, "--format", "jsonl")
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
	return rows
}

// checkCollectorPod checks that pod, as tune submitted it, runs tune's
// collector of kind: an init container of collectorImage installing tune
// into the tune-collector volume, and the primary container's command
// wrapped (tune collector run --config JSON -- prog to...), its args as the
// template has them, the metrics directory mounted at mounted: the
// template's own volume when it has one at own, else tune's.
func checkCollectorPod(t *testing.T, pod *corev1.Pod, kind, path, own, mounted, prog string, to []string) {
	t.Helper()
	ics := pod.Spec.InitContainers
	if len(ics) != 1 || ics[0].Name != "tune-collector-install" || ics[0].Image != collectorImage ||
		!slices.Equal(ics[0].Command, []string{"tune", "collector", "install", "/opt/tune-collector"}) {
		t.Errorf("pod %s: init containers %+v; want tune-collector-install of %s running tune collector install /opt/tune-collector", pod.Name, ics, collectorImage)
		return
	}
	if !slices.ContainsFunc(ics[0].VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == "tune-collector" && m.MountPath == "/opt/tune-collector"
	}) {
		t.Errorf("pod %s: the init container mounts %+v; want tune-collector at /opt/tune-collector", pod.Name, ics[0].VolumeMounts)
	}
	main := pod.Spec.Containers[0]
	cmd := main.Command
	if len(cmd) < 6 || !slices.Equal(cmd[:4], []string{"/opt/tune-collector/tune", "collector", "run", "--config"}) || cmd[5] != "--" ||
		!slices.Equal(cmd[6:], append([]string{prog}, to...)) {
		t.Errorf("pod %s: command %q; want /opt/tune-collector/tune collector run --config JSON -- %s %s", pod.Name, cmd, prog, strings.Join(to, " "))
		return
	}
	var cfg struct {
		Kind    string   `json:"kind"`
		Path    string   `json:"path"`
		Metrics []string `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(cmd[4]), &cfg); err != nil || cfg.Kind != kind || cfg.Path != path || !slices.Equal(cfg.Metrics, []string{"loss"}) {
		t.Errorf("pod %s: --config %s (%v); want kind %s, path %q, metrics [loss]", pod.Name, cmd[4], err, kind, path)
	}
	if len(main.Args) < 2 || !strings.HasPrefix(main.Args[0], "--x=") || !strings.HasPrefix(main.Args[1], "--y=") {
		t.Errorf("pod %s: args %q; want the template's, --x= and --y= first", pod.Name, main.Args)
	}
	if mounted == "" {
		return
	}
	volume := "tune-metrics-0"
	if own != "" {
		volume = "metrics"
	}
	var names []string
	for _, v := range pod.Spec.Volumes {
		names = append(names, v.Name)
	}
	if !slices.ContainsFunc(main.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == mounted && m.Name == volume }) ||
		own != "" && slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "tune-metrics-") }) {
		t.Errorf("pod %s: volumes %q, the primary container mounts %+v; want %s at %s, the metrics directory's, and no other for it", pod.Name, names, main.VolumeMounts, volume, mounted)
	}
}

// checkTrialLog checks that tune logs of trial holds the program's lines
// (the ordinary one and the decoy) and none of tune's collector.
func checkTrialLog(t *testing.T, dir, exp, trial string, x, y float64) {
	t.Helper()
	code, out, errOut := runTune(t, dir, "logs", exp, trial)
	if code != 0 {
		t.Errorf("tune logs %s %s: exit %d: %s", exp, trial, code, errOut)
		return
	}
	ordinary := fmt.Sprintf("collecttrain: training with x=%s y=%s\n", strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64))
	if !strings.Contains(out, ordinary) || !strings.Contains(out, "loss=-999\n") || strings.Contains(out, "tune-collector:") {
		t.Errorf("tune logs %s %s:\n%s\nwant the program's lines %q and %q, and no line of tune's collector (tune-collector:)", exp, trial, out, ordinary, "loss=-999")
	}
}
