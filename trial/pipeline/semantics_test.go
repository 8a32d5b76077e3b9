package pipeline

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/tune-hpo/tune/trial"
)

// Steps run group after group; items expand with Argo's node names; when
// skips; results of expanded steps aggregate as JSON lists.
const stepsYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: st}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
    - - name: fan
        template: echo
        arguments: {parameters: [{name: msg, value: "p{{item}}"}]}
        withParam: "{{steps.gen.outputs.result}}"
      - name: letters
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item.l}}-{{item.k}}"}]}
        withItems: [{l: a, k: 1}, {l: b, k: 2}]
      - name: seq
        template: echo
        arguments: {parameters: [{name: msg, value: "s{{item}}"}]}
        withSequence: {start: "3", count: "2", format: "n%02d"}
    - - name: heads
        template: echo
        when: "{{steps.gen.outputs.result}} == [1,2]"
        arguments: {parameters: [{name: msg, value: "{{steps.fan.outputs.result}}"}]}
      - name: tails
        template: echo
        when: "{{steps.gen.outputs.result}} != [1,2]"
        arguments: {parameters: [{name: msg, value: never}]}
  - name: gen
    script: {image: alpine, command: [sh], source: "echo '[1,2]'"}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
`

func TestStepsItemsWhen(t *testing.T) {
	wf, l := run(t, stepsYAML, Options{})
	if wf.Status.Phase != wfv1.WorkflowSucceeded {
		dump(t, wf)
		t.Fatalf("phase %s (%s)", wf.Status.Phase, wf.Status.Message)
	}
	for name, want := range map[string]string{
		"st[1].fan(0:1)":                   "p1",
		"st[1].fan(1:2)":                   "p2",
		`st[1].letters(0:{"k":1,"l":"a"})`: "a-1",
		`st[1].letters(1:{"k":2,"l":"b"})`: "b-2",
		"st[1].seq(0:n03)":                 "sn03",
		"st[1].seq(1:n04)":                 "sn04",
		"st[2].heads":                      `["p1","p2"]`,
	} {
		if got := result(node(t, wf, name)); got != want {
			t.Errorf("%s result %q, want %q", name, got, want)
		}
	}
	tails := node(t, wf, "st[2].tails")
	if tails.Phase != wfv1.NodeSkipped || tails.Message != "when '[1,2] != [1,2]' evaluated false" {
		t.Errorf("tails = %s %q, want Skipped", tails.Phase, tails.Message)
	}
	// gen ran first, heads last.
	names := l.names()
	if names[0] != "st[0].gen" || names[len(names)-1] != "st[2].heads" || len(names) != 8 {
		t.Errorf("steps ran in the order %q", names)
	}
	if g := node(t, wf, "st[1]"); g.Type != wfv1.NodeTypeStepGroup || g.Phase != wfv1.NodeSucceeded {
		t.Errorf("group st[1] = %s %s", g.Type, g.Phase)
	}
}

// countingLauncher fails the first fails launches of each step template.
type countingLauncher struct {
	execLauncher
	fails int32
	n     atomic.Int32
}

func (c *countingLauncher) Launch(ctx context.Context, s *Step, stdout, stderr io.Writer) (trial.Result, error) {
	if c.n.Add(1) <= c.fails {
		code := 1
		return trial.Result{State: trial.Failed, ExitCode: &code}, nil
	}
	return c.execLauncher.Launch(ctx, s, stdout, stderr)
}

const retryYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rt}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: "3", backoff: {duration: "1", factor: "2"}}
    container: {image: alpine, command: [echo, "ok {{retries}}"]}
`

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		fails int32
		phase wfv1.WorkflowPhase
		tries int
	}{{2, wfv1.WorkflowSucceeded, 3}, {10, wfv1.WorkflowFailed, 4}} {
		l := &countingLauncher{fails: tc.fails}
		start := time.Now()
		wf, _ := run(t, retryYAML, Options{Launcher: l, Second: time.Millisecond})
		if wf.Status.Phase != tc.phase {
			t.Errorf("%d failures: phase %s, want %s", tc.fails, wf.Status.Phase, tc.phase)
		}
		retry := node(t, wf, "rt")
		if retry.Type != wfv1.NodeTypeRetry || len(retry.Children) != tc.tries || int(l.n.Load()) != tc.tries {
			t.Errorf("%d failures: retry node %s with %d children, %d launches; want %d", tc.fails, retry.Type, len(retry.Children), l.n.Load(), tc.tries)
		}
		node(t, wf, "rt(0)")
		if tc.phase == wfv1.WorkflowSucceeded {
			// The third attempt ran, and saw its number.
			if got := result(node(t, wf, "rt(2)")); got != "ok 2" {
				t.Errorf("last attempt said %q, want \"ok 2\"", got)
			}
		}
		if tc.phase == wfv1.WorkflowFailed && retry.Message != "No more retries left" {
			t.Errorf("retry message %q", retry.Message)
		}
		// Backoff 1, 2, 4 "seconds" of a millisecond each at most: well
		// under the time a real second would take.
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %s", d)
		}
	}
}

const deadlineYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dl}
spec:
  entrypoint: main
  onExit: report
  templates:
  - name: main
    steps:
    - - {name: slow, template: slow}
  - name: slow
    activeDeadlineSeconds: 1
    container: {image: alpine, command: [sleep, "1000"]}
  - name: report
    container: {image: alpine, command: [echo, "status={{workflow.status}}"]}
`

func TestDeadlineAndOnExit(t *testing.T) {
	wf, _ := run(t, deadlineYAML, Options{Second: 50 * time.Millisecond})
	slow := node(t, wf, "dl[0].slow")
	if slow.Phase != wfv1.NodeFailed || slow.Message != "Pod was active on the node longer than the specified deadline" {
		t.Errorf("slow = %s %q", slow.Phase, slow.Message)
	}
	if wf.Status.Phase != wfv1.WorkflowFailed || !strings.HasPrefix(wf.Status.Message, "step slow (template slow) failed: Pod was active") {
		t.Errorf("workflow %s %q", wf.Status.Phase, wf.Status.Message)
	}
	// The exit handler ran after the failure and saw it.
	if got := result(node(t, wf, "dl.onExit")); got != "status=Failed" {
		t.Errorf("onExit result %q, want status=Failed", got)
	}
}

func TestWorkflowDeadline(t *testing.T) {
	text := strings.Replace(deadlineYAML, "  onExit: report\n", "  onExit: report\n  activeDeadlineSeconds: 1\n", 1)
	text = strings.Replace(text, "    activeDeadlineSeconds: 1\n", "", 1)
	wf, _ := run(t, text, Options{Second: 50 * time.Millisecond})
	if wf.Status.Phase != wfv1.WorkflowFailed || wf.Status.Message != "workflow exceeded activeDeadlineSeconds=1" {
		t.Errorf("workflow %s %q", wf.Status.Phase, wf.Status.Message)
	}
	if got := result(node(t, wf, "dl.onExit")); got != "status=Failed" {
		t.Errorf("onExit result %q, want status=Failed", got)
	}
}

// gateLauncher blocks each step until as many are running as want: the
// run ends only if that many run at once.
type gateLauncher struct {
	execLauncher
	want    int32
	running atomic.Int32
	peak    atomic.Int32
	release chan struct{}
	once    sync.Once
}

func (g *gateLauncher) Launch(ctx context.Context, s *Step, stdout, stderr io.Writer) (trial.Result, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	if n == g.want {
		g.once.Do(func() { close(g.release) })
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return trial.Result{State: trial.Killed}, nil
	}
	return g.execLauncher.Launch(ctx, s, stdout, stderr)
}

func TestParallelismBounds(t *testing.T) {
	text := `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: p}
spec:
  entrypoint: main
  parallelism: 2
  templates:
  - name: main
    dag:
      tasks:
      - {name: fan, template: echo, withSequence: {count: "5"}}
  - name: echo
    container: {image: alpine, command: [echo, hi]}
`
	g := &gateLauncher{want: 2, release: make(chan struct{})}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	wf, err := Run(ctx, parse(t, text), Options{Launcher: g, Dir: t.TempDir(), RerootPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status.Phase != wfv1.WorkflowSucceeded || g.peak.Load() != 2 {
		t.Errorf("phase %s, peak %d running; want Succeeded with 2 at once", wf.Status.Phase, g.peak.Load())
	}
	if grp := node(t, wf, "p.fan"); grp.Type != wfv1.NodeTypeTaskGroup || len(grp.Children) != 5 {
		t.Errorf("p.fan = %s with %d children", grp.Type, len(grp.Children))
	}
}

func TestAnySucceededAllFailed(t *testing.T) {
	text := `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ag}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: try, template: exit, withItems: ["0", "1", "2"], arguments: {parameters: [{name: code, value: "{{item}}"}]}}
      - {name: any, template: echo, depends: try.AnySucceeded}
      - {name: all, template: echo, depends: try.AllFailed}
      - {name: failed, template: echo, depends: try.Failed}
  - name: exit
    inputs: {parameters: [{name: code}]}
    container: {image: alpine, command: [sh, -c, 'exit $0', '{{inputs.parameters.code}}']}
  - name: echo
    container: {image: alpine, command: [echo, ran]}
`
	wf, _ := run(t, text, Options{})
	for name, phase := range map[string]wfv1.NodePhase{"ag.any": wfv1.NodeSucceeded, "ag.all": wfv1.NodeOmitted, "ag.failed": wfv1.NodeSucceeded, "ag.try": wfv1.NodeFailed} {
		if got := node(t, wf, name).Phase; got != phase {
			t.Errorf("%s phase %s, want %s", name, got, phase)
		}
	}
	// The targets are the leaves any, all and failed: all was omitted, so
	// its branch inherits try's Failed phase and fails the DAG, as in
	// Argo's assessDAGPhase.
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Errorf("phase %s: the omitted target all inherits try's failure, as in Argo", wf.Status.Phase)
	}
}

func TestCheckListsEveryProblem(t *testing.T) {
	wf := parse(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: bad}
spec:
  entrypoint: main
  volumes: [{name: cfg, configMap: {name: c}}]
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: make}
      - {name: b, template: nope, depends: "a.Succeeded && c"}
      - {name: d, templateRef: {name: wt, template: x}}
  - name: make
    resource: {action: create, manifest: "x"}
  - name: wait
    suspend: {}
  - name: s3in
    inputs: {artifacts: [{name: data, path: /data, s3: {key: k}}]}
    outputs: {parameters: [{name: p, valueFrom: {path: rel/path}}]}
    container: {image: x, command: [x], args: ["{{=inputs.parameters.x}}"]}
    sidecars: [{name: side, image: x}]
`)
	err := Check(wf)
	if err == nil {
		t.Fatal("Check accepted it")
	}
	want := []string{
		`spec.volumes[0] (cfg): only emptyDir volumes are run locally (as a directory shared by the run's steps); configMap volumes are the cluster's: use --executor kubernetes`,
		`template "make": resource: resource templates are not run locally (a step that creates Kubernetes objects needs a cluster): use --executor kubernetes`,
		`template "wait": suspend: suspend templates are not run locally`,
		`template "s3in": container.args[0]: expression tags {{=...}} are not evaluated locally`,
		`template "s3in": sidecars: containers running beside the main one`,
		`template "s3in": inputs.artifacts.data: s3 artifacts are fetched from a repository`,
		`template "s3in": outputs.parameters.p.valueFrom.path: "rel/path" must be an absolute path`,
		`template "main": dag.tasks.b: template "nope" is not defined`,
		`template "main": dag.tasks.b: depends on task "c", which is not defined`,
		`template "main": dag.tasks.d.templateRef: templates of WorkflowTemplates are stored on a cluster`,
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
			t.Errorf("no problem starting %q in\n%v", w, err)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(lines), len(want), err)
	}
	// Run refuses it too, before starting anything.
	l := &execLauncher{}
	if _, err := Run(t.Context(), wf, Options{Launcher: l, Dir: t.TempDir()}); err == nil || len(l.names()) != 0 {
		t.Errorf("Run = %v after %d steps", err, len(l.names()))
	}
}

func TestCycleRefused(t *testing.T) {
	err := Check(parse(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: e, dependencies: [b]}
      - {name: b, template: e, dependencies: [a]}
  - name: e
    container: {image: x, command: [x]}
`))
	if err == nil || !strings.Contains(err.Error(), "dependency cycle a -> b -> a") {
		t.Errorf("Check = %v", err)
	}
}

// Mounts instead of re-rooting: the paths stay, and each declared path's
// directory is mounted from the step's directory.
func TestMountsWithoutReroot(t *testing.T) {
	var got *Step
	l := launcherFunc(func(s *Step) { got = s })
	wf, err := Run(t.Context(), parse(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: m}
spec:
  entrypoint: main
  volumeClaimTemplates: [{metadata: {name: work}, spec: {accessModes: [ReadWriteOnce]}}]
  templates:
  - name: main
    outputs:
      parameters: [{name: p, valueFrom: {path: /tmp/out/p, default: "d"}}]
      artifacts: [{name: m, path: /mlpipeline-metrics.json, optional: true}]
    container: {image: x, command: [cat, /tmp/out/p], volumeMounts: [{name: work, mountPath: /work}]}
`), Options{Launcher: l, Dir: t.TempDir()})
	if err != nil || wf.Status.Phase != wfv1.WorkflowSucceeded {
		t.Fatalf("Run = %v, %v", wf.Status.Phase, err)
	}
	if got.Container.Command[1] != "/tmp/out/p" {
		t.Errorf("command %q was rewritten", got.Container.Command)
	}
	var targets []string
	for _, m := range got.Mounts {
		targets = append(targets, m.Target)
		if !strings.HasPrefix(m.Source, filepath.Dir(got.Dir)) && !strings.Contains(m.Source, "volumes") {
			t.Errorf("mount source %s outside the run", m.Source)
		}
	}
	slices.Sort(targets)
	if want := []string{"/mlpipeline-metrics.json", "/tmp/out", "/work"}; !slices.Equal(targets, want) {
		t.Errorf("mount targets %q, want %q", targets, want)
	}
	if p := param(node(t, wf, "m"), "p"); p != "d" {
		t.Errorf("p = %q, want the default", p)
	}
}

type launcherFunc func(s *Step)

func (f launcherFunc) Launch(_ context.Context, s *Step, _, _ io.Writer) (trial.Result, error) {
	f(s)
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func TestRewrite(t *testing.T) {
	rw := newRewriter([]pathMap{{container: "/tmp/out"}, {container: "/tmp/out/deep"}, {container: "/data"}},
		func(p string) string { return "/R" + p })
	for in, want := range map[string]string{
		"/tmp/out":                   "/R/tmp/out",
		"/tmp/out/x.txt":             "/R/tmp/out/x.txt",
		"/tmp/output":                "/tmp/output",
		"--dir=/tmp/out/deep/a":      "--dir=/R/tmp/out/deep/a",
		"cat /data /data2 x/data":    "cat /R/data /data2 x/data",
		"'/data' \"/tmp/out\"":       "'/R/data' \"/R/tmp/out\"",
		"file:///data":               "file:///data",
		"PATH=/data:/tmp/out/deep:x": "PATH=/R/data:/R/tmp/out/deep:x",
	} {
		if got := rw.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLauncherErrorStopsRun(t *testing.T) {
	boom := errors.New("out of file descriptors")
	l := launcherErr{boom}
	_, err := Run(t.Context(), parse(t, retryYAML), Options{Launcher: l, Dir: t.TempDir()})
	if !errors.Is(err, boom) {
		t.Errorf("Run error %v, want %v", err, boom)
	}
}

type launcherErr struct{ err error }

func (l launcherErr) Launch(context.Context, *Step, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, l.err
}

// A recursion that never stops ends with an error instead of running
// forever.
func TestEndlessRecursionStops(t *testing.T) {
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rec}
spec:
  entrypoint: loop
  templates:
  - name: loop
    steps:
    - - {name: again, template: loop}
`, Options{})
	if wf.Status.Phase != wfv1.WorkflowFailed || !strings.Contains(wf.Status.Message, "templates nested more than 100 deep") {
		t.Errorf("workflow %s %q", wf.Status.Phase, wf.Status.Message)
	}
}
