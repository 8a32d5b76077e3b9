package testutil

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The container tests run real containers from a tiny image that they
// build themselves, without any registry: Debian's busybox-static at
// /bin/busybox with a symbolic link per applet, imported with `podman
// import` (or `docker import`). podman runs with a configuration and a
// storage of the test's own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF in a
// temporary directory), so that the tests never touch the machine's
// containers or images. Where no runtime can start a container, the tests
// skip, saying why (and .ci/run prints why, from TUNE_CONTAINER_SKIPS);
// TUNE_REQUIRE_CONTAINERS=1 makes a podman skip a failure instead.

// ContainerSetup is a container runtime the tests can start containers
// with.
type ContainerSetup struct {
	Runtime string   // "podman" or "docker"
	Image   string   // the test image
	Env     []string // the runtime's configuration, to add to the environment of whatever runs it
	Note    string   // how the configuration had to be adapted to this machine
}

var (
	containerOnce  sync.Once
	containerSets  map[string]*ContainerSetup
	containerWhy   map[string]string
	containerDirs  []string // removed by CleanupContainers
	containerClean []func()
	skipOnce       = map[string]*sync.Once{"podman": new(sync.Once), "docker": new(sync.Once)}
)

// NeedContainers returns the setup of runtime ("podman" or "docker"), made
// on the first call, or skips tb (fails it for podman under
// TUNE_REQUIRE_CONTAINERS=1) when the runtime cannot start containers
// here, saying why, and then also appends why to the file named by
// TUNE_CONTAINER_SKIPS, when set (.ci/run prints it).
func NeedContainers(tb testing.TB, runtime string) *ContainerSetup {
	tb.Helper()
	containerOnce.Do(setupContainers)
	s := containerSets[runtime]
	if s == nil {
		msg := fmt.Sprintf("CONTAINER TESTS SKIPPED: %s cannot start containers here: %s", runtime, containerWhy[runtime])
		if f, once := os.Getenv("TUNE_CONTAINER_SKIPS"), skipOnce[runtime]; f != "" && once != nil {
			once.Do(func() { appendLine(f, msg) })
		}
		if os.Getenv("TUNE_REQUIRE_CONTAINERS") == "1" && runtime == "podman" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	if s.Note != "" {
		tb.Logf("%s: %s", runtime, s.Note)
	}
	return s
}

// appendLine appends line to file, ignoring errors: the file is a report.
func appendLine(file, line string) {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintln(f, line)
	f.Close()
}

// Command returns the runtime's command with args, its environment the
// process's own plus s.Env.
func (s *ContainerSetup) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(s.Runtime, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	return cmd
}

// Exists reports whether the runtime knows the container name.
func (s *ContainerSetup) Exists(name string) (bool, error) {
	out, err := s.Command("container", "inspect", "--format", "{{.Id}}", name).CombinedOutput()
	if err == nil {
		return true, nil
	}
	if msg := strings.ToLower(string(out)); strings.Contains(msg, "no such container") || strings.Contains(msg, "no such object") {
		return false, nil
	}
	return false, fmt.Errorf("%s container inspect %s: %w: %s", s.Runtime, name, err, out)
}

// Labelled lists the containers, running or not, that have label (KEY=VALUE).
func (s *ContainerSetup) Labelled(label string) ([]string, error) {
	out, err := s.Command("ps", "--all", "--filter", "label="+label, "--format", "{{.Names}}").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s ps: %w: %s", s.Runtime, err, out)
	}
	return strings.Fields(string(out)), nil
}

// CleanupContainers removes what NeedContainers made: a TestMain calls it
// after the tests.
func CleanupContainers() {
	for _, f := range containerClean {
		f()
	}
	for _, d := range containerDirs {
		os.RemoveAll(d)
	}
}

func setupContainers() {
	containerSets = map[string]*ContainerSetup{}
	containerWhy = map[string]string{}
	rootfs, err := busyboxRootfs()
	if err != nil {
		containerWhy["podman"] = err.Error()
		containerWhy["docker"] = err.Error()
		return
	}
	if s, err := setupPodman(rootfs); err != nil {
		containerWhy["podman"] = err.Error()
	} else {
		containerSets["podman"] = s
	}
	if s, err := setupDocker(rootfs); err != nil {
		containerWhy["docker"] = err.Error()
	} else {
		containerSets["docker"] = s
	}
}

// busyboxRootfs returns a tar archive of a root file system holding a
// static busybox and its applets.
func busyboxRootfs() ([]byte, error) {
	path := "/bin/busybox"
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no %s (apt-get install busybox-static): %w", path, err)
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	static := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			static = false
		}
	}
	f.Close()
	if !static {
		return nil, fmt.Errorf("%s is not statically linked (apt-get install busybox-static)", path)
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	list, err := exec.Command(path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin", "tmp", "mnt", "proc", "sys", "dev", "etc", "run"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	for _, name := range strings.Fields(string(list)) {
		if name == "busybox" || strings.Contains(name, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + name, Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// podmanConf is the test's containers.conf. Its knobs are the ones a
// container (this test's usual home) needs: cgroupfs, no systemd, file
// events, file locks, everything under dir (static_dir is left at its
// default, under the storage's graphroot: set apart, podman waits 20 s
// for every container's exit); runtime and ulimits are set
// when the probe finds the defaults do not work here.
func podmanConf(dir, runtime string, ulimits bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[containers]\nnetns = \"host\"\nlog_driver = \"k8s-file\"\n")
	if ulimits {
		// Rootful podman raises nofile and nproc to 1048576 by default,
		// which root without CAP_SYS_RESOURCE (in a container) cannot.
		b.WriteString("default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n")
	}
	fmt.Fprintf(&b, "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = %q\ntmp_dir = %q\nvolume_path = %q\nlock_type = \"file\"\n",
		filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "volumes"))
	if runtime != "" {
		fmt.Fprintf(&b, "runtime = %q\n", runtime)
	}
	return b.String()
}

func setupPodman(rootfs []byte) (*ContainerSetup, error) {
	path, err := exec.LookPath("podman")
	if err != nil {
		return nil, fmt.Errorf("no podman (apt-get install podman catatonit): %w", err)
	}
	dir, err := os.MkdirTemp("", "tune-podman-test-")
	if err != nil {
		return nil, err
	}
	containerDirs = append(containerDirs, dir)
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\nrunroot = %q\ngraphroot = %q\n", filepath.Join(dir, "run"), filepath.Join(dir, "graph"))
	if err := os.WriteFile(filepath.Join(dir, "storage.conf"), []byte(storage), 0o644); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "containers.conf")
	s := &ContainerSetup{Runtime: "podman", Image: "localhost/tune-test-busybox:1",
		Env: []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf")}}
	env := append(os.Environ(), s.Env...)
	run := func(stdin []byte, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Env = env
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	runtime, ulimits := "", false
	if err := os.WriteFile(conf, []byte(podmanConf(dir, runtime, ulimits)), 0o644); err != nil {
		return nil, err
	}
	// Whatever a failed test left running goes before its storage does.
	containerClean = append(containerClean, func() { _, _ = run(nil, "rm", "--all", "--force", "--time", "0") })
	if out, err := run(rootfs, "import", "-", s.Image); err != nil {
		return nil, fmt.Errorf("podman import: %v: %s", err, out)
	}
	// Adapt the configuration to what this machine refuses, as the
	// runtime's messages say.
	var notes []string
	for range 3 {
		out, err := run(nil, "run", "--rm", "--init", "--network", "host", s.Image, "/bin/true")
		if err == nil {
			s.Note = strings.Join(notes, "; ")
			return s, nil
		}
		switch {
		case strings.Contains(out, "cgroups in hybrid mode") && runtime == "":
			if _, err := exec.LookPath("runc"); err != nil {
				return nil, fmt.Errorf("crun refuses hybrid cgroups and there is no runc: %s", strings.TrimSpace(out))
			}
			runtime = "runc"
			notes = append(notes, "crun refuses this machine's hybrid cgroups: runtime = runc")
		case strings.Contains(out, "rlimit") && !ulimits:
			ulimits = true
			notes = append(notes, "podman's default ulimits cannot be set here: default_ulimits lowered")
		default:
			return nil, fmt.Errorf("podman run: %v: %s", err, strings.TrimSpace(out))
		}
		if err := os.WriteFile(conf, []byte(podmanConf(dir, runtime, ulimits)), 0o644); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("podman run still fails after %s", strings.Join(notes, "; "))
}

func setupDocker(rootfs []byte) (*ContainerSetup, error) {
	path, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("no docker: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, path, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("no docker daemon: %s", strings.TrimSpace(string(out)))
	}
	image := fmt.Sprintf("localhost/tune-test-busybox:%d", os.Getpid())
	imp := exec.CommandContext(ctx, path, "import", "-", image)
	imp.Stdin = bytes.NewReader(rootfs)
	if out, err := imp.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker import: %v: %s", err, out)
	}
	containerClean = append(containerClean, func() {
		if out, err := exec.Command(path, "ps", "--all", "--quiet", "--filter", "ancestor="+image).Output(); err == nil && len(out) > 0 {
			_ = exec.Command(path, append([]string{"rm", "--force"}, strings.Fields(string(out))...)...).Run()
		}
		_ = exec.Command(path, "rmi", "--force", image).Run()
	})
	if out, err := exec.CommandContext(ctx, path, "run", "--rm", "--init", "--network", "host", image, "/bin/true").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker run: %v: %s", err, out)
	}
	return &ContainerSetup{Runtime: "docker", Image: image}, nil
}
