package cli

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

func progressExperiment(t testing.TB) *experiment.Experiment {
	t.Helper()
	exp, err := experiment.Parse([]byte(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: fast}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 4
  maxTrialCount: 100000
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{name: x, reference: x}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers: [{name: main, command: [train], args: ["--x=${trialParameters.x}"]}]
`), "fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// trialEvents returns the started and finished events of trial i, which
// ran from at for 1 ms.
func trialEvents(i int, at time.Time) (started, finished experiment.Event) {
	name := fmt.Sprintf("fast-%04d", i)
	params := map[string]string{"x": fmt.Sprint(float64(i) / 1e6)}
	s := &trial.Trial{Name: name, Seq: i, Parameters: params, State: trial.Running, Started: at}
	f := *s
	f.State, f.Finished = trial.Succeeded, at.Add(time.Millisecond)
	f.Metrics = map[string]metrics.Summary{"loss": {Min: float64(i), Max: float64(i), Latest: float64(i), Count: 1}}
	best := &experiment.OptimalTrial{BestTrialName: "fast-0001", ParameterAssignments: params, Metrics: map[string]float64{"loss": 1}}
	return experiment.Event{Kind: experiment.TrialStarted, Trial: s}, experiment.Event{Kind: experiment.TrialFinished, Trial: &f, Best: best}
}

// TestProgressRedrawBounded: trials finishing every millisecond for 2 s
// print every line but redraw the block at most 4 times a second.
func TestProgressRedrawBounded(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, 80, progressExperiment(t))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	p.start = clock
	const n = 2000
	for i := 1; i <= n; i++ {
		s, f := trialEvents(i, clock)
		p.event(s)
		clock = clock.Add(time.Millisecond)
		p.event(f)
	}
	draws := strings.Count(out.String(), "running, ")
	lines := strings.Count(out.String(), "] trial fast-")
	if lines != 2*n {
		t.Errorf("%d trial lines, want %d", lines, 2*n)
	}
	// 2 s of events: a first draw, then one per 250 ms at most.
	if maxDraws := 1 + int(2*time.Second/redrawEvery); draws < 2 || draws > maxDraws {
		t.Errorf("%d redraws in 2 s, want 2 to %d", draws, maxDraws)
	}
	// Each block counts what had happened when it was drawn.
	blocks := regexp.MustCompile(`\[(\d+)/100000\] (\d) running, (\d+) succeeded, 0 early-stopped, 0 failed, 0 killed`).FindAllStringSubmatch(out.String(), -1)
	if len(blocks) != draws {
		t.Fatalf("%d redraws, %d of them with the expected counts line", draws, len(blocks))
	}
	for _, m := range blocks {
		if m[1] != m[3] || (m[2] != "0" && m[2] != "1") {
			t.Errorf("block %q: finished and succeeded differ, or more than one running", m[0])
		}
	}
}

// BenchmarkProgressTrial measures what one trial (started and finished)
// costs the live progress, redraws included.
func BenchmarkProgressTrial(b *testing.B) {
	p := newProgress(io.Discard, false, 120, progressExperiment(b))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	p.start = clock
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s, f := trialEvents(i+1, clock)
		p.event(s)
		clock = clock.Add(time.Millisecond)
		p.event(f)
	}
}

// TestProgressWriteGoesAboveBlock: text written through the progress while
// the block is drawn erases the block first, so that the block's next
// erase does not leave a line of it on the screen.
func TestProgressWriteGoesAboveBlock(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, 80, progressExperiment(t))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	p.start = clock
	s, _ := trialEvents(1, clock)
	p.event(s) // a line, then the block: 3 lines, a header and a row
	if p.drawn != 5 {
		t.Fatalf("%d block lines drawn, want 5", p.drawn)
	}
	before := out.Len()
	fmt.Fprintln(p, "interrupted: stopping running trials")
	if got, want := out.String()[before:], "\r"+"\x1b[5A"+eraseDown+"interrupted: stopping running trials\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if p.drawn != 0 || !p.dirty {
		t.Errorf("after a write: %d lines drawn, dirty %v; want 0, true", p.drawn, p.dirty)
	}
	p.close()
	fmt.Fprintln(p, "after")
	if !strings.HasSuffix(out.String(), "\nafter\n") {
		t.Errorf("a write after close: %q", out.String()[out.Len()-20:])
	}
}
