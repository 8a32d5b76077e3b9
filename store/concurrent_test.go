package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// The writer of the concurrency tests saves concTrials trials one after the
// other, each concUpdates times with one more log entry each time.
const (
	concTrials  = 25
	concUpdates = 8
)

// progressTrial returns trial seq of experiment exp after its u-th save: its
// summary and message both count u reports, so a reader can check that a
// record is whole.
func progressTrial(exp string, seq, u int) *trial.Trial {
	t := sampleTrial(exp, seq)
	t.Message = strconv.Itoa(u)
	var sum metrics.Summary
	for i := 1; i <= u; i++ {
		sum.Add(float64(i))
	}
	t.Metrics = map[string]metrics.Summary{"loss": sum}
	if u == concUpdates {
		t.State, t.ExitCode = trial.Succeeded, ptr(0)
	}
	return t
}

// writeProgress runs the writer: concTrials trials, concUpdates saves each,
// with a status update after each save.
func writeProgress(ctx context.Context, s *Store, exp string) error {
	for seq := 1; seq <= concTrials; seq++ {
		for u := 1; u <= concUpdates; u++ {
			log := []metrics.Log{{Metric: "loss", Value: float64(u), Step: int64(u), Time: t0}}
			if err := s.SaveTrial(ctx, exp, progressTrial(exp, seq, u), log, nil); err != nil {
				return fmt.Errorf("save %d/%d: %w", seq, u, err)
			}
			st := experiment.Status{Phase: experiment.Running, Created: t0, Trials: seq, TrialsRunning: 1}
			if err := s.UpdateStatus(ctx, exp, st); err != nil {
				return fmt.Errorf("status %d/%d: %w", seq, u, err)
			}
		}
	}
	return nil
}

// progressChecker checks successive reads of a store written by
// writeProgress: whole records, and never a step back.
type progressChecker struct {
	exp       string
	statusN   int
	trials    int
	lastCount int // report count of the last trial seen
	logs      int // log entries of the last trial seen
	reads     int
}

// check reads the store once and reports whether the writer is done.
func (c *progressChecker) check(ctx context.Context, s *Store) (done bool, err error) {
	c.reads++
	rec, err := s.Experiment(ctx, c.exp)
	if err != nil {
		return false, fmt.Errorf("Experiment: %w", err)
	}
	if rec.Status.Trials < c.statusN {
		return false, fmt.Errorf("status.trials went back from %d to %d", c.statusN, rec.Status.Trials)
	}
	c.statusN = rec.Status.Trials

	trials, err := s.Trials(ctx, c.exp)
	if err != nil {
		return false, fmt.Errorf("Trials: %w", err)
	}
	if len(trials) < c.trials {
		return false, fmt.Errorf("trial count went back from %d to %d", c.trials, len(trials))
	}
	if len(trials) < rec.Status.Trials {
		return false, fmt.Errorf("%d trials after a status saying %d", len(trials), rec.Status.Trials)
	}
	for i, t := range trials {
		if t.Seq != i+1 || t.Name != fmt.Sprintf("%s-%04d", c.exp, i+1) {
			return false, fmt.Errorf("trial %d is %q, Seq %d: out of order", i, t.Name, t.Seq)
		}
		n, err := strconv.Atoi(t.Message)
		if err != nil || t.Metrics["loss"].Count != n || t.Metrics["loss"].Latest != float64(n) {
			return false, fmt.Errorf("trial %s is not whole: message %q, metrics %v", t.Name, t.Message, t.Metrics)
		}
		if i < len(trials)-1 && n != concUpdates {
			return false, fmt.Errorf("trial %s has %d reports while a later one exists", t.Name, n)
		}
	}
	if len(trials) == 0 {
		return false, nil
	}
	last := trials[len(trials)-1]
	count := last.Metrics["loss"].Count
	if len(trials) == c.trials && count < c.lastCount {
		return false, fmt.Errorf("trial %s went back from %d to %d reports", last.Name, c.lastCount, count)
	}
	logs, err := s.Logs(ctx, c.exp, last.Name)
	if err != nil {
		return false, fmt.Errorf("Logs: %w", err)
	}
	// Logs is read after Trials, so it holds at least what Trials showed.
	if len(logs) < count || (len(trials) == c.trials && len(logs) < c.logs) {
		return false, fmt.Errorf("trial %s has %d logs after %d reports (%d logs before)", last.Name, len(logs), count, c.logs)
	}
	for i, l := range logs {
		if l.Value != float64(i+1) {
			return false, fmt.Errorf("trial %s log %d is %v: out of order", last.Name, i, l.Value)
		}
	}
	c.trials, c.lastCount, c.logs = len(trials), count, len(logs)
	return len(trials) == concTrials && count == concUpdates && len(logs) == concUpdates, nil
}

// TestHelperProcess is the reader process of TestConcurrentProcesses, run by
// re-executing the test binary. It is skipped in a normal run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("TUNE_STORE_HELPER_PATH")
	if path == "" {
		t.Skip("helper process for TestConcurrentProcesses")
	}
	err := func() error {
		ctx := context.Background()
		s, err := Open(path, &Options{ReadOnly: true, Timeout: 30 * time.Second})
		if err != nil {
			return err
		}
		defer s.Close()
		c := &progressChecker{exp: "e"}
		fmt.Println("ready")
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			done, err := c.check(ctx, s)
			if err != nil {
				return fmt.Errorf("read %d: %w", c.reads, err)
			}
			if done {
				fmt.Printf("reads %d\n", c.reads)
				return nil
			}
		}
		return errors.New("the writer did not finish in time")
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestConcurrentProcesses writes from this process while another process
// reads: the reader must never fail, wait long or see half-written data.
func TestConcurrentProcesses(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, &Options{Timeout: 30 * time.Second})
	if err := s.CreateExperiment(ctx, sampleRecord("e")); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "TUNE_STORE_HELPER_PATH="+s.Path())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		_ = cmd.Wait()
		t.Fatalf("helper did not start: %q, %v; stderr:\n%s", line, err, stderr.String())
	}

	start := time.Now()
	werr := writeProgress(ctx, s, "e")
	elapsed := time.Since(start)
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Errorf("reader process: %v; stderr:\n%s", err, stderr.String())
	}
	if werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	writes := 2 * concTrials * concUpdates
	t.Logf("writer: %d writes in %v (%v each); reader: %s", writes, elapsed, elapsed/time.Duration(writes), strings.TrimSpace(string(rest)))
}

// TestConcurrentGoroutines shares one Store among writer and reader
// goroutines of this process, for the race detector, plus a second Store on
// the same file that competes through the file lock.
func TestConcurrentGoroutines(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, &Options{Timeout: 30 * time.Second})
	other, err := Open(s.Path(), &Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 4
	for w := range writers {
		if err := s.CreateExperiment(ctx, sampleRecord("e"+strconv.Itoa(w))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		exp := "e" + strconv.Itoa(w)
		store := s
		if w%2 == 1 {
			store = other
		}
		wg.Go(func() {
			if err := writeProgress(ctx, store, exp); err != nil {
				errs <- fmt.Errorf("writer %s: %w", exp, err)
			}
		})
		wg.Go(func() {
			c := &progressChecker{exp: exp}
			for {
				done, err := c.check(ctx, store)
				if err != nil {
					errs <- fmt.Errorf("reader %s: read %d: %w", exp, c.reads, err)
					return
				}
				if done {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
