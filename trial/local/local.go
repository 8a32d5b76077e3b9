package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tune-hpo/tune/trial"
)

// Options configures an [Executor]. The zero value is ready to use: trials
// run in the current directory with tune's own environment and no GPUs.
type Options struct {
	// Dir is the working directory of trials whose container sets no
	// workingDir, and the directory a relative workingDir is relative to.
	// "" means tune's current directory.
	// With a container Runtime it is not used: the image's working
	// directory applies, and workingDir must be absolute.
	Dir string
	// Env is the base environment of every trial, as KEY=VALUE. nil means
	// tune's own environment (os.Environ at the time of each Run); an empty,
	// non-nil slice means an empty base environment. With a container
	// Runtime it is not used: the image's environment is the base.
	Env []string
	// GPUs lists the GPU ids handed out to trials whose container asks for
	// nvidia.com/gpu, for example {"0", "1"} (see [DetectGPUs]). nil means
	// none are configured: trials asking for a GPU are then an error, and
	// CUDA_VISIBLE_DEVICES is left as the environment has it.
	GPUs []string
	// KillGrace is how long a trial's process group has between SIGTERM and
	// SIGKILL when its context is done. Zero means 10 seconds.
	KillGrace time.Duration
	// RetryDelay is how long a trial waits before its first retry when its
	// Job's backoffLimit allows retries; each later retry waits twice as
	// long as the one before, up to 6 minutes (or RetryDelay when it is
	// longer), as Kubernetes' Job controller does. Zero means 10 seconds.
	RetryDelay time.Duration
	// StderrTail is how many of the last lines of a trial's standard error
	// go into the message of a Failed result (at most 8 KiB of them). Zero
	// means 20.
	StderrTail int
	// MountHelper is the path of an executable whose main function calls
	// [RunMountHelper] before anything else (tune's own executable, or a
	// test binary whose TestMain does): trials whose spec asks for mounts
	// ([trial.Spec.Mounts]) are started through it, inside namespaces of
	// their own, where the system allows (see the package documentation,
	// Mounts). "" means trials never get mounts. A relative path is made
	// absolute by New.
	MountHelper string
	// Runtime says where trials' processes run: "" or [RuntimeHost] on
	// this machine, [RuntimePodman] or [RuntimeDocker] each in a container
	// of its own, from its container's image (see the package
	// documentation, Containers). The runtime's program is looked up in
	// tune's PATH by New; when it is missing, [Executor.Check] and
	// [Executor.Run] say so.
	Runtime Runtime
}

// Executor runs each trial's primary container command as a process on this
// machine. See the package documentation for what it honours of the Job.
// An Executor is safe for concurrent use; New makes one.
type Executor struct {
	dir        string
	env        []string
	gpuIDs     []string
	gpus       *gpuPool // nil when no GPUs are configured
	killGrace  time.Duration
	retryDelay time.Duration
	stderrTail int

	runtime     Runtime
	runtimePath string // the runtime's program, when found
	runtimeErr  error  // why it was not

	mountHelper string
	// mountProbe finds out whether, and how, trials can get mounts; it is
	// called once, by MountsSupported (tests replace it).
	mountProbe  func() (mountMode, error)
	mountOnce   sync.Once
	mountOK     bool
	mountReason string // why not, when !mountOK
	mountMode   mountMode

	// second is how long one second of activeDeadlineSeconds lasts: a
	// second, except in tests.
	second time.Duration
}

var (
	_ trial.Executor  = (*Executor)(nil)
	_ trial.Checker   = (*Executor)(nil)
	_ trial.Recoverer = (*Executor)(nil)
)

// New returns an Executor configured by opts, or an error when opts is
// invalid: a negative KillGrace, RetryDelay or StderrTail, an empty or
// repeated GPU id, a MountHelper that cannot be made absolute, or an
// unknown Runtime. It looks up a container runtime's program in PATH,
// but does not start it, nor the mount helper: [Executor.MountsSupported]
// starts that, once.
func New(opts Options) (*Executor, error) {
	if opts.KillGrace < 0 {
		return nil, fmt.Errorf("local executor: negative kill grace %s", opts.KillGrace)
	}
	if opts.RetryDelay < 0 {
		return nil, fmt.Errorf("local executor: negative retry delay %s", opts.RetryDelay)
	}
	if opts.StderrTail < 0 {
		return nil, fmt.Errorf("local executor: negative stderr tail %d", opts.StderrTail)
	}
	seen := make(map[string]bool, len(opts.GPUs))
	for _, id := range opts.GPUs {
		if id == "" || strings.ContainsAny(id, ", \t\n") {
			return nil, fmt.Errorf("local executor: invalid GPU id %q", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("local executor: GPU id %q listed twice", id)
		}
		seen[id] = true
	}
	var err error
	e := &Executor{
		dir:        opts.Dir,
		env:        slices.Clone(opts.Env),
		gpuIDs:     slices.Clone(opts.GPUs),
		killGrace:  opts.KillGrace,
		retryDelay: opts.RetryDelay,
		stderrTail: opts.StderrTail,
		second:     time.Second,
	}
	if opts.MountHelper != "" {
		abs, err := filepath.Abs(opts.MountHelper)
		if err != nil {
			return nil, fmt.Errorf("local executor: mount helper: %w", err)
		}
		e.mountHelper = abs
	}
	e.mountProbe = e.defaultMountProbe
	if e.runtime, err = ParseRuntime(string(opts.Runtime)); err != nil {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	if e.runtime.container() {
		if e.runtimePath, err = exec.LookPath(string(e.runtime)); err != nil {
			e.runtimeErr = fmt.Errorf("container runtime %s: %w", e.runtime, err)
		}
	}
	if opts.Env != nil && e.env == nil {
		e.env = []string{}
	}
	if e.killGrace == 0 {
		e.killGrace = 10 * time.Second
	}
	if e.retryDelay == 0 {
		e.retryDelay = 10 * time.Second
	}
	if e.stderrTail == 0 {
		e.stderrTail = 20
	}
	if len(e.gpuIDs) > 0 {
		e.gpus = newGPUPool(e.gpuIDs)
	}
	return e, nil
}

// Check reports whether spec is runnable by e, without running anything: a
// batch/v1 Job that decodes strictly, with a primary container that has a
// command, env that can be resolved on this machine, no more GPUs than e
// has, a positive activeDeadlineSeconds (of the Job and of its pod
// template) when set and a backoffLimit that is not negative; with a
// container runtime also that the runtime's program was found, and that
// the container has an image, an absolute workingDir when set, a valid
// imagePullPolicy and mount paths the runtime can carry. It does not look
// for the program: a missing program is the trial's failure, not the
// experiment's (see [Executor.Run]).
func (e *Executor) Check(spec *trial.Spec) error {
	if isWorkflow(spec) {
		_, err := e.checkWorkflow(spec)
		return err
	}
	_, err := e.plan(spec)
	return err
}

// Run runs the trial described by spec and waits for it to end, copying the
// process's standard output and standard error to stdout and stderr (nil
// means discard) as they are produced; the two are never written
// concurrently. While a process runs, its process group is recorded in
// spec.Dir for [Executor.Recover].
//
// The error is non-nil only when spec cannot be run by this executor (see
// [Executor.Check]). Everything that happens to the trial itself is a
// [trial.Result]:
//
//   - exit status 0: Succeeded;
//   - another exit status: Failed, reason "Error", with ExitCode and the
//     message "exit code N: " followed by the last lines of standard error;
//   - killed by a signal tune did not send: Failed, reason "Signal", with
//     ExitCode 128+signal as Kubernetes reports it;
//   - ctx done (before, while waiting for a GPU, while running or between
//     attempts): Killed, reason "Killed";
//   - the Job's activeDeadlineSeconds passed: Failed, reason
//     "DeadlineExceeded", with a message naming the limit;
//   - the program could not be started (not found, not executable, a
//     missing working directory): Failed, reason "StartError". This is
//     deliberately a result rather than an error, though [trial.Executor]
//     reserves errors for workloads that could not be started: the spec is
//     fine, and like a Kubernetes container that fails to start
//     (StartError/ContainerCannotRun) it is this trial that failed, not the
//     executor; the runner then counts it against maxFailedTrialCount
//     instead of aborting the experiment. The exception is a start that
//     failed because tune itself ran out of file descriptors, memory,
//     processes or disk (EMFILE, ENFILE, ENOMEM, EAGAIN, ENOSPC, EDQUOT):
//     that is the machine's fault, not the trial's, and Run returns an
//     error wrapping the errno.
//
// A Failed attempt other than DeadlineExceeded is retried as long as the
// Job's backoffLimit allows, after a delay (see [Options.RetryDelay]), and
// spec.OnRetry is called before each retry. The result is the last
// attempt's, its message starting "failed after N attempts: " when there
// were several.
func (e *Executor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	if isWorkflow(spec) {
		return e.runWorkflow(ctx, spec, stdout, stderr)
	}
	p, err := e.plan(spec)
	if err != nil {
		return trial.Result{}, err
	}
	if ctx.Err() != nil {
		return killed("stopped before start", context.Cause(ctx), nil), nil
	}
	env := p.env
	if e.gpus != nil {
		// The GPUs are held from the first attempt to the end of the last,
		// delays between attempts included.
		ids, err := e.gpus.acquire(ctx, p.gpus)
		if err != nil {
			return killed("stopped while waiting for a GPU", err, nil), nil
		}
		defer e.gpus.release(ids)
		// A trial asking for no GPU gets none, rather than all of them.
		env = setEnv(env, "CUDA_VISIBLE_DEVICES", strings.Join(ids, ","))
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var mu sync.Mutex
	out := &lockedWriter{mu: &mu, w: stdout}
	errOut := &lockedWriter{mu: &mu, w: stderr}

	// The deadline counts from the first attempt, across retries, as a
	// Job's does.
	runCtx := ctx
	if p.deadline != nil {
		if d, ok := e.deadlineDuration(p.deadline); ok {
			var cancel context.CancelFunc
			runCtx, cancel = context.WithTimeoutCause(ctx, d, p.deadline)
			defer cancel()
		}
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if res, ok := e.retryWait(runCtx, attempt); !ok {
				return res, nil
			}
			if spec.OnRetry != nil {
				spec.OnRetry(attempt)
			}
		}
		tail := newTailBuffer(e.stderrTail, tailMaxBytes)
		res, err := e.attempt(runCtx, attempt, p, env, out, io.MultiWriter(errOut, tail), tail)
		if err != nil {
			return res, err
		}
		if res.State != trial.Failed || res.Reason == reasonDeadline || attempt > p.retries {
			if attempt > 1 && res.State == trial.Failed && res.Reason != reasonDeadline {
				res.Message = fmt.Sprintf("failed after %d attempts: %s", attempt, res.Message)
			}
			return res, nil
		}
	}
}

// reasonDeadline is the reason of a trial stopped by its deadline, the one
// Kubernetes gives a Job that exceeds activeDeadlineSeconds.
const reasonDeadline = "DeadlineExceeded"

// maxRetryDelay caps the delay between attempts, as Kubernetes' Job
// controller caps its pod-failure backoff at 360 s.
const maxRetryDelay = 6 * time.Minute

// retryDelay is the delay before attempt (2, 3, ...): base, then doubling,
// capped at maxRetryDelay or base when base is longer.
func retryDelay(base time.Duration, attempt int) time.Duration {
	limit := max(maxRetryDelay, base)
	d := base
	for range attempt - 2 {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// retryWait waits before attempt. It returns false, with the trial's
// result, when ctx is done first.
func (e *Executor) retryWait(ctx context.Context, attempt int) (trial.Result, bool) {
	t := time.NewTimer(retryDelay(e.retryDelay, attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return trial.Result{}, true
	case <-ctx.Done():
		what := fmt.Sprintf("stopped before attempt %d", attempt)
		return stopped(ctx, what, fmt.Sprintf("before attempt %d", attempt), nil, nil), false
	}
}

// deadlineDuration converts dl to a duration; false means it is too long to
// ever pass.
func (e *Executor) deadlineDuration(dl *deadline) (time.Duration, bool) {
	if dl.seconds > int64(math.MaxInt64/e.second) {
		return 0, false
	}
	return time.Duration(dl.seconds) * e.second, true
}

// attempt makes attempt number n at running the planned process.
func (e *Executor) attempt(ctx context.Context, n int, p *plan, env []string, stdout, stderr io.Writer, tail *tailBuffer) (trial.Result, error) {
	if ctx.Err() != nil {
		return stopped(ctx, "stopped before start", during(n), nil, nil), nil
	}
	if e.runtime.container() {
		// The working directory and the program are the image's.
		return e.start(ctx, n, e.runtimePath, p, env, stdout, stderr, tail)
	}
	if p.dir != "" {
		// exec would report a missing directory as a missing program.
		if fi, err := os.Stat(p.dir); err != nil {
			return startError(fmt.Errorf("working directory: %w", err)), nil
		} else if !fi.IsDir() {
			return startError(fmt.Errorf("working directory %s is not a directory", p.dir)), nil
		}
	}
	pathList, _ := getEnv(env, "PATH")
	path, err := lookPath(p.argv[0], pathList, p.dir)
	if err != nil {
		return startError(err), nil
	}
	return e.start(ctx, n, path, p, env, stdout, stderr, tail)
}

// stopped is the result of a trial whose context is done: DeadlineExceeded
// when its deadline passed, Killed otherwise. when says at which point of a
// trial with several attempts ("during attempt 2"); tail, when not nil,
// ends the message of a DeadlineExceeded result.
func stopped(ctx context.Context, what, when string, code *int, tail *tailBuffer) trial.Result {
	cause := context.Cause(ctx)
	var dl *deadline
	if !errors.As(cause, &dl) {
		return killed(what, cause, code)
	}
	msg := dl.Error() + " and was stopped"
	if when != "" {
		msg += " " + when
	}
	if tail != nil {
		msg = withTail(msg, tail)
	}
	return trial.Result{State: trial.Failed, Reason: reasonDeadline, Message: msg, ExitCode: code}
}

// during says when attempt n was stopped, for a message of [stopped].
func during(n int) string {
	if n > 1 {
		return fmt.Sprintf("during attempt %d", n)
	}
	return ""
}

func killed(what string, cause error, code *int) trial.Result {
	msg := what
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return trial.Result{State: trial.Killed, Reason: "Killed", Message: msg, ExitCode: code}
}

func startError(err error) trial.Result {
	return trial.Result{State: trial.Failed, Reason: "StartError", Message: "cannot start trial process: " + err.Error()}
}

// withTail appends the stderr tail to msg.
func withTail(msg string, tail *tailBuffer) string {
	if s := tail.String(); s != "" {
		return msg + ": " + s
	}
	return msg
}

// lockedWriter serializes writes to w with the mutex it shares with others.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("copy trial output: %w", err)
	}
	return n, nil
}
