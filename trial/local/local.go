package local

import (
	"context"
	"fmt"
	"io"
	"os"
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
	Dir string
	// Env is the base environment of every trial, as KEY=VALUE. nil means
	// tune's own environment (os.Environ at the time of each Run); an empty,
	// non-nil slice means an empty base environment.
	Env []string
	// GPUs lists the GPU ids handed out to trials whose container asks for
	// nvidia.com/gpu, for example {"0", "1"} (see [DetectGPUs]). nil means
	// none are configured: trials asking for a GPU are then an error, and
	// CUDA_VISIBLE_DEVICES is left as the environment has it.
	GPUs []string
	// KillGrace is how long a trial's process group has between SIGTERM and
	// SIGKILL when its context is done. Zero means 10 seconds.
	KillGrace time.Duration
	// StderrTail is how many of the last lines of a trial's standard error
	// go into the message of a Failed result (at most 8 KiB of them). Zero
	// means 20.
	StderrTail int
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
	stderrTail int
}

var (
	_ trial.Executor = (*Executor)(nil)
	_ trial.Checker  = (*Executor)(nil)
)

// New returns an Executor configured by opts, or an error when opts is
// invalid: a negative KillGrace or StderrTail, or an empty or repeated GPU
// id.
func New(opts Options) (*Executor, error) {
	if opts.KillGrace < 0 {
		return nil, fmt.Errorf("local executor: negative kill grace %s", opts.KillGrace)
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
	e := &Executor{
		dir:        opts.Dir,
		env:        slices.Clone(opts.Env),
		gpuIDs:     slices.Clone(opts.GPUs),
		killGrace:  opts.KillGrace,
		stderrTail: opts.StderrTail,
	}
	if opts.Env != nil && e.env == nil {
		e.env = []string{}
	}
	if e.killGrace == 0 {
		e.killGrace = 10 * time.Second
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
// command, env that can be resolved on this machine, and no more GPUs than
// e has. It does not look for the program: a missing program is the
// trial's failure, not the experiment's (see [Executor.Run]).
func (e *Executor) Check(spec *trial.Spec) error {
	_, err := e.plan(spec)
	return err
}

// Run runs the trial described by spec and waits for it to end, copying the
// process's standard output and standard error to stdout and stderr (nil
// means discard) as they are produced; the two are never written
// concurrently.
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
//   - ctx done (before, while waiting for a GPU or while running): Killed,
//     reason "Killed";
//   - the program could not be started (not found, not executable, a
//     missing working directory): Failed, reason "StartError". This is
//     deliberately a result rather than an error, though [trial.Executor]
//     reserves errors for workloads that could not be started: the spec is
//     fine, and like a Kubernetes container that fails to start
//     (StartError/ContainerCannotRun) it is this trial that failed, not the
//     executor; the runner then counts it against maxFailedTrialCount
//     instead of aborting the experiment.
func (e *Executor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	p, err := e.plan(spec)
	if err != nil {
		return trial.Result{}, err
	}
	if ctx.Err() != nil {
		return killed("stopped before start", context.Cause(ctx), nil), nil
	}
	env := p.env
	if e.gpus != nil {
		ids, err := e.gpus.acquire(ctx, p.gpus)
		if err != nil {
			return killed("stopped while waiting for a GPU", err, nil), nil
		}
		defer e.gpus.release(ids)
		// A trial asking for no GPU gets none, rather than all of them.
		env = setEnv(env, "CUDA_VISIBLE_DEVICES", strings.Join(ids, ","))
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
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var mu sync.Mutex
	out := &lockedWriter{mu: &mu, w: stdout}
	tail := newTailBuffer(e.stderrTail, tailMaxBytes)
	errw := io.MultiWriter(&lockedWriter{mu: &mu, w: stderr}, tail)
	return e.start(ctx, path, p, env, out, errw, tail)
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
