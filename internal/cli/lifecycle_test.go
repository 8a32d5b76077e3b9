package cli_test

import (
	"strings"
	"testing"
)

// TestTrialDeadlineAndRetries runs the Job fields that bound a trial
// locally: activeDeadlineSeconds stops a trial that runs too long (Failed,
// DeadlineExceeded) and backoffLimit retries a failing one, whose failed
// attempts' metrics do not count.
func TestTrialDeadlineAndRetries(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "deadline", Parallel: 1, Max: 1, MaxFailed: 1,
		JobSpec: "activeDeadlineSeconds: 1", Extra: `, "--sleep=60s"`})
	r := tune(t, dir, "run", "-q", file)
	if r.code != 1 {
		t.Fatalf("a trial past its deadline: exit %d, want 1 (experiment Failed): %s", r.code, r.stderr)
	}
	trials := getTrials(t, dir, "deadline")
	if len(trials) != 1 || trials[0].Status != "Failed" || trials[0].Reason != "DeadlineExceeded" || !strings.Contains(trials[0].Message, "activeDeadlineSeconds") {
		t.Errorf("trial past its deadline: %+v; want Failed/DeadlineExceeded naming activeDeadlineSeconds", trials)
	}

	file = writeExperiment(t, dir, expParams{Name: "retry", Parallel: 1, Max: 1, MaxFailed: 1,
		JobSpec: "backoffLimit: 2", Extra: `, "--fail-times=2"`})
	if r := tune(t, dir, "run", "-q", "--retry-delay", "10ms", file); r.code != 0 {
		t.Fatalf("a trial that succeeds on its third attempt: exit %d: %s", r.code, r.stderr)
	}
	trials = getTrials(t, dir, "retry")
	if len(trials) != 1 || trials[0].Status != "Succeeded" {
		t.Fatalf("retried trial: %+v, want Succeeded", trials)
	}
	if loss := trials[0].Metrics["loss"]; loss < 0 {
		t.Errorf("retried trial's loss = %v: a failed attempt's value counted", loss)
	}

	file = writeExperiment(t, dir, expParams{Name: "noretry", Parallel: 1, Max: 1, MaxFailed: 1,
		JobSpec: "backoffLimit: 1", Extra: `, "--fail-times=2"`})
	if r := tune(t, dir, "run", "-q", "--retry-delay", "10ms", file); r.code != 1 {
		t.Fatalf("a trial failing more often than backoffLimit allows: exit %d, want 1: %s", r.code, r.stderr)
	}
	if trials = getTrials(t, dir, "noretry"); len(trials) != 1 || trials[0].Status != "Failed" || !strings.Contains(trials[0].Message, "2 attempts") {
		t.Errorf("trial out of retries: %+v; want Failed after 2 attempts", trials)
	}
}
