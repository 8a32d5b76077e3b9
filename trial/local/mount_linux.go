package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tune-hpo/tune/trial"
)

// RunMountHelper runs the mount helper and never returns when this process
// was started by an [Executor] as its mount helper (see
// [Options.MountHelper]); otherwise it returns at once, doing nothing. A
// program named as MountHelper must call it first thing in main.
//
// As the helper it reads its instructions from the executor, sets up the
// trial's mounts in the mount namespace it was started in and replaces
// itself with the trial's program (execve), which keeps its pid, process
// group and parent-death signal. When it cannot, it tells the executor why
// and exits with status 127.
func RunMountHelper() {
	fdText, ok := os.LookupEnv(mountHelperEnv)
	if !ok || len(os.Args) == 0 || os.Args[0] != mountHelperArg0 {
		return
	}
	os.Exit(runMountHelper(fdText))
}

// runMountHelper is the mount helper; it returns only when it fails, with
// the exit status.
func runMountHelper(fdText string) int {
	// Capabilities and the parent-death signal belong to a thread, and the
	// thread that calls execve is the one that becomes the trial's
	// program: keep the helper on one thread.
	runtime.LockOSThread()
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd != helperConfigFD {
		fmt.Fprintf(os.Stderr, "tune mount helper: bad %s=%q\n", mountHelperEnv, fdText)
		return 127
	}
	// The configuration is a memfd; anything else (a terminal, a pipe
	// nobody writes to) is not from an executor.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		fmt.Fprintf(os.Stderr, "tune mount helper: descriptor %d holds no configuration\n", fd)
		return 127
	}
	cf := os.NewFile(uintptr(fd), "mount-helper-config")
	var cfg helperConfig
	err = json.NewDecoder(cf).Decode(&cfg)
	cf.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tune mount helper: read configuration: %v\n", err)
		return 127
	}
	status := os.NewFile(helperStatusFD, "mount-helper-status")
	if cfg.Probe != "" {
		if err := probeMount(cfg.Probe); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Proof that this is the helper, not a program that ignored us.
		_ = json.NewEncoder(status).Encode(helperStatus{Stage: probedStage})
		return 0
	}
	fail := func(stage string, err error) int {
		_ = json.NewEncoder(status).Encode(helperStatus{Stage: stage, Error: err.Error()})
		return 127
	}
	wd, wdErr := os.Getwd()
	if err := setupMounts(cfg.Mounts); err != nil {
		return fail("mount", err)
	}
	if wdErr == nil {
		// Look the working directory up again, through the new mounts.
		_ = os.Chdir(wd)
	}
	// The trial gets no capabilities from the helper: with a uid other
	// than 0 it then has none at all.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fail("mount", fmt.Errorf("drop ambient capabilities: %w", err))
	}
	if cfg.Pdeathsig != 0 {
		// The executor set the parent-death signal of the helper's first
		// thread, which need not be this one.
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(cfg.Pdeathsig), 0, 0, 0); err != nil {
			return fail("exec", fmt.Errorf("set parent-death signal: %w", err))
		}
		if os.Getppid() != cfg.Parent {
			// The executor is gone already.
			return 137
		}
	}
	syscall.CloseOnExec(helperStatusFD)
	env := withoutEnv(os.Environ(), mountHelperEnv)
	err = syscall.Exec(cfg.Path, cfg.Argv, env)
	return fail("exec", fmt.Errorf("exec %s: %w", cfg.Path, err))
}

// probeMount does what setting up mounts needs, on the empty directory
// dir.
func probeMount(dir string) error {
	if err := makePrivate(); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	return nil
}

// makePrivate stops mounts made here from propagating to the mount
// namespace tune runs in, and the other way round.
func makePrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mount tree private: %w", err)
	}
	return nil
}

// setupMounts makes each mount's Source appear at its Target, in order.
func setupMounts(mounts []trial.Mount) error {
	if err := makePrivate(); err != nil {
		return err
	}
	// made holds the directories that live in a tmpfs made here (the
	// mirrors and the directories created in them), where creating more
	// directories changes nothing outside the trial.
	made := make(map[string]bool)
	for _, m := range mounts {
		if err := mountOne(m, made); err != nil {
			return fmt.Errorf("mount %s at %s: %w", m.Source, m.Target, err)
		}
	}
	return nil
}

// mountOne makes m.Source appear at m.Target: a bind mount when Target is
// an existing directory; otherwise a mirror of Target's deepest existing
// ancestor (see mirror) in which the missing directories are created.
func mountOne(m trial.Mount, made map[string]bool) error {
	target := filepath.Clean(m.Target)
	fi, err := os.Stat(target)
	switch {
	case err == nil && fi.IsDir():
		return bind(m.Source, target)
	case err == nil:
		return fmt.Errorf("%s exists and is not a directory", target)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	missing := []string{target}
	anc := filepath.Dir(target)
	for {
		fi, err := os.Stat(anc)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s exists and is not a directory", anc)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if anc == "/" {
			return errors.New("no ancestor of the target exists")
		}
		missing = append(missing, anc)
		anc = filepath.Dir(anc)
	}
	if !made[anc] {
		if anc == "/" {
			return errors.New("only the root directory exists on the way to the target, and it cannot be mirrored")
		}
		if err := mirror(anc); err != nil {
			return err
		}
		made[anc] = true
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			return err
		}
		made[missing[i]] = true
	}
	return bind(m.Source, target)
}

// bind bind-mounts src, with the mounts below it, at dst. Recursive binds
// are the only ones allowed in a user namespace when src has mounts below
// it that the namespace's owner may not uncover.
func bind(src, dst string) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return nil
}

// mirror mounts a tmpfs on dir that shows what dir showed: each entry of
// dir is bind-mounted (with its submounts) on an entry of the same name
// and type in the tmpfs, and symbolic links are copied. What is written
// inside those entries reaches the host; only new entries directly in dir
// go to the tmpfs, and vanish with the trial.
func mirror(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("mirror %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", dir, err)
	}
	// The descriptor reaches the original directory once the tmpfs hides it.
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", dir, err)
	}
	defer unix.Close(fd)
	opts := fmt.Sprintf("mode=%o", st.Mode&0o7777)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		return fmt.Errorf("mirror %s: mount tmpfs: %w", dir, err)
	}
	orig := fmt.Sprintf("/proc/self/fd/%d", fd)
	for _, e := range entries {
		src := filepath.Join(orig, e.Name())
		dst := filepath.Join(dir, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(src)
			if err != nil {
				return fmt.Errorf("mirror %s: %w", dir, err)
			}
			if err := os.Symlink(link, dst); err != nil {
				return fmt.Errorf("mirror %s: %w", dir, err)
			}
			continue
		case e.IsDir():
			if err := os.Mkdir(dst, 0o755); err != nil {
				return fmt.Errorf("mirror %s: %w", dir, err)
			}
		default:
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("mirror %s: %w", dir, err)
			}
			f.Close()
		}
		if err := bind(src, dst); err != nil {
			return fmt.Errorf("mirror %s: %w", dir, err)
		}
	}
	return nil
}

// defaultMountProbe finds how this process can give a trial a mount
// namespace: without a user namespace when tune runs as root, with one
// otherwise (or when root may not create mount namespaces, as in many
// containers). It starts the mount helper in each way and has it mount a
// tmpfs on a temporary directory.
func (e *Executor) defaultMountProbe() (mountMode, error) {
	modes := []mountMode{{userNS: true}}
	if os.Geteuid() == 0 {
		modes = []mountMode{{userNS: false}, {userNS: true}}
	}
	var msgs []string
	for _, m := range modes {
		err := e.probeMode(m)
		if err == nil {
			return m, nil
		}
		msgs = append(msgs, err.Error())
	}
	return mountMode{}, fmt.Errorf("cannot give trials a mount namespace: %s", strings.Join(msgs, "; "))
}

// probeMode runs the mount helper's probe in mode m.
func (e *Executor) probeMode(m mountMode) error {
	what := "mount namespace"
	if m.userNS {
		what = "user and mount namespaces"
	}
	dir, err := os.MkdirTemp("", "tune-mount-probe-")
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.mountHelper)
	h, err := e.wrapHelper(cmd, helperConfig{Probe: dir}, m)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer h.close()
	cmd.Env = append(withoutEnv(os.Environ(), mountHelperEnv), mountHelperEnv+"="+strconv.Itoa(helperConfigFD))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	h.started()
	var herr *helperError
	if err == nil {
		errors.As(h.wait(), &herr)
		err = cmd.Wait()
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %w: %s", what, err, msg)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if herr == nil || herr.stage != probedStage {
		return fmt.Errorf("%s: %s did not act as the mount helper (its main must call local.RunMountHelper first)", what, e.mountHelper)
	}
	return nil
}

// wrapMounts changes cmd, ready to start path with cmd's argv and
// environment, into a start of the mount helper that sets up mounts and
// then executes path.
func (e *Executor) wrapMounts(cmd *exec.Cmd, path string, mounts []trial.Mount) (*helperStart, error) {
	cfg := helperConfig{Mounts: mounts, Path: path, Argv: cmd.Args}
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Pdeathsig != 0 {
		cfg.Pdeathsig = int(cmd.SysProcAttr.Pdeathsig)
		cfg.Parent = os.Getpid()
	}
	h, err := e.wrapHelper(cmd, cfg, e.mountMode)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(withoutEnv(cmd.Env, mountHelperEnv), mountHelperEnv+"="+strconv.Itoa(helperConfigFD))
	return h, nil
}

// wrapHelper makes cmd start the mount helper with cfg, in the namespaces
// of mode m, and returns the descriptors to close once it has started.
func (e *Executor) wrapHelper(cmd *exec.Cmd, cfg helperConfig, m mountMode) (*helperStart, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("mount helper configuration: %w", err)
	}
	// An anonymous file holds the configuration: no size limit, and
	// nothing left behind.
	mfd, err := unix.MemfdCreate("tune-mount-helper", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mount helper configuration: %w", err)
	}
	config := os.NewFile(uintptr(mfd), "mount-helper-config")
	if _, err := config.Write(data); err != nil {
		config.Close()
		return nil, fmt.Errorf("mount helper configuration: %w", err)
	}
	if _, err := config.Seek(0, 0); err != nil {
		config.Close()
		return nil, fmt.Errorf("mount helper configuration: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		config.Close()
		return nil, fmt.Errorf("mount helper status: %w", err)
	}
	cmd.Path = e.mountHelper
	cmd.Err = nil
	cmd.Args = []string{mountHelperArg0}
	cmd.ExtraFiles = []*os.File{w, config} // helperStatusFD, helperConfigFD
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	attr := cmd.SysProcAttr
	attr.Cloneflags |= syscall.CLONE_NEWNS
	if m.userNS {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		// The trial keeps its user and group ids, so that what it writes
		// is owned by tune's user.
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Geteuid(), HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getegid(), HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		// A process whose uid is not 0 loses its capabilities when it
		// executes a program, the helper included; an ambient
		// CAP_SYS_ADMIN (in the new user namespace only) lets the helper
		// mount. It drops it before executing the trial's program.
		attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN}
	}
	return &helperStart{status: r, statusW: w, config: config}, nil
}
