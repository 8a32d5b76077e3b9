package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/trial"
)

// mountModes are the ways a trial can get its mounts that this machine
// allows, by name: without a user namespace only when the tests run as
// root.
func mountModes(t *testing.T) map[string]mountMode {
	t.Helper()
	modes := map[string]mountMode{"userns": {userNS: true}}
	if os.Geteuid() == 0 {
		modes["root"] = mountMode{userNS: false}
	}
	return modes
}

// mountExecutor returns an executor that uses the test binary as its mount
// helper and starts trials in mode m, skipping the test when this machine
// does not allow it.
func mountExecutor(t *testing.T, m mountMode) *Executor {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{MountHelper: exe, KillGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.mountProbe = func() (mountMode, error) { return m, e.probeMode(m) }
	if ok, reason := e.MountsSupported(); !ok {
		t.Skipf("this machine does not allow mounts in a trial: %s", reason)
	}
	return e
}

// shSpec returns a spec whose trial runs script with /bin/sh (a test
// program: tune itself never runs a shell), with mounts.
func shSpec(t *testing.T, script string, mounts ...trial.Mount) *trial.Spec {
	t.Helper()
	spec := helperSpec(t, container("training", []any{"/bin/sh", "-c", script}))
	spec.Mounts = mounts
	return spec
}

// missingTarget returns a path under /var/log (a root-owned directory on
// most systems) that does not exist, and checks at the end of the test
// that it still does not exist on the host.
func missingTarget(t *testing.T, rest ...string) string {
	t.Helper()
	base := filepath.Join("/var/log", fmt.Sprintf("tune-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")))
	if _, err := os.Stat("/var/log"); err != nil {
		t.Skipf("no /var/log to test with: %v", err)
	}
	if _, err := os.Lstat(base); err == nil {
		t.Fatalf("%s exists", base)
	}
	t.Cleanup(func() {
		if _, err := os.Lstat(base); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after the trial, %s exists on the host (%v)", base, err)
			os.RemoveAll(base)
		}
	})
	return filepath.Join(append([]string{base}, rest...)...)
}

// waitRecord waits for the process record in dir and returns it.
func waitRecord(t *testing.T, dir string) *processRecord {
	t.Helper()
	var rec *processRecord
	var err error
	if !waitFor(10*time.Second, func() bool {
		rec, err = readRecord(dir)
		return rec != nil || err != nil
	}) {
		t.Fatal("no process record")
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func mustRun(t *testing.T, e *Executor, spec *trial.Spec) (trial.Result, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	res, err := e.Run(context.Background(), spec, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.State != trial.Succeeded {
		t.Fatalf("trial %s (%s): %s; stderr:\n%s", res.State, res.Reason, res.Message, stderr.String())
	}
	return res, stderr.String()
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestMountsSupportedHere(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{MountHelper: exe})
	if err != nil {
		t.Fatal(err)
	}
	ok, reason := e.MountsSupported()
	if !ok {
		t.Skipf("this machine does not allow mounts in a trial: %s", reason)
	}
	if reason != "" {
		t.Errorf("MountsSupported() = true, %q; want no reason", reason)
	}
	if os.Geteuid() != 0 && !e.mountMode.userNS {
		t.Errorf("not root, but trials get no user namespace")
	}
}

func TestMountMissingTarget(t *testing.T) {
	for name, m := range mountModes(t) {
		t.Run(name, func(t *testing.T) {
			e := mountExecutor(t, m)
			target := missingTarget(t, "katib")
			src := filepath.Join(t.TempDir(), "var", "log", "katib")
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			script := `echo "loss=0.25" > "$1/metrics.log" && id -u > "$1/uid" && ls /var/log > "$1/varlog" && grep CapEff /proc/self/status > "$1/caps"`
			spec := shSpec(t, script, trial.Mount{Source: src, Target: target})
			spec.Object = jobObject(container("training", []any{"/bin/sh", "-c", script, "sh", target}))
			mustRun(t, e, spec)
			if got := readFile(t, filepath.Join(src, "metrics.log")); got != "loss=0.25\n" {
				t.Errorf("metrics.log in the source = %q, want %q", got, "loss=0.25\n")
			}
			if got, want := strings.TrimSpace(readFile(t, filepath.Join(src, "uid"))), strconv.Itoa(os.Geteuid()); got != want {
				t.Errorf("the trial's uid is %s, want %s", got, want)
			}
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(src, "metrics.log"), &st); err != nil {
				t.Fatal(err)
			}
			if int(st.Uid) != os.Geteuid() {
				t.Errorf("the trial's file is owned by uid %d, want %d", st.Uid, os.Geteuid())
			}
			if m.userNS && os.Geteuid() != 0 {
				if got := strings.Fields(readFile(t, filepath.Join(src, "caps"))); len(got) != 2 || strings.Trim(got[1], "0") != "" {
					t.Errorf("the trial has capabilities: %q", got)
				}
			}
			// The rest of /var/log is still visible inside the trial.
			host, err := os.ReadDir("/var/log")
			if err != nil {
				t.Fatal(err)
			}
			seen := strings.Fields(readFile(t, filepath.Join(src, "varlog")))
			for _, h := range host {
				if !slices.Contains(seen, h.Name()) {
					t.Errorf("/var/log/%s is not visible inside the trial (it saw %q)", h.Name(), seen)
				}
			}
		})
	}
}

func TestMountExistingTarget(t *testing.T) {
	for name, m := range mountModes(t) {
		t.Run(name, func(t *testing.T) {
			e := mountExecutor(t, m)
			target := t.TempDir()
			if err := os.WriteFile(filepath.Join(target, "host-file"), []byte("host"), 0o644); err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()
			script := `echo written > "$1/trial-file" && ls -A "$1" > "$1/listing"`
			spec := shSpec(t, "", trial.Mount{Source: src, Target: target})
			spec.Object = jobObject(container("training", []any{"/bin/sh", "-c", script, "sh", target}))
			mustRun(t, e, spec)
			if got := readFile(t, filepath.Join(src, "trial-file")); got != "written\n" {
				t.Errorf("trial-file in the source = %q", got)
			}
			if got := strings.Fields(readFile(t, filepath.Join(src, "listing"))); slices.Contains(got, "host-file") {
				t.Errorf("the trial saw the host's target contents %q, not the source's", got)
			}
			entries, err := os.ReadDir(target)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "host-file" {
				t.Errorf("the host's target holds %v after the trial, want only host-file", entries)
			}
		})
	}
}

func TestMountSeveralUnderOneMissingDir(t *testing.T) {
	e := mountExecutor(t, mountMode{userNS: true})
	a, b := missingTarget(t, "a"), missingTarget(t, "b")
	srcA, srcB := t.TempDir(), t.TempDir()
	script := `echo A > "$1/f" && echo B > "$2/f"`
	spec := shSpec(t, "", trial.Mount{Source: srcA, Target: a}, trial.Mount{Source: srcB, Target: b})
	spec.Object = jobObject(container("training", []any{"/bin/sh", "-c", script, "sh", a, b}))
	mustRun(t, e, spec)
	if got := readFile(t, filepath.Join(srcA, "f")); got != "A\n" {
		t.Errorf("first source holds %q", got)
	}
	if got := readFile(t, filepath.Join(srcB, "f")); got != "B\n" {
		t.Errorf("second source holds %q", got)
	}
}

func TestMountArgvAndEnvUnchanged(t *testing.T) {
	e := mountExecutor(t, mountMode{userNS: true})
	out := filepath.Join(t.TempDir(), "report.json")
	args := []string{"--lr=0.01", "name with spaces", `quote "double" 'single'`, "$(NOT_EXPANDED)", "back\\slash", "", "new\nline", "semi;colon && rm -rf /"}
	c := container("training", helperCommand(t, "env"), append([]string{out}, args...)...)
	spec := helperSpec(t, c)
	spec.Mounts = []trial.Mount{{Source: t.TempDir(), Target: missingTarget(t, "katib")}}
	spec.Env = append(spec.Env, "TUNE_METRICS_PATH=/x/y", `WEIRD=a "b" c`)
	mustRun(t, e, spec)
	var rep helperReport
	if err := json.Unmarshal([]byte(readFile(t, out)), &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Args, args) {
		t.Errorf("the trial got args %q, want %q", rep.Args, args)
	}
	for _, kv := range []string{"TUNE_METRICS_PATH=/x/y", `WEIRD=a "b" c`, "TUNE_TRIAL=exp-0001"} {
		if !slices.Contains(rep.Env, kv) {
			t.Errorf("the trial's environment lacks %q", kv)
		}
	}
	for _, kv := range rep.Env {
		if strings.HasPrefix(kv, mountHelperEnv+"=") {
			t.Errorf("the trial's environment holds the helper's %q", kv)
		}
	}
	wd, _ := os.Getwd()
	if rep.Dir != wd {
		t.Errorf("the trial ran in %s, want %s", rep.Dir, wd)
	}
}

func TestMountCancelKillsGroup(t *testing.T) {
	for name, m := range mountModes(t) {
		t.Run(name, func(t *testing.T) {
			e := mountExecutor(t, m)
			pidFile := filepath.Join(t.TempDir(), "pid")
			spec := helperSpec(t, container("training", helperCommand(t, "spawn"), pidFile))
			spec.Mounts = []trial.Mount{{Source: t.TempDir(), Target: missingTarget(t, "katib")}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := runAsync(ctx, e, spec)
			var grandchild int
			if !waitFor(10*time.Second, func() bool {
				data, err := os.ReadFile(pidFile)
				if err != nil {
					return false
				}
				grandchild, _ = strconv.Atoi(string(data))
				return grandchild > 0
			}) {
				t.Fatal("the trial did not start its grandchild")
			}
			rec := waitRecord(t, spec.Dir)
			// The recorded group is led by the trial's program, which the
			// helper became: the grandchild is in it.
			pgid, err := syscall.Getpgid(grandchild)
			if err != nil {
				t.Fatal(err)
			}
			if pgid != rec.PGID {
				t.Errorf("grandchild's group %d, recorded group %d", pgid, rec.PGID)
			}
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rec.PGID))
			if strings.HasPrefix(string(comm), mountHelperArg0) {
				t.Errorf("the group leader is still the mount helper: %q", comm)
			}
			cancel()
			o := awaitCancelled(t, done)
			if o.err != nil || o.res.State != trial.Killed {
				t.Errorf("Run = %+v, %v; want Killed", o.res, o.err)
			}
			if !waitFor(5*time.Second, func() bool { return processGone(grandchild) && processGone(rec.PGID) }) {
				t.Errorf("the trial's process group survived the cancel")
			}
		})
	}
}

func TestMountRunnerKilledKillsTrial(t *testing.T) {
	// The helper's parent-death signal survives its exec of the trial's
	// program: a runner killed with SIGKILL takes the trial's main process
	// with it.
	mountExecutor(t, mountMode{userNS: os.Geteuid() != 0})
	dir := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "grandchild")
	var runnerErr strings.Builder
	runnerCmd, runnerDone := startRunner(t, &runnerErr, dir, pidFile, missingTarget(t, "katib"))
	var grandchild int
	if !waitFor(10*time.Second, func() bool {
		data, err := os.ReadFile(pidFile)
		grandchild, _ = strconv.Atoi(string(data))
		return err == nil && grandchild > 0
	}) {
		_ = runnerCmd.Process.Kill()
		<-runnerDone
		t.Fatalf("the trial did not start; runner stderr: %s", runnerErr.String())
	}
	t.Cleanup(func() { _ = syscall.Kill(grandchild, syscall.SIGKILL) })
	rec := waitRecord(t, dir)
	if processGone(rec.PGID) {
		t.Fatalf("the trial's main process %d is gone before the runner", rec.PGID)
	}
	if err := runnerCmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-runnerDone
	if !waitFor(10*time.Second, func() bool { return processGone(rec.PGID) }) {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", rec.PGID))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rec.PGID))
		t.Errorf("the trial's main process %d outlived its killed runner %d: %q\n%s", rec.PGID, runnerCmd.Process.Pid, cmdline, status)
	}
}

func TestMountsUnavailable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{MountHelper: exe})
	if err != nil {
		t.Fatal(err)
	}
	probes := 0
	e.mountProbe = func() (mountMode, error) {
		probes++
		return mountMode{}, errors.New("simulated: user namespaces are disabled")
	}
	ok, reason := e.MountsSupported()
	if ok || reason != "simulated: user namespaces are disabled" {
		t.Errorf("MountsSupported() = %v, %q; want false and the probe's reason", ok, reason)
	}
	target := missingTarget(t, "katib")
	spec := shSpec(t, `test -e "$1" && exit 3; echo ran`, trial.Mount{Source: t.TempDir(), Target: target})
	spec.Object = jobObject(container("training", []any{"/bin/sh", "-c", `test -e "$1" && exit 3; echo ran > "$2"`, "sh", target, filepath.Join(spec.Dir, "ran")}))
	mustRun(t, e, spec)
	if got := readFile(t, filepath.Join(spec.Dir, "ran")); got != "ran\n" {
		t.Errorf("the trial wrote %q", got)
	}
	e.MountsSupported()
	if probes != 1 {
		t.Errorf("probed %d times, want once", probes)
	}

	noHelper, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := noHelper.MountsSupported(); ok || !strings.Contains(reason, "MountHelper") {
		t.Errorf("without a helper MountsSupported() = %v, %q", ok, reason)
	}
	mustRun(t, noHelper, spec)
}

func TestMountBrokenHelper(t *testing.T) {
	// A helper that does not call RunMountHelper fails the probe.
	e, err := New(Options{MountHelper: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/bin/true"); err != nil {
		t.Skip("no /bin/true")
	}
	if ok, reason := e.MountsSupported(); ok || reason == "" {
		// /bin/true exits 0 without mounting anything: the probe must
		// still not take that for a working helper.
		t.Errorf("MountsSupported() with /bin/true as helper = %v, %q", ok, reason)
	}
}

func TestMountSetupFailureRunsWithout(t *testing.T) {
	e := mountExecutor(t, mountMode{userNS: true})
	// A target that exists as a file cannot be mounted on.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := shSpec(t, "", trial.Mount{Source: t.TempDir(), Target: file})
	out := filepath.Join(spec.Dir, "ran")
	spec.Object = jobObject(container("training", []any{"/bin/sh", "-c", `cat "$1" > "$2"`, "sh", file, out}))
	_, stderr := mustRun(t, e, spec)
	if got := readFile(t, out); got != "host" {
		t.Errorf("the trial read %q, want the host's file", got)
	}
	if !strings.Contains(stderr, "runs without its mounts") || !strings.Contains(stderr, "not a directory") {
		t.Errorf("stderr = %q; want a note that the trial runs without its mounts, and why", stderr)
	}
}

func TestMountExecFailureIsStartError(t *testing.T) {
	e := mountExecutor(t, mountMode{userNS: true})
	prog := filepath.Join(t.TempDir(), "prog")
	// Executable, but not a format the kernel runs.
	if err := os.WriteFile(prog, []byte("\x00\x01\x02garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := helperSpec(t, container("training", []any{prog}))
	spec.Mounts = []trial.Mount{{Source: t.TempDir(), Target: t.TempDir()}}
	res, err := e.Run(context.Background(), spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != trial.Failed || res.Reason != "StartError" || !strings.Contains(res.Message, "exec format error") {
		t.Errorf("Run = %+v; want Failed, StartError, exec format error", res)
	}
}

func TestCheckMounts(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range [][]trial.Mount{
		{{Source: "rel", Target: "/a"}},
		{{Source: "/a", Target: "rel"}},
		{{Source: "/a", Target: "/"}},
		{{Source: "/a", Target: "/t"}, {Source: "/b", Target: "/t/"}},
	} {
		spec := helperSpec(t, container("training", []any{"/bin/true"}))
		spec.Mounts = ms
		if err := e.Check(spec); err == nil {
			t.Errorf("Check with mounts %v: no error", ms)
		}
	}
}
