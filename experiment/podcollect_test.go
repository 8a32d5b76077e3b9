package experiment_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/trial"
)

// podExecutor plays an executor whose trials run in pods elsewhere
// ([trial.PodCollectors]) as trial/kube does: the trial's program runs
// under tune's collector ([collect.RunInPod], with the configuration from
// the command the executor is asked to prefix), and the collector's lines
// of the "container log" go to spec.Collector.Line, the rest to stdout.
// The program writes its loss (x) to the metrics file and prints a decoy.
type podExecutor struct {
	mu       sync.Mutex
	commands [][]string
}

func (e *podExecutor) PodCollectors() {}

func (e *podExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	pc := spec.Collector
	if pc == nil || pc.Line == nil {
		return trial.Result{}, fmt.Errorf("trial %s: no collector to run in the pod", spec.Name)
	}
	e.mu.Lock()
	e.commands = append(e.commands, pc.Command)
	e.mu.Unlock()
	i := slices.Index(pc.Command, "--config")
	var cfg collect.PodConfig
	if err := json.Unmarshal([]byte(pc.Command[i+1]), &cfg); err != nil {
		return trial.Result{}, err
	}
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	os.Remove(cfg.Path) // each pod starts with an empty emptyDir
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), pc.Prefix); ok {
				pc.Line([]byte(line))
			} else {
				fmt.Fprintln(stdout, sc.Text())
			}
		}
	}()
	// The value reaches the program as an argument, never through a shell's parser.
	argv := []string{"sh", "-c", `echo loss=-999; echo "loss=$1" >> "$TUNE_METRICS_PATH"`, "sh", fmt.Sprint(x)}
	code, err := collect.RunInPod(ctx, cfg, argv, pw, stderr)
	pw.Close()
	<-done
	if err != nil {
		return trial.Result{}, err
	}
	if code != 0 {
		return trial.Result{State: trial.Failed, Reason: "Error", ExitCode: &code}, nil
	}
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestCollectorInPod: with an executor that runs tune's collector in its
// trials' pods, a File experiment's trials get their loss from the file
// the program writes in its pod (not the -999 it prints), through the
// collector's lines in the container's log.
func TestCollectorInPod(t *testing.T) {
	path := filepath.ToSlash(filepath.Join(t.TempDir(), "metrics.log")) // the "pod's" file: one trial at a time
	exp := testExperiment(t, fmt.Sprintf(`  parallelTrialCount: 1
  maxTrialCount: 2
  metricsCollectorSpec:
    source:
      fileSystemPath:
        path: %s
        kind: File
        format: TEXT
    collector:
      kind: File
`, path))
	st := newMemStore()
	ex := &podExecutor{}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"3", "5"}}, Executor: ex, TrialRoot: t.TempDir()}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	trials := st.trials["unit"]
	if len(trials) != 2 {
		t.Fatalf("%d trials, want 2", len(trials))
	}
	for i, want := range []float64{3, 5} {
		tr := trials[i]
		if m := tr.Metrics["loss"]; tr.State != trial.Succeeded || m.Latest != want || m.Min != want || m.Max != want {
			t.Errorf("trial %s: %s with %+v; want Succeeded with loss %g from its file", tr.Name, tr.State, tr.Metrics["loss"], want)
		}
	}
	for _, cmd := range ex.commands {
		if cmd[0] != collect.PodDir+"/tune" || cmd[len(cmd)-1] != "--" {
			t.Errorf("collector command %q", cmd)
		}
	}
}

// remoteExecutor runs trials elsewhere and cannot carry a collector.
type remoteExecutor struct{}

func (remoteExecutor) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, fmt.Errorf("not run")
}

// TestCollectorInPodRefused: an executor whose trials run elsewhere and
// that cannot run tune's collector beside them refuses every collector
// but StdOut before anything runs.
func TestCollectorInPodRefused(t *testing.T) {
	exp := testExperiment(t, "  metricsCollectorSpec:\n    collector:\n      kind: Push\n")
	err := (&experiment.Runner{Executor: remoteExecutor{}}).Check(exp)
	if err == nil || !strings.Contains(err.Error(), "these trials run elsewhere") {
		t.Errorf("Check: %v, want the collector refused", err)
	}
	if err := (&experiment.Runner{Executor: &podExecutor{}}).Check(exp); err != nil {
		t.Errorf("Check with an executor running collectors in pods: %v", err)
	}
}
