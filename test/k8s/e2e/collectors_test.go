//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/internal/testutil"
)

// collectorImage is the image the collector tests give tune with
// --collector-image: the pod runner runs init containers of this image
// with tune resolved to the binary under test.
const collectorImage = "example.invalid/tune-collector:e2e"

// podRunner stands in for the kubelet of every held pod of one namespace
// that its selector matches: trial pods whose primary container runs
// tune's metrics collector (the File, TensorFlowEvent, PrometheusMetric
// and Push collectors; runPods), or tune's own pod in the cluster
// (TestTunePodInCluster). It runs the pod's containers as host processes,
// as Kubernetes would run them, so that what reaches tune is what a real
// pod's processes write.
//
//   - Volumes: each emptyDir volume of the pod is a fresh host directory,
//     one per (pod, volume), shared by every container mounting it; a
//     hostPath volume is its path; a persistentVolumeClaim volume the
//     hostPath of the volume bound to the claim; a configMap volume a
//     directory holding its keys (or items) as files; a projected volume
//     (the service account's kube-api-access-*, which the apiserver's
//     ServiceAccount admission adds) a directory holding a token from
//     TokenRequest for the pod's service account, bound to the pod, the
//     configMap items (kube-root-ca.crt's ca.crt) and the downwardAPI
//     items (the namespace). Other volumes are left out. A mount's
//     subPath is that subdirectory of its volume, created when missing,
//     as the kubelet creates it. Host directories are short paths under
//     /tmp, so that a Unix socket in one stays under the 108-byte limit
//     of its path.
//   - Container paths: a host process cannot have mounts of its own, so
//     each container path of a container's volume mounts is rewritten to
//     its host directory (pathMap, at path boundaries, longest first) in
//     the container's argv, env values and workingDir: inside the JSON of
//     `tune collector run --config` too. A readOnly mount, and every
//     configMap and projected one, is a read-only bind mount of the
//     volume's directory (the suite runs in a mount namespace of its own,
//     as root), so that a write there fails with EROFS as in a real
//     container. A projected volume is mounted for real at its path, in
//     a mount namespace of the process's own (mountedCommand, under
//     /var/run only): client-go reads the service account's files at
//     their well-known path, which no argument names.
//   - Environment: KUBERNETES_SERVICE_HOST and _PORT name the apiserver
//     itself (127.0.0.1:6443), standing in for the kubernetes Service's
//     address (no kube-proxy; service IPs route nowhere).
//   - Images: init containers run only of the runner's images; in a
//     container of one, argv[0] is looked up in its Path (collectorImage:
//     tune on its PATH is the binary under test), the paths of its Files
//     are rewritten to their host files, a container without a command
//     runs its Entrypoint, its WorkingDir is the default, its User is
//     checked against runAsNonRoot as the kubelet does
//     (CreateContainerConfigError for a name or root), and OwnHome gives
//     it an empty HOME.
//   - Init containers run first, in order, each to its end; a non-zero
//     exit, or an image the runner has not, is an error of the runner,
//     which fails the pod (phase Failed, main terminated with exit code
//     128, reason StartError, the error as the message).
//   - The primary container (the pod's only container) runs argv =
//     command then args, $(VAR) expanded from its env as the kubelet does,
//     never through a shell, with its env over PATH, HOME, TMPDIR and GO*
//     of this process (standing in for the image's), in its workingDir,
//     its image's, or the pod's host directory.
//   - Logs: its stdout and stderr, interleaved as written and tagged with
//     their stream, are the pod's log, served through kwok (serveCRILog)
//     once it has exited.
//   - Exit: 0 releases the pod and kwok completes it; otherwise the pod
//     is Failed with container main terminated with the exit code
//     (failPod), then released. A pod deleted while its process runs has
//     it sent SIGTERM, then SIGKILL after 5 s, and nothing is reported
//     (ran lists it with Deleted set); lose kills it with SIGKILL, as
//     when its node is lost, and nothing is reported either.
//
// Not modelled: resources, probes, restarts in place (restartPolicy
// OnFailure: a failed pod is left to its Job's controller, which creates
// another), fsGroup and the user a container runs as (every process runs
// as root), a network namespace per pod.
type podRunner struct {
	c      *cluster
	root   string
	images map[string]podImage
	n      atomic.Int32
	// The apiserver as KUBERNETES_SERVICE_HOST and _PORT give it to
	// every container.
	svcHost, svcPort string

	active atomic.Int32 // primary containers running
	mu     sync.Mutex
	runs   []podRun
	live   map[*processLog]bool   // the output of the primary containers running
	procs  map[string]*podProcess // the primary containers running, by pod name
}

// podProcess is a primary container running.
type podProcess struct {
	cmd  *exec.Cmd
	lost atomic.Bool // killed with its node (lose): nothing is reported
}

// podImage is what the pod runner runs for an image: host programs
// standing in for the image's files.
type podImage struct {
	// Path maps the names of programs on the image's PATH to host
	// binaries; argv[0] of a container is looked up here.
	Path map[string]string
	// Entrypoint is the image's ENTRYPOINT (host paths), run when a
	// container gives no command; WorkingDir its WORKDIR.
	Entrypoint []string
	WorkingDir string
	// User is the image's USER, as the kubelet checks it against
	// runAsNonRoot; "" is root.
	User string
	// OwnHome gives the container an empty HOME of the pod's (the
	// image's own), not this process's.
	OwnHome bool
	// Files maps paths of the image's own files (a program a container's
	// command names, say) to host files; they are rewritten in argv, env
	// values and workingDir as mount paths are, unless a volume mounted
	// over one hides it.
	Files map[string]string
}

// podRun is one pod the runner ran.
type podRun struct {
	Pod      *corev1.Pod // as the runner got it
	Argv     []string    // the primary container's, as run (host paths)
	ExitCode int
	Log      []logLine
	Deleted  bool // the pod was deleted while its primary container ran
	Lost     bool // its process was killed with SIGKILL by lose
}

// runPods starts a podRunner for the held trial pods of ns, whose init
// containers may be of collectorImage; it runs until the test ends.
func (c *cluster) runPods(t *testing.T, ns string) *podRunner {
	t.Helper()
	return c.runPodsOf(t, ns, "app.kubernetes.io/managed-by=tune", map[string]podImage{
		collectorImage: {Path: map[string]string{"tune": tuneBin}},
	})
}

// runPodsOf starts a podRunner for the held pods of ns matching selector;
// init containers may be of images only, a primary container of any image
// (of images when it gives no command). It runs until the test ends.
func (c *cluster) runPodsOf(t *testing.T, ns, selector string, images map[string]podImage) *podRunner {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "tc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	host, _ := apiServer(t)
	hostPort := strings.TrimPrefix(host, "https://")
	svcHost, svcPort, ok := strings.Cut(hostPort, ":")
	if !ok {
		t.Fatalf("apiserver %s has no port", host)
	}
	r := &podRunner{c: c, root: root, images: images, svcHost: svcHost, svcPort: svcPort}
	c.onHeldPods(t, ns, selector, true, "pod runner", r.run)
	return r
}

// lose kills the primary container of pod with SIGKILL, as when its node
// is lost, and reports nothing of it (ran lists it with Lost set); the pod
// is left as it is. It returns false when no such container runs.
func (r *podRunner) lose(pod string) bool {
	r.mu.Lock()
	p := r.procs[pod]
	r.mu.Unlock()
	if p == nil {
		return false
	}
	p.lost.Store(true)
	return p.cmd.Process.Kill() == nil
}

// wrote returns how many running primary containers have written a line
// holding text, to stdout or stderr.
func (r *podRunner) wrote(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for l := range r.live {
		if slices.ContainsFunc(l.lines(), func(line logLine) bool { return strings.Contains(line.text, text) }) {
			n++
		}
	}
	return n
}

// running returns how many primary containers run now.
func (r *podRunner) running() int { return int(r.active.Load()) }

// printed returns how many running primary containers have printed a line
// holding text to stdout.
func (r *podRunner) printed(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for l := range r.live {
		if strings.Contains(l.stdout(), text) {
			n++
		}
	}
	return n
}

// ran returns the pods run so far, in the order they ended.
func (r *podRunner) ran() []podRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

// run runs pod. When the runner itself fails, it fails the pod (exit code
// 128, reason StartError, the runner's error as the message), so that the
// Job and the test end.
func (r *podRunner) run(ctx context.Context, pod *corev1.Pod) error {
	err := r.runPod(ctx, pod)
	if err != nil && ctx.Err() == nil {
		if ferr := r.c.failPod(ctx, pod, 128, "StartError", "pod runner: "+err.Error(), nil); ferr == nil {
			_ = r.c.release(ctx, pod)
		}
	}
	return err
}

func (r *podRunner) runPod(ctx context.Context, pod *corev1.Pod) error {
	if len(pod.Spec.Containers) != 1 {
		return fmt.Errorf("%d containers, want 1", len(pod.Spec.Containers))
	}
	dir := filepath.Join(r.root, strconv.Itoa(int(r.n.Add(1))))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	// One directory per volume of this pod (emptyDir semantics), or the
	// volume's own: a hostPath, the hostPath volume bound to a claim.
	// Kubernetes mounts configMap and projected volumes read-only.
	volumes := map[string]string{}
	readOnly := map[string]bool{}
	projected := map[string]bool{}
	for i, v := range pod.Spec.Volumes {
		host := filepath.Join(dir, "v"+strconv.Itoa(i))
		switch {
		case v.EmptyDir != nil:
			if err := os.Mkdir(host, 0o777); err != nil {
				return err
			}
		case v.HostPath != nil:
			host = v.HostPath.Path
		case v.PersistentVolumeClaim != nil:
			var err error
			if host, err = r.c.claimDir(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.ConfigMap != nil:
			if err := r.c.configMapFiles(ctx, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, ptrValue(v.ConfigMap.Optional), host); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
			readOnly[v.Name] = true
		case v.Projected != nil:
			if err := r.c.projectedFiles(ctx, pod, v.Projected, host); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
			readOnly[v.Name], projected[v.Name] = true, true
		default:
			continue
		}
		volumes[v.Name] = host
	}
	var mounted []string
	defer func() {
		for _, m := range slices.Backward(mounted) {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}()
	// paths maps ct's mounts to host directories, but for those of
	// projected volumes, returned as real mounts (container path, host
	// directory) to make in a mount namespace of the process's own: the
	// service account's files are read at their well-known path, which
	// appears in no argument to rewrite. A read-only mount is a read-only
	// bind mount of its volume's directory.
	paths := func(ct *corev1.Container) (*pathMap, []string, error) {
		var m pathMap
		var real []string
		for _, vm := range ct.VolumeMounts {
			host, ok := volumes[vm.Name]
			if !ok {
				continue
			}
			if vm.SubPath != "" {
				// The kubelet creates a missing subPath directory.
				host = filepath.Join(host, vm.SubPath)
				if err := os.MkdirAll(host, 0o755); err != nil {
					return nil, nil, fmt.Errorf("volume mount %s: subPath %s: %w", vm.MountPath, vm.SubPath, err)
				}
			}
			if vm.ReadOnly || readOnly[vm.Name] {
				ro := filepath.Join(dir, "ro"+strconv.Itoa(len(mounted)))
				if err := os.Mkdir(ro, 0o755); err != nil {
					return nil, nil, err
				}
				if err := syscall.Mount(host, ro, "", syscall.MS_BIND, ""); err != nil {
					return nil, nil, fmt.Errorf("read-only mount %s: bind %s: %w", vm.MountPath, host, err)
				}
				mounted = append(mounted, ro)
				if err := syscall.Mount("", ro, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
					return nil, nil, fmt.Errorf("read-only mount %s: remount read-only: %w", vm.MountPath, err)
				}
				host = ro
			}
			if projected[vm.Name] {
				real = append(real, host, vm.MountPath)
				continue
			}
			m.add(vm.MountPath, host)
		}
		return &m, real, nil
	}
	// command returns ct's argv and environment as the kubelet composes
	// them, container paths rewritten, and the real mounts it needs.
	command := func(ct *corev1.Container) (argv, env []string, cwd string, real []string, err error) {
		m, real, err := paths(ct)
		if err != nil {
			return nil, nil, "", nil, err
		}
		env, vars, err := containerEnvironment(pod, ct, m)
		if err != nil {
			return nil, nil, "", nil, err
		}
		// The kubelet gives every container the apiserver's Service; here
		// the apiserver itself (no kube-proxy, and pod and service IPs
		// route nowhere).
		env = append(env, "KUBERNETES_SERVICE_HOST="+r.svcHost, "KUBERNETES_SERVICE_PORT="+r.svcPort)
		img, known := r.images[ct.Image]
		if known {
			if err := checkNonRoot(pod, ct, img.User); err != nil {
				return nil, nil, "", nil, err
			}
		}
		for file, host := range img.Files {
			if _, mounted := m.resolve(file); !mounted {
				m.add(file, host)
			}
		}
		words := append(slices.Clone(ct.Command), ct.Args...)
		if len(ct.Command) == 0 && known {
			words = append(slices.Clone(img.Entrypoint), ct.Args...)
		}
		for _, a := range words {
			argv = append(argv, m.rewrite(expandVars(a, vars)))
		}
		if len(argv) == 0 {
			return nil, nil, "", nil, fmt.Errorf("container %s has no command (the runner knows no entrypoint of image %s)", ct.Name, ct.Image)
		}
		if bin, ok := img.Path[argv[0]]; ok {
			argv[0] = bin // on the image's PATH
		}
		if img.OwnHome {
			home := filepath.Join(dir, "home-"+ct.Name)
			if err := os.Mkdir(home, 0o755); err != nil {
				return nil, nil, "", nil, err
			}
			env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "HOME=") })
			env = append(env, "HOME="+home)
		}
		cwd = dir
		switch {
		case ct.WorkingDir != "":
			cwd = m.rewrite(ct.WorkingDir)
		case img.WorkingDir != "":
			cwd = m.rewrite(img.WorkingDir)
		}
		return argv, env, cwd, real, nil
	}

	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if _, ok := r.images[ic.Image]; !ok {
			return fmt.Errorf("init container %s: image %s: the pod runner runs only %v", ic.Name, ic.Image, slices.Sorted(maps.Keys(r.images)))
		}
		argv, env, cwd, real, err := command(ic)
		if err != nil {
			return err
		}
		cmd := mountedCommand(ctx, real, argv)
		cmd.Env, cmd.Dir = env, cwd
		if out, err := cmd.CombinedOutput(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("init container %s (%q): %v: %s", ic.Name, argv, err, out)
		}
	}

	main := &pod.Spec.Containers[0]
	argv, env, cwd, real, err := command(main)
	if err != nil {
		return err
	}
	// A deleted pod's process gets SIGTERM, then SIGKILL after a grace
	// period, and nothing is reported.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var deleted atomic.Bool
	go func() {
		if r.c.waitDeleted(runCtx, pod) {
			deleted.Store(true)
			stop()
		}
	}()
	var log processLog
	cmd := mountedCommand(runCtx, real, argv)
	cmd.Dir, cmd.Env = cwd, env
	cmd.Stdout, cmd.Stderr = log.stream("stdout"), log.stream("stderr")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	exit, reason, msg := 0, "Completed", ""
	proc := &podProcess{cmd: cmd}
	err = cmd.Start()
	if err == nil {
		r.mu.Lock()
		if r.live == nil {
			r.live, r.procs = map[*processLog]bool{}, map[string]*podProcess{}
		}
		r.live[&log] = true
		r.procs[pod.Name] = proc
		r.mu.Unlock()
		r.active.Add(1)
		err = cmd.Wait()
		r.active.Add(-1)
		r.mu.Lock()
		delete(r.live, &log)
		delete(r.procs, pod.Name)
		r.mu.Unlock()
	}
	switch {
	case err == nil:
	case errors.As(err, new(*exec.ExitError)):
		exit, reason = exitCode(cmd), "Error"
	default:
		exit, reason, msg = 128, "StartError", err.Error()
	}
	lines := log.lines()
	lost := proc.lost.Load()
	if ctx.Err() != nil && !deleted.Load() && !lost {
		return nil // the test ended
	}
	r.mu.Lock()
	r.runs = append(r.runs, podRun{Pod: pod.DeepCopy(), Argv: argv, ExitCode: exit, Log: lines, Deleted: deleted.Load(), Lost: lost})
	r.mu.Unlock()
	if deleted.Load() || lost {
		return nil
	}
	stop()
	if len(lines) > 0 {
		if err := r.c.serveCRILog(ctx, pod, "", lines, lines[len(lines)-1].text); err != nil {
			return err
		}
	}
	if exit != 0 {
		if err := r.c.failPod(ctx, pod, exit, reason, msg, nil); err != nil {
			return err
		}
	}
	return r.c.release(ctx, pod)
}

// mountedCommand returns the command running argv; with real mounts
// (pairs of host directory and container path, each under /var/run), in
// a mount namespace of its own (unshare) where each directory is
// bind-mounted, read-only, at its container path. So that nothing is
// created on the host, /var/run (/run) gets a tmpfs of its own there
// first. The process execs argv in the end: signals reach it directly.
func mountedCommand(ctx context.Context, real, argv []string) *exec.Cmd {
	if len(real) == 0 {
		return exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	const script = `set -e
run=$1
shift
mount -t tmpfs -o mode=0755 tune-e2e-run "$run"
while [ "$1" != -- ]; do
	mkdir -p "$2"
	mount --bind "$1" "$2"
	mount -o remount,bind,ro "$2"
	shift 2
done
shift
exec "$@"`
	run, err := filepath.EvalSymlinks("/var/run")
	if err != nil {
		run = "/run"
	}
	args := []string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", run}
	for i := 0; i+1 < len(real); i += 2 {
		args = append(args, real[i], real[i+1])
	}
	args = append(append(args, "--"), argv...)
	return exec.CommandContext(ctx, "unshare", args...)
}

// checkNonRoot refuses ct as the kubelet does when runAsNonRoot holds (the
// container's securityContext, else the pod's) and the user it would run
// as (runAsUser, else the image's user) is root or, being a name, cannot
// be verified: CreateContainerConfigError.
func checkNonRoot(pod *corev1.Pod, ct *corev1.Container, imageUser string) error {
	psc, csc := pod.Spec.SecurityContext, ct.SecurityContext
	nonRoot := psc != nil && ptrValue(psc.RunAsNonRoot)
	var uid *int64
	if psc != nil && psc.RunAsUser != nil {
		uid = psc.RunAsUser
	}
	if csc != nil {
		if csc.RunAsNonRoot != nil {
			nonRoot = *csc.RunAsNonRoot
		}
		if csc.RunAsUser != nil {
			uid = csc.RunAsUser
		}
	}
	if !nonRoot {
		return nil
	}
	if uid == nil {
		user, _, _ := strings.Cut(imageUser, ":")
		if user == "" {
			user = "0"
		}
		n, err := strconv.ParseInt(user, 10, 64)
		if err != nil {
			return fmt.Errorf("CreateContainerConfigError: container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root", user)
		}
		uid = &n
	}
	if *uid == 0 {
		return fmt.Errorf("CreateContainerConfigError: container has runAsNonRoot and image will run as root")
	}
	return nil
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// claimDir returns the host directory of the hostPath volume bound to
// claim of ns.
func (c *cluster) claimDir(ctx context.Context, ns, claim string) (string, error) {
	pvc, err := c.kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("claim %s is not bound, yet the pod runs", claim)
	}
	pv, err := c.kube.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("persistent volume %s is not a hostPath volume", pv.Name)
	}
	return pv.Spec.HostPath.Path, nil
}

// configMapFiles writes the keys of ConfigMap name of ns (items, when
// given, at their paths) as files into dir, as the kubelet fills a
// configMap volume; a missing optional ConfigMap gives an empty dir.
func (c *cluster) configMapFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional bool, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cm, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional {
		return nil
	}
	if err != nil {
		return fmt.Errorf("configmap %s: %w", name, err)
	}
	files := map[string]string{}
	if len(items) == 0 {
		maps.Copy(files, cm.Data)
		for k, v := range cm.BinaryData {
			files[k] = string(v)
		}
	}
	for _, it := range items {
		v, ok := cm.Data[it.Key]
		if !ok {
			b, bok := cm.BinaryData[it.Key]
			if !bok {
				return fmt.Errorf("configmap %s has no key %s", name, it.Key)
			}
			v = string(b)
		}
		files[it.Path] = v
	}
	for path, content := range files {
		file := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// projectedFiles fills dir as the kubelet fills projected volume v of pod:
// a service account token from TokenRequest for the pod's service account,
// bound to the pod, with the source's audience and expiry; configMap
// items; downwardAPI items from the pod's fields.
func (c *cluster) projectedFiles(ctx context.Context, pod *corev1.Pod, v *corev1.ProjectedVolumeSource, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, src := range v.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			s := src.ServiceAccountToken
			req := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{
				ExpirationSeconds: s.ExpirationSeconds,
				BoundObjectRef:    &authnv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID},
			}}
			if s.Audience != "" {
				req.Spec.Audiences = []string{s.Audience}
			}
			tr, err := c.kube.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, pod.Spec.ServiceAccountName, req, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("token of service account %s: %w", pod.Spec.ServiceAccountName, err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.Path), []byte(tr.Status.Token), 0o644); err != nil {
				return err
			}
		case src.ConfigMap != nil:
			if err := c.configMapFiles(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, ptrValue(src.ConfigMap.Optional), dir); err != nil {
				return err
			}
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					return fmt.Errorf("downwardAPI item %s: only fieldRef is supported", it.Path)
				}
				value, err := fieldValue(pod, it.FieldRef.FieldPath)
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(value), 0o644); err != nil {
					return err
				}
			}
		default:
			return errors.New("only serviceAccountToken, configMap and downwardAPI sources are supported")
		}
	}
	return nil
}

// collectTrain builds testdata/collecttrain once per test binary.
var collectTrain = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tune-k8s-e2e-collecttrain-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "collecttrain")
	return bin, testutil.Build(map[string]string{bin: "./testdata/collecttrain"}, false)
})

// collectorExperiment is a Job experiment over x and y, parallel trials at
// a time, max in all (maxFailedTrialCount 1), whose metricsCollectorSpec
// is spec (its lines, indented by 4) and whose pods, held for the pod
// runner, run prog with command [prog, to...] and args --x, --y and
// extra; with own, the pod has an emptyDir volume of its own, metrics,
// mounted there.
func collectorExperiment(name, ns string, parallel, max int, spec, prog string, to, extra []string, own string) string {
	q := func(ss []string) string {
		var out []string
		for _, s := range ss {
			out = append(out, strconv.Quote(s))
		}
		return strings.Join(out, ", ")
	}
	args := append([]string{"--x=${trialParameters.x}", "--y=${trialParameters.y}"}, extra...)
	volume := ""
	if own != "" {
		volume = fmt.Sprintf("                volumeMounts: [{name: metrics, mountPath: %s}]\n            volumes: [{name: metrics, emptyDir: {}}]\n", own)
	}
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: %s, namespace: %s}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "5"}]
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: 1
  metricsCollectorSpec:
%s
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        backoffLimit: 0
        template:
          metadata:
            annotations: {tune.test/hold: "true"}
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: example.invalid/train:1
                command: [%s]
                args: [%s]
%s`, name, ns, parallel, max, spec, q(append([]string{prog}, to...)), q(args), volume)
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCollectors runs a Job experiment per collector that reads more than
// the trial's output (File in TEXT and JSON, TensorFlowEvent,
// PrometheusMetric, Push) with --collector-image, each trial pod run for
// real by the pod runner: tune's init container installs tune into the
// pod, tune's collector runs the training program (collecttrain) as its
// child in the primary container and forwards what it reads through the
// container's log. Every trial Succeeded with the loss computed here from
// its parameters (each epoch's value once: none from the decoy
// loss=-999 the program prints to stdout), its pod had the init container
// of the image given and the wrapped command, and its log (tune logs)
// holds the program's own lines and none of the collector's. A program
// exiting 3 under the collector fails its trial with exit code 3; Ctrl-C
// stops the programs through the collector (testCollectorInterrupt).
func TestCollectors(t *testing.T) {
	c := newCluster(t)
	prog, err := collectTrain()
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(v float64) float64 { return float64(float32(v)) }
	exact := func(v float64) float64 { return v }
	cases := []struct {
		name, kind string
		spec       string
		to, extra  []string
		parallel   int
		// path is the collector's path in the pod's --config (File,
		// TensorFlowEvent); own is where the template mounts a volume of
		// its own, metrics; mounted is where the metrics directory's
		// volume is mounted (tune's tune-metrics-0, or metrics when own
		// holds the directory).
		path, own, mounted string
		// value is what the collector records of a value written: a
		// TensorFlow event holds a float32.
		value func(float64) float64
		// count is how many values a trial records: each epoch's, or one
		// for a gauge scraped while unchanged.
		count float64
	}{
		{name: "file-text", kind: "File", to: []string{"--to", "file"}, extra: []string{"--log-path=/katib/metrics.log"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}",
			path: "/katib/metrics.log", mounted: "/katib", value: exact, count: 3},
		{name: "file-json", kind: "File", to: []string{"--to", "json"}, extra: []string{"--log-path=/var/log/train/metrics.json"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /var/log/train/metrics.json, kind: File, format: JSON}}\n    collector: {kind: File}",
			// The template's own volume at /var/log holds the metrics
			// directory: tune adds none (tune's collector makes
			// /var/log/train in it before the program starts).
			path: "/var/log/train/metrics.json", own: "/var/log", mounted: "/var/log", value: exact, count: 3},
		{name: "tfevent", kind: "TensorFlowEvent", to: []string{"--to", "tfevent"}, extra: []string{"--dir=/logs/tfevents"}, parallel: 2,
			spec: "    source: {fileSystemPath: {path: /logs/tfevents, kind: Directory}}\n    collector: {kind: TensorFlowEvent}",
			path: "/logs/tfevents", mounted: "/logs/tfevents", value: f32, count: 3},
		// One trial at a time: every "pod" here shares the host's
		// loopback, unlike real pods (each its own network namespace), so
		// two trials would serve on the same port at once.
		{name: "prometheus", kind: "PrometheusMetric", to: []string{"--to", "prometheus"}, parallel: 1,
			spec:  fmt.Sprintf("    source: {httpGet: {port: %d, path: /metrics}}\n    collector: {kind: PrometheusMetric}", freePort(t)),
			value: exact, count: 1},
		{name: "push", kind: "Push", to: []string{"--to", "push"}, parallel: 2,
			spec: "    collector: {kind: Push}", value: exact, count: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := c.namespace(t)
			pods := c.runPods(t, ns)
			dir := t.TempDir()
			file := writeExperiment(t, dir, collectorExperiment(tc.name, ns, tc.parallel, 2, tc.spec, prog, tc.to, tc.extra, tc.own))
			start := time.Now()
			code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
			if code != 0 {
				t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
			}
			t.Logf("2 trials in %s", time.Since(start).Round(time.Millisecond))
			if strings.Contains(out+errOut, "warning") {
				t.Errorf("tune run warned:\n%s%s", out, errOut)
			}
			ts := trials(t, dir, tc.name)
			if len(ts) != 2 {
				t.Fatalf("%d trials, want 2", len(ts))
			}
			rows := exportRows(t, dir, tc.name)
			runs := map[string]podRun{}
			for _, run := range pods.ran() {
				runs[run.Pod.Labels["katib.kubeflow.org/trial"]] = run
			}
			for _, tr := range ts {
				x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
				y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
				loss := (x-1)*(x-1) + (y+2)*(y+2)
				want, last := tc.value(loss), tc.value(loss+2)
				if tc.count == 1 {
					last = want
				}
				if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
					t.Errorf("%s: %s (%s), loss %v; want Succeeded with loss %v, computed from x=%v y=%v (the decoy is -999)", tr.Name, tr.Status, tr.Message, tr.Metrics["loss"], want, x, y)
				}
				row := rows[tr.Name]
				if row["loss.min"] != want || row["loss.max"] != last || row["loss.count"] != tc.count {
					t.Errorf("%s: loss min %v, max %v, count %v; want %v, %v, %v (the epochs' values, nothing else)", tr.Name, row["loss.min"], row["loss.max"], row["loss.count"], want, last, tc.count)
				}
				run, ok := runs[tr.Name]
				if !ok {
					t.Errorf("%s: the pod runner ran no pod of it", tr.Name)
					continue
				}
				checkCollectorPod(t, run.Pod, tc.kind, tc.path, tc.own, tc.mounted, prog, tc.to)
				checkTrialLog(t, dir, tc.name, tr.Name, x, y)
			}
		})
	}
	t.Run("interrupt", func(t *testing.T) {
		t.Parallel()
		testCollectorInterrupt(t, c, prog)
	})
	t.Run("failing", func(t *testing.T) {
		t.Parallel()
		ns := c.namespace(t)
		pods := c.runPods(t, ns)
		dir := t.TempDir()
		spec := "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}"
		file := writeExperiment(t, dir, collectorExperiment("failing", ns, 1, 1, spec, prog, []string{"--to", "file"}, []string{"--log-path=/katib/metrics.log", "--exit=3"}, ""))
		code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
		if code != 1 {
			t.Fatalf("tune run: exit %d, want 1 (the experiment Failed)\n%s%s", code, out, errOut)
		}
		ts := trials(t, dir, "failing")
		codes := exitCodes(t, dir, "failing")
		if len(ts) != 1 || ts[0].Status != "Failed" || codes[ts[0].Name] != 3 {
			t.Fatalf("trials %+v, exit codes %v; want one Failed with exit code 3, the program's, passed on by tune's collector", ts, codes)
		}
		if runs := pods.ran(); len(runs) != 1 || runs[0].ExitCode != 3 {
			t.Errorf("the pod runner ran %+v; want one pod whose primary container exited 3", runs)
		}
		// The program's standard error passes through tune's collector
		// (pods/log serves both streams as one: tune logs has it).
		if code, out, errOut := runTune(t, dir, "logs", "failing", ts[0].Name); code != 0 || !strings.Contains(out, "collecttrain: exiting with 3\n") {
			t.Errorf("tune logs failing %s: exit %d: %q %s; want the program's line \"collecttrain: exiting with 3\", written to its standard error", ts[0].Name, code, out, errOut)
		}
		t.Logf("%s: %s/%s: %s", ts[0].Name, ts[0].Status, ts[0].Reason, ts[0].Message)
	})
}

// testCollectorInterrupt presses Ctrl-C while two trials run under tune's
// collector: tune run exits 130 with the trials Killed, and the deletion
// of their pods reaches the training programs: the pod runner's SIGTERM to
// the container's process (tune collector run) is passed on to the
// program, which says so and exits 143, the collector's exit code too,
// and the collector forwards the metrics file's lines before it exits.
func testCollectorInterrupt(t *testing.T, c *cluster, prog string) {
	ns := c.namespace(t)
	pods := c.runPods(t, ns)
	dir := t.TempDir()
	spec := "    source: {fileSystemPath: {path: /katib/metrics.log, kind: File, format: TEXT}}\n    collector: {kind: File}"
	file := writeExperiment(t, dir, collectorExperiment("stopme", ns, 2, 4, spec, prog, []string{"--to", "file"}, []string{"--log-path=/katib/metrics.log", "--wait"}, ""))
	start := time.Now()
	cmd, out := startTune(t, dir, "run", "--executor", "kubernetes", "--collector-image", collectorImage, file)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The program prints this once it handles SIGTERM.
	for deadline := time.Now().Add(90 * time.Second); pods.printed("collecttrain: waiting for SIGTERM") < 2; {
		select {
		case err := <-exited:
			t.Fatalf("tune run ended before its trials ran: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d trial programs running after 90 s, %d of them waiting for SIGTERM, want 2\n%s", pods.running(), pods.printed("collecttrain: waiting for SIGTERM"), out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("2 programs waiting for SIGTERM %s after tune run started", time.Since(start).Round(time.Millisecond))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 130 {
		t.Fatalf("tune run after Ctrl-C: %v, want exit 130\n%s", err, out)
	}
	ts := trials(t, dir, "stopme")
	if len(ts) != 2 {
		t.Errorf("%d trials, want the 2 that were running", len(ts))
	}
	for _, tr := range ts {
		if tr.Status != "Killed" {
			t.Errorf("%s: %s (%s), want Killed", tr.Name, tr.Status, tr.Message)
		}
	}
	for deadline := time.Now().Add(90 * time.Second); pods.running() > 0 || len(pods.ran()) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: %d trial programs still running, %d ended", pods.running(), len(pods.ran()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("tune run stopped, both programs ended %s after it started", time.Since(start).Round(time.Millisecond))
	for _, run := range pods.ran() {
		var stdout []string
		forwarded := 0
		for _, l := range run.Log {
			if l.stream == "stdout" {
				stdout = append(stdout, l.text)
			}
			if strings.HasPrefix(l.text, "tune-collector: ") && strings.Contains(l.text, "loss=") {
				forwarded++
			}
		}
		if !run.Deleted || run.ExitCode != 143 || !slices.Contains(stdout, "collecttrain: terminated") || forwarded != 3 {
			t.Errorf("pod %s: deleted %v, exit code %d, %d metrics file lines forwarded, stdout %q; want its program stopped by SIGTERM through tune's collector (exit code 143, \"collecttrain: terminated\"), the file's 3 lines forwarded",
				run.Pod.Name, run.Deleted, run.ExitCode, forwarded, stdout)
		}
	}
}

// exportRows returns tune export's rows of exp by trial name.
func exportRows(t *testing.T, dir, exp string) map[string]map[string]any {
	t.Helper()
	code, out, errOut := runTune(t, dir, "export", exp, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("tune export: exit %d: %s", code, errOut)
	}
	rows := map[string]map[string]any{}
	for line := range strings.Lines(out) {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("tune export: %v: %q", err, line)
		}
		trial, _ := row["trial"].(string)
		rows[trial] = row
	}
	return rows
}

// checkCollectorPod checks that pod, as tune submitted it, runs tune's
// collector of kind: an init container of collectorImage installing tune
// into the tune-collector volume, and the primary container's command
// wrapped (tune collector run --config JSON -- prog to...), its args as the
// template has them, the metrics directory mounted at mounted: the
// template's own volume when it has one at own, else tune's.
func checkCollectorPod(t *testing.T, pod *corev1.Pod, kind, path, own, mounted, prog string, to []string) {
	t.Helper()
	ics := pod.Spec.InitContainers
	if len(ics) != 1 || ics[0].Name != "tune-collector-install" || ics[0].Image != collectorImage ||
		!slices.Equal(ics[0].Command, []string{"tune", "collector", "install", "/opt/tune-collector"}) {
		t.Errorf("pod %s: init containers %+v; want tune-collector-install of %s running tune collector install /opt/tune-collector", pod.Name, ics, collectorImage)
		return
	}
	if !slices.ContainsFunc(ics[0].VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == "tune-collector" && m.MountPath == "/opt/tune-collector"
	}) {
		t.Errorf("pod %s: the init container mounts %+v; want tune-collector at /opt/tune-collector", pod.Name, ics[0].VolumeMounts)
	}
	main := pod.Spec.Containers[0]
	cmd := main.Command
	if len(cmd) < 6 || !slices.Equal(cmd[:4], []string{"/opt/tune-collector/tune", "collector", "run", "--config"}) || cmd[5] != "--" ||
		!slices.Equal(cmd[6:], append([]string{prog}, to...)) {
		t.Errorf("pod %s: command %q; want /opt/tune-collector/tune collector run --config JSON -- %s %s", pod.Name, cmd, prog, strings.Join(to, " "))
		return
	}
	var cfg struct {
		Kind    string   `json:"kind"`
		Path    string   `json:"path"`
		Metrics []string `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(cmd[4]), &cfg); err != nil || cfg.Kind != kind || cfg.Path != path || !slices.Equal(cfg.Metrics, []string{"loss"}) {
		t.Errorf("pod %s: --config %s (%v); want kind %s, path %q, metrics [loss]", pod.Name, cmd[4], err, kind, path)
	}
	if len(main.Args) < 2 || !strings.HasPrefix(main.Args[0], "--x=") || !strings.HasPrefix(main.Args[1], "--y=") {
		t.Errorf("pod %s: args %q; want the template's, --x= and --y= first", pod.Name, main.Args)
	}
	if mounted == "" {
		return
	}
	volume := "tune-metrics-0"
	if own != "" {
		volume = "metrics"
	}
	var names []string
	for _, v := range pod.Spec.Volumes {
		names = append(names, v.Name)
	}
	if !slices.ContainsFunc(main.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == mounted && m.Name == volume }) ||
		own != "" && slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "tune-metrics-") }) {
		t.Errorf("pod %s: volumes %q, the primary container mounts %+v; want %s at %s, the metrics directory's, and no other for it", pod.Name, names, main.VolumeMounts, volume, mounted)
	}
}

// checkTrialLog checks that tune logs of trial holds the program's lines
// (the ordinary one and the decoy) and none of tune's collector.
func checkTrialLog(t *testing.T, dir, exp, trial string, x, y float64) {
	t.Helper()
	code, out, errOut := runTune(t, dir, "logs", exp, trial)
	if code != 0 {
		t.Errorf("tune logs %s %s: exit %d: %s", exp, trial, code, errOut)
		return
	}
	ordinary := fmt.Sprintf("collecttrain: training with x=%s y=%s\n", strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64))
	if !strings.Contains(out, ordinary) || !strings.Contains(out, "loss=-999\n") || strings.Contains(out, "tune-collector:") {
		t.Errorf("tune logs %s %s:\n%s\nwant the program's lines %q and %q, and no line of tune's collector (tune-collector:)", exp, trial, out, ordinary, "loss=-999")
	}
}
