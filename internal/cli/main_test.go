package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/internal/cli"
	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/trial/local"
)

// Most tests run tune in-process: tune and tuneEnv call cli.Main with the
// test's working directory and environment, as the binary would see them.
// Trials still run as processes: TestMain builds the trial program once.
// The few tests that need tune as a process of its own (signals, SIGKILL,
// a closed pipe, a runner holding a store while another one asks) start
// the real binary, built on first use by tuneBinary.

// trialBin is the trial program the experiments run, built by TestMain.
var trialBin string

// binDir holds the programs the tests build.
var binDir string

func TestMain(m *testing.M) {
	// In-process runs name the test binary as the trials' mount helper
	// (os.Executable), as tune names itself.
	local.RunMountHelper()
	dir, err := os.MkdirTemp("", "tune-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	trialBin = filepath.Join(dir, "trialprog")
	// The trial program is not under test: it is built without -race,
	// which makes its many processes start faster.
	if err := testutil.Build(map[string]string{trialBin: "./testdata/trialprog"}, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	testutil.CleanupContainers()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	tuneBinOnce sync.Once
	tuneBinPath string
	tuneBinErr  error
)

// tuneBinary returns the path of the tune binary, built (with -race when
// the tests run with it) on the first call.
func tuneBinary(t *testing.T) string {
	t.Helper()
	tuneBinOnce.Do(func() {
		bin := filepath.Join(binDir, "tune")
		if tuneBinErr = testutil.Build(map[string]string{bin: "github.com/tune-hpo/tune/cmd/tune"}, raceEnabled); tuneBinErr == nil {
			tuneBinPath = bin
		}
	})
	if tuneBinErr != nil {
		t.Fatal(tuneBinErr)
	}
	return tuneBinPath
}

// result is one tune invocation's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// tune runs tune in-process in dir with a clean TUNE_* environment.
func tune(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return tuneEnv(t, dir, cleanEnv(), args...)
}

// processState serializes in-process runs of tune: each one changes the
// test process's working directory and environment while it runs.
var processState sync.Mutex

// tuneEnv runs tune in-process in dir with env as the whole environment,
// and XDG_CONFIG_HOME set to dir/xdg unless env sets it.
func tuneEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "XDG_CONFIG_HOME=") }) {
		env = append(env, "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	}
	r, err := runTune(dir, env, args...)
	if err != nil {
		t.Fatalf("tune %v: %v", args, err)
	}
	return r
}

// runTune runs tune in-process with args in dir with env as the whole
// environment. The working directory and environment are the process's own
// while tune runs, so that tune and its trials see them as a tune process
// would; they are restored afterwards. The error says why tune could not
// run; the result holds its exit code.
func runTune(dir string, env []string, args ...string) (r result, err error) {
	processState.Lock()
	defer processState.Unlock()
	restore, err := enterProcessState(dir, env)
	if err != nil {
		return result{}, err
	}
	defer func() { err = errors.Join(err, restore()) }()
	var out, errOut syncBuffer
	code := cli.Main(context.Background(), args, cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}, nil
}

// enterProcessState makes dir the working directory and env the
// environment of the test process; restore puts back the old ones.
func enterProcessState(dir string, env []string) (restore func() error, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	saved := os.Environ()
	restore = func() error {
		return errors.Join(setEnviron(saved), os.Chdir(wd))
	}
	if err := os.Chdir(dir); err != nil {
		return nil, err
	}
	if err := setEnviron(env); err != nil {
		return nil, errors.Join(err, restore())
	}
	return restore, nil
}

// setEnviron replaces the process's environment with env (KEY=value
// entries; a later one wins, as for exec.Cmd.Env).
func setEnviron(env []string) error {
	os.Clearenv()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("setenv %s: %w", k, err)
		}
	}
	return nil
}

// tuneProcess returns a command that runs the tune binary with args in
// dir with a clean TUNE_* environment.
func tuneProcess(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(tuneBinary(t), args...)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	return cmd
}

// cleanEnv returns the test process's environment without TUNE_*
// variables.
func cleanEnv() []string {
	processState.Lock()
	defer processState.Unlock()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TUNE_") {
			env = append(env, kv)
		}
	}
	return env
}

// syncBuffer is the tests' concurrency-safe buffer.
type syncBuffer = testutil.SyncBuffer
