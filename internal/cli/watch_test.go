package cli_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGetTrialsWatchFollowsAConcurrentRun runs an experiment in another
// process and watches its trials: the watch reads the store while the
// runner writes it (neither blocks the other), prints trials as they
// appear and change, and ends when the experiment does.
func TestGetTrialsWatchFollowsAConcurrentRun(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "watched", Parallel: 1, Max: 3, MaxFailed: 1, Extra: `, "--sleep=1s"`})
	run := tuneProcess(t, dir, "run", file)
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(tune(t, dir, "get", "experiments", "-o", "name").stdout, "watched\n") {
		if time.Now().After(deadline) {
			t.Fatalf("the experiment never appeared in the store; run says: %s", runOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	w := tune(t, dir, "get", "trials", "watched", "-w", "--watch-interval", "50ms", "--columns", "name,status,loss")
	if w.code != 0 {
		t.Fatalf("get trials -w: exit %d: %s", w.code, w.stderr)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("tune run beside the watch: %v\n%s", err, runOut.String())
	}
	out := lines(w.stdout)
	if f := strings.Fields(out[0]); len(f) != 3 || f[0] != "TRIAL" {
		t.Fatalf("watch header %q", out[0])
	}
	stored := byName(getTrials(t, dir, "watched"))
	if len(stored) != 3 {
		t.Fatalf("%d trials stored, want 3", len(stored))
	}
	final := map[string]string{}
	for _, l := range out[1:] {
		f := strings.Fields(l)
		if _, ok := stored[f[0]]; !ok || len(f) != 3 {
			t.Fatalf("watch line %q is not a trial row", l)
		}
		if f[1] == "Succeeded" {
			final[f[0]] = f[2]
		}
	}
	// The 3 trials ran one after another, 1 s each, after the watch began:
	// it printed more rows than the first table's.
	if len(out)-1 <= 3 {
		t.Errorf("the watch printed %d rows, want the changes after its first table too:\n%s", len(out)-1, w.stdout)
	}
	for name, tr := range stored {
		if want := strconv.FormatFloat(tr.Metrics["loss"], 'g', 4, 64); final[name] != want {
			t.Errorf("watch: %s Succeeded with loss %q, want %s (stored %v)\n%s", name, final[name], want, tr.Metrics["loss"], w.stdout)
		}
	}
}
