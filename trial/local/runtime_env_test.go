package local

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
// skip, saying why; TUNE_REQUIRE_CONTAINERS=1 (set by .ci/run) makes that
// a failure instead.

// containerSetup is a runtime the tests can start containers with.
type containerSetup struct {
	rt    Runtime
	image string   // the test image
	env   []string // what to set in the environment: the runtime's configuration
	note  string   // how the configuration had to be adapted to this machine
}

var (
	containerOnce  sync.Once
	containerSets  map[Runtime]*containerSetup
	containerWhy   map[Runtime]string
	containerDirs  []string // removed by cleanupContainers
	containerClean []func()
)

// needRuntime returns the setup of runtime rt and sets its environment for
// the test, or skips the test (fails it under TUNE_REQUIRE_CONTAINERS=1)
// when rt cannot start containers here.
func needRuntime(t *testing.T, rt Runtime) *containerSetup {
	t.Helper()
	containerOnce.Do(setupContainers)
	s := containerSets[rt]
	if s == nil {
		msg := fmt.Sprintf("CONTAINER TESTS SKIPPED: %s cannot start containers here: %s", rt, containerWhy[rt])
		if os.Getenv("TUNE_REQUIRE_CONTAINERS") == "1" && rt == RuntimePodman {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if s.note != "" {
		t.Logf("%s: %s", rt, s.note)
	}
	return s
}

// cleanupContainers removes what setupContainers made; TestMain calls it.
func cleanupContainers() {
	for _, f := range containerClean {
		f()
	}
	for _, d := range containerDirs {
		os.RemoveAll(d)
	}
}

func setupContainers() {
	containerSets = map[Runtime]*containerSetup{}
	containerWhy = map[Runtime]string{}
	rootfs, err := busyboxRootfs()
	if err != nil {
		containerWhy[RuntimePodman] = err.Error()
		containerWhy[RuntimeDocker] = err.Error()
		return
	}
	if s, err := setupPodman(rootfs); err != nil {
		containerWhy[RuntimePodman] = err.Error()
	} else {
		containerSets[RuntimePodman] = s
	}
	if s, err := setupDocker(rootfs); err != nil {
		containerWhy[RuntimeDocker] = err.Error()
	} else {
		containerSets[RuntimeDocker] = s
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

func setupPodman(rootfs []byte) (*containerSetup, error) {
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
	s := &containerSetup{rt: RuntimePodman, image: "localhost/tune-test-busybox:1",
		env: []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf")}}
	env := append(os.Environ(), s.env...)
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
	if out, err := run(rootfs, "import", "-", s.image); err != nil {
		return nil, fmt.Errorf("podman import: %v: %s", err, out)
	}
	// Adapt the configuration to what this machine refuses, as the
	// runtime's messages say.
	var notes []string
	for range 3 {
		out, err := run(nil, "run", "--rm", "--init", "--network", "host", s.image, "/bin/true")
		if err == nil {
			s.note = strings.Join(notes, "; ")
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

func setupDocker(rootfs []byte) (*containerSetup, error) {
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
	containerClean = append(containerClean, func() { _ = exec.Command(path, "rmi", "--force", image).Run() })
	if out, err := exec.CommandContext(ctx, path, "run", "--rm", "--init", "--network", "host", image, "/bin/true").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker run: %v: %s", err, out)
	}
	return &containerSetup{rt: RuntimeDocker, image: image}, nil
}

// containerExists reports whether the runtime knows a container name.
func containerExists(t *testing.T, rt Runtime, name string) bool {
	t.Helper()
	out, err := exec.Command(string(rt), "container", "inspect", "--format", "{{.Id}}", name).CombinedOutput()
	if err == nil {
		return true
	}
	if !noSuchContainer(string(out)) {
		t.Fatalf("%s container inspect %s: %v: %s", rt, name, err, out)
	}
	return false
}

// containersLabelled lists the containers (running or not) labelled with
// trial name.
func containersLabelled(t *testing.T, rt Runtime, name string) []string {
	t.Helper()
	out, err := exec.Command(string(rt), "ps", "--all", "--filter", "label="+labelTrial+"="+name, "--format", "{{.Names}}").CombinedOutput()
	if err != nil {
		t.Fatalf("%s ps: %v: %s", rt, err, out)
	}
	return strings.Fields(string(out))
}
