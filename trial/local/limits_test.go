//go:build unix

package local

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/trial"
)

// jobSpec returns the Job spec of spec.Object, to set its fields.
func jobSpec(spec *trial.Spec) map[string]any {
	return spec.Object["spec"].(map[string]any)
}

// retryLog records the attempts OnRetry is called with.
type retryLog struct {
	mu       sync.Mutex
	attempts []int
}

func (l *retryLog) onRetry(attempt int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, attempt)
}

func (l *retryLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts
}

func TestRunRetries(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		backoffLimit any // nil: unset
		fails        string
		command      []any // instead of the flaky helper
		want         trial.Result
		wantPrefix   string // of the message, instead of all of it
		wantRetries  []int
		wantStdout   string
		wantStderr   string
	}{
		"unset backoffLimit: no retry": {
			fails:      "1",
			want:       trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 1: attempt 1", ExitCode: intp(1)},
			wantStdout: "out 1\n",
			wantStderr: "attempt 1\n",
		},
		"backoffLimit 0: no retry": {
			backoffLimit: 0, fails: "1",
			want: trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 1: attempt 1", ExitCode: intp(1)},
		},
		"succeeds on the last retry": {
			backoffLimit: 2, fails: "2",
			want:        trial.Result{State: trial.Succeeded, ExitCode: intp(0)},
			wantRetries: []int{2, 3},
			wantStdout:  "out 1\nout 2\nout 3\n",
			wantStderr:  "attempt 1\nattempt 2\nattempt 3\n",
		},
		"succeeds first: no retry": {
			backoffLimit: 3, fails: "0",
			want: trial.Result{State: trial.Succeeded, ExitCode: intp(0)},
		},
		"fails every attempt": {
			backoffLimit: 2, fails: "5",
			want:        trial.Result{State: trial.Failed, Reason: "Error", Message: "failed after 3 attempts: exit code 1: attempt 3", ExitCode: intp(1)},
			wantRetries: []int{2, 3},
			wantStdout:  "out 1\nout 2\nout 3\n",
			wantStderr:  "attempt 1\nattempt 2\nattempt 3\n",
		},
		"start errors are retried": {
			backoffLimit: 1,
			command:      []any{"no-such-program-for-tune-tests"},
			want:         trial.Result{State: trial.Failed, Reason: "StartError"},
			wantPrefix:   `failed after 2 attempts: cannot start trial process: executable "no-such-program-for-tune-tests" not found`,
			wantRetries:  []int{2},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			count := filepath.Join(t.TempDir(), "count")
			command := tc.command
			if command == nil {
				command = helperCommand(t, "flaky")
			}
			spec := helperSpec(t, container("training", command, count, tc.fails))
			if tc.backoffLimit != nil {
				jobSpec(spec)["backoffLimit"] = tc.backoffLimit
			}
			var log retryLog
			spec.OnRetry = log.onRetry
			var stdout, stderr bytes.Buffer
			got, err := newExecutor(t, Options{RetryDelay: time.Millisecond}).Run(t.Context(), spec, &stdout, &stderr)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkResult(t, got, tc.want, tc.wantPrefix)
			if diff := cmp.Diff(tc.wantRetries, log.get()); diff != "" {
				t.Errorf("OnRetry calls (-want +got):\n%s", diff)
			}
			if tc.wantStdout != "" && stdout.String() != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tc.wantStdout)
			}
			if tc.wantStderr != "" && stderr.String() != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

func TestRunKilledIsNotRetried(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "ready")
	spec := helperSpec(t, container("training", helperCommand(t, "sleep"), ready))
	jobSpec(spec)["backoffLimit"] = 3
	var log retryLog
	spec.OnRetry = log.onRetry
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		if waitFor(10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
			cancel()
		}
	}()
	got, err := newExecutor(t, Options{RetryDelay: time.Millisecond}).Run(ctx, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := trial.Result{State: trial.Killed, Reason: "Killed", Message: "stopped: context canceled"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(trial.Result{}, "ExitCode")); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if calls := log.get(); len(calls) != 0 {
		t.Errorf("OnRetry called with %v", calls)
	}
}

func TestRunCancelledBetweenAttempts(t *testing.T) {
	t.Parallel()
	count := filepath.Join(t.TempDir(), "count")
	dir := t.TempDir()
	record := filepath.Join(dir, ProcessRecordName)
	// The attempt counts itself only once its process record is written,
	// so that the count written and the record emptied mean that the
	// first attempt's process has been reaped: Run is then waiting for
	// the hour-long retry delay.
	spec := helperSpec(t, container("training", helperCommand(t, "flaky"), count, "5", record))
	spec.Dir = dir
	jobSpec(spec)["backoffLimit"] = 3
	var log retryLog
	spec.OnRetry = log.onRetry
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		if waitFor(time.Minute, func() bool {
			_, err1 := os.Stat(count)
			fi, err2 := os.Stat(record)
			return err1 == nil && err2 == nil && fi.Size() == 0
		}) {
			cancel()
		}
	}()
	done := make(chan trial.Result, 1)
	go func() {
		res, err := newExecutor(t, Options{RetryDelay: time.Hour}).Run(ctx, spec, nil, nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var got trial.Result
	select {
	case got = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("Run did not return when cancelled during the retry delay")
	}
	want := trial.Result{State: trial.Killed, Reason: "Killed", Message: "stopped before attempt 2: context canceled"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if calls := log.get(); len(calls) != 0 {
		t.Errorf("OnRetry called with %v", calls)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for attempt := 2; attempt <= 10; attempt++ {
		got = append(got, retryDelay(10*time.Second, attempt))
	}
	s := time.Second
	want := []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 320 * s, 360 * s, 360 * s, 360 * s}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if got := retryDelay(10*time.Minute, 5); got != 10*time.Minute {
		t.Errorf("delay with a 10m base = %s, want 10m", got)
	}
	if got := retryDelay(time.Second, 1000); got != maxRetryDelay {
		t.Errorf("delay of attempt 1000 = %s, want %s", got, maxRetryDelay)
	}
}

// fastDeadlines makes one second of activeDeadlineSeconds last 10 ms.
func fastDeadlines(e *Executor) *Executor {
	e.second = 10 * time.Millisecond
	return e
}

func TestRunDeadline(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		jobDeadline, podDeadline any // nil: unset
		backoffLimit             any
		mode                     string
		args                     []string
		wantMessage              string
	}{
		"job deadline": {
			jobDeadline: 5, mode: "sleep", args: []string{"-"},
			wantMessage: "trial exceeded activeDeadlineSeconds=5 (spec.activeDeadlineSeconds) and was stopped",
		},
		"SIGTERM ignored": {
			jobDeadline: 5, mode: "sleep", args: []string{"-", "ignore-term"},
			wantMessage: "trial exceeded activeDeadlineSeconds=5 (spec.activeDeadlineSeconds) and was stopped",
		},
		"pod deadline smaller": {
			jobDeadline: 500, podDeadline: 3, mode: "sleep", args: []string{"-"},
			wantMessage: "trial exceeded activeDeadlineSeconds=3 (spec.template.spec.activeDeadlineSeconds) and was stopped",
		},
		"job deadline smaller": {
			jobDeadline: 4, podDeadline: 500, mode: "sleep", args: []string{"-"},
			wantMessage: "trial exceeded activeDeadlineSeconds=4 (spec.activeDeadlineSeconds) and was stopped",
		},
		"deadline is not retried": {
			jobDeadline: 5, backoffLimit: 3, mode: "sleep", args: []string{"-"},
			wantMessage: "trial exceeded activeDeadlineSeconds=5 (spec.activeDeadlineSeconds) and was stopped",
		},
		"deadline counts across retries": {
			// Without a deadline spanning attempts, 1001 attempts would end
			// in "failed after 1001 attempts".
			jobDeadline: 20, backoffLimit: 1000, mode: "flaky", args: []string{"COUNT", "100000"},
			// On a loaded machine the deadline may pass during attempt 1,
			// whose message has no "during attempt N".
			wantMessage: "trial exceeded activeDeadlineSeconds=20 (spec.activeDeadlineSeconds) and was stopped",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.mode == "flaky" {
				args = []string{filepath.Join(t.TempDir(), "count"), args[1]}
			}
			spec := helperSpec(t, container("training", helperCommand(t, tc.mode), args...))
			if tc.jobDeadline != nil {
				jobSpec(spec)["activeDeadlineSeconds"] = tc.jobDeadline
			}
			if tc.podDeadline != nil {
				podSpec(spec.Object)["activeDeadlineSeconds"] = tc.podDeadline
			}
			if tc.backoffLimit != nil {
				jobSpec(spec)["backoffLimit"] = tc.backoffLimit
			}
			var log retryLog
			spec.OnRetry = log.onRetry
			e := fastDeadlines(newExecutor(t, Options{KillGrace: 50 * time.Millisecond, RetryDelay: time.Millisecond}))
			got, err := e.Run(t.Context(), spec, nil, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got.State != trial.Failed || got.Reason != "DeadlineExceeded" {
				t.Errorf("result = %+v, want Failed, DeadlineExceeded", got)
			}
			if tc.mode == "flaky" {
				if !strings.HasPrefix(got.Message, tc.wantMessage) {
					t.Errorf("message = %q, want prefix %q", got.Message, tc.wantMessage)
				}
				return
			}
			if got.Message != tc.wantMessage {
				t.Errorf("message = %q, want %q", got.Message, tc.wantMessage)
			}
			if calls := log.get(); len(calls) != 0 {
				t.Errorf("OnRetry called with %v", calls)
			}
		})
	}
}

func TestRunDeadlineThenCancel(t *testing.T) {
	t.Parallel()
	// A cancelled context is Killed, not DeadlineExceeded, when the
	// deadline has not passed.
	ready := filepath.Join(t.TempDir(), "ready")
	spec := helperSpec(t, container("training", helperCommand(t, "sleep"), ready))
	jobSpec(spec)["activeDeadlineSeconds"] = 3600
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		if waitFor(10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
			cancel()
		}
	}()
	got, err := newExecutor(t, Options{}).Run(ctx, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != trial.Killed || got.Message != "stopped: context canceled" {
		t.Errorf("result = %+v, want Killed", got)
	}
}

func TestJobLimits(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit         func(job map[string]any)
		wantDeadline *deadline
		wantRetries  int
	}{
		"none": {edit: func(map[string]any) {}},
		"job only": {
			edit:         func(job map[string]any) { job["spec"].(map[string]any)["activeDeadlineSeconds"] = 60 },
			wantDeadline: &deadline{seconds: 60, field: "spec.activeDeadlineSeconds"},
		},
		"pod only": {
			edit:         func(job map[string]any) { podSpec(job)["activeDeadlineSeconds"] = 30 },
			wantDeadline: &deadline{seconds: 30, field: "spec.template.spec.activeDeadlineSeconds"},
		},
		"backoffLimit": {
			edit:        func(job map[string]any) { job["spec"].(map[string]any)["backoffLimit"] = 4 },
			wantRetries: 4,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := specJob(func(job, _ map[string]any) { tc.edit(job) })
			p, err := newExecutor(t, Options{}).plan(spec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantDeadline, p.deadline, cmp.AllowUnexported(deadline{})); diff != "" {
				t.Errorf("deadline (-want +got):\n%s", diff)
			}
			if p.retries != tc.wantRetries {
				t.Errorf("retries = %d, want %d", p.retries, tc.wantRetries)
			}
		})
	}
}
