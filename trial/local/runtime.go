package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Runtime says where a trial's process runs: on this machine (host) or in
// a container of its own started by a container engine's command line.
type Runtime string

// The runtimes.
const (
	// RuntimeHost runs the program on this machine; the image is ignored.
	RuntimeHost Runtime = "host"
	// RuntimePodman runs it with `podman run`.
	RuntimePodman Runtime = "podman"
	// RuntimeDocker runs it with `docker run`.
	RuntimeDocker Runtime = "docker"
)

// Runtimes lists the runtimes in the order a user is offered them.
func Runtimes() []Runtime { return []Runtime{RuntimeHost, RuntimePodman, RuntimeDocker} }

// ParseRuntime returns the runtime named s; "" is [RuntimeHost].
func ParseRuntime(s string) (Runtime, error) {
	switch r := Runtime(s); r {
	case "":
		return RuntimeHost, nil
	case RuntimeHost, RuntimePodman, RuntimeDocker:
		return r, nil
	}
	return "", fmt.Errorf("unknown container runtime %q: want host, podman or docker", s)
}

// container reports whether r runs trials in containers.
func (r Runtime) container() bool { return r == RuntimePodman || r == RuntimeDocker }

// Labels put on every container the executor starts, so that leftovers can
// be listed (podman ps -a --filter label=io.tune.trial).
const (
	labelTrial = "io.tune.trial"
	labelOwner = "io.tune.owner"
)

// pullPolicy turns a container's imagePullPolicy into the value of the
// runtime's --pull flag. An empty policy gets Kubernetes' default: Always
// for an image without a tag or tagged latest (and no digest),
// IfNotPresent otherwise.
func pullPolicy(policy corev1.PullPolicy, image string) (string, error) {
	switch policy {
	case corev1.PullNever:
		return "never", nil
	case corev1.PullIfNotPresent:
		return "missing", nil
	case corev1.PullAlways:
		return "always", nil
	case "":
		if strings.Contains(image, "@") {
			return "missing", nil
		}
		name := image[strings.LastIndex(image, "/")+1:]
		if _, tag, ok := strings.Cut(name, ":"); !ok || tag == "latest" {
			return "always", nil
		}
		return "missing", nil
	}
	return "", fmt.Errorf("imagePullPolicy %q: want Always, IfNotPresent or Never", policy)
}

// containerNameRE is what podman and docker accept as a container name.
var containerNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// containerName is the name of attempt n of the planned process: "tune-",
// the plan's name (the trial's, or the trial's and step's), a short hash
// of its directory and owner, so that two stores running experiments of
// the same name never collide, and the attempt.
func containerName(p *plan, n int) string {
	h := sha256.Sum256([]byte(p.owner + "\x00" + p.recordDir))
	name := p.name
	if name == "" || !containerNameRE.MatchString(name) {
		name = "trial"
	}
	return fmt.Sprintf("tune-%s-%s-%d", name, hex.EncodeToString(h[:4]), n)
}

// planImage sets what a container runtime needs of c in p (image, pull
// policy, working directory as written) and, with a container runtime,
// checks that p can run in it (see checkContainer). p's argv, env, mounts,
// recordDir, owner and name must be set already.
func (e *Executor) planImage(p *plan, c *corev1.Container) error {
	p.image, p.workDir = c.Image, c.WorkingDir
	if !e.runtime.container() {
		return nil
	}
	var err error
	if p.pull, err = pullPolicy(c.ImagePullPolicy, c.Image); err != nil {
		return fmt.Errorf("container %q: %w", c.Name, err)
	}
	return e.checkContainer(p, c.Name)
}

// checkContainer reports whether p can run in a container of e's runtime:
// an image, an absolute working directory, mount paths the runtime's
// --mount syntax can carry and variable names the runtime will not read
// as patterns.
func (e *Executor) checkContainer(p *plan, container string) error {
	if e.runtimeErr != nil {
		return e.runtimeErr
	}
	if p.image == "" {
		return fmt.Errorf("container %q has no image: --runtime %s runs each trial in its container's image", container, e.runtime)
	}
	if p.workDir != "" && !filepath.IsAbs(p.workDir) {
		return fmt.Errorf("container %q: workingDir %q must be an absolute path with --runtime %s", container, p.workDir, e.runtime)
	}
	for _, d := range p.containerMounts() {
		for _, s := range []string{d.Source, d.Target} {
			if strings.ContainsAny(s, ",\n") {
				return fmt.Errorf("container %q: mount path %q contains a comma or a newline, which --runtime %s cannot mount", container, s, e.runtime)
			}
		}
	}
	for _, kv := range p.env {
		k, _, _ := strings.Cut(kv, "=")
		if e.runtime == RuntimePodman && strings.Contains(k, "*") {
			return fmt.Errorf("container %q: variable name %q contains '*', which podman reads as a pattern", container, k)
		}
	}
	return nil
}

// containerMount is a bind mount of a container.
type containerMount struct{ Source, Target string }

// containerMounts lists p's bind mounts: its directory at the same path,
// then its mounts.
func (p *plan) containerMounts() []containerMount {
	var ms []containerMount
	if p.recordDir != "" {
		if abs, err := filepath.Abs(p.recordDir); err == nil {
			ms = append(ms, containerMount{abs, abs})
		}
	}
	for _, m := range p.mounts {
		ms = append(ms, containerMount{m.Source, m.Target})
	}
	return ms
}

// containerRun is what it takes to run a planned process in a container:
// the runtime client's argv and environment, and what to remove once the
// client has exited.
type containerRun struct {
	name    string   // the container's name
	argv    []string // the client's argv, argv[0] being the runtime's name
	env     []string // the client's environment
	envFile string   // the file passed with --env-file; "" when none
}

// close removes the env file, if any.
func (r *containerRun) close() {
	if r.envFile != "" {
		os.RemoveAll(filepath.Dir(r.envFile))
	}
}

// containerCommand turns attempt n of the planned process, run from image
// p.image (pulled as p.pull says, Kubernetes' default when empty) with
// environment env (p.env and, when GPUs are configured,
// CUDA_VISIBLE_DEVICES holding the host ids the trial got), into the
// runtime client's command. No value is put into a shell string, and no
// variable's value into the argv: every variable is passed by name (-e
// NAME), the client taking its value from its own environment, which is
// tune's (clientEnv) plus the trial's variables; a variable whose name is
// already in clientEnv with another value (PATH, HOME, ...) would change
// how the client itself runs, so it goes in an env file instead, in a
// directory of its own only tune's user can read.
func (e *Executor) containerCommand(p *plan, n int, env, clientEnv []string) (*containerRun, error) {
	r := &containerRun{name: containerName(p, n)}
	pull := p.pull
	if pull == "" {
		pull, _ = pullPolicy("", p.image) // Kubernetes' default for the image
	}
	argv := []string{string(e.runtime), "run", "--rm", "--init",
		"--name", r.name,
		"--label", labelTrial + "=" + p.name,
		"--network", "host",
		"--pull", pull,
	}
	if p.owner != "" {
		argv = append(argv, "--label", labelOwner+"="+p.owner)
	}
	// podman parses a JSON array given to --entrypoint; docker takes the
	// string as the program's path.
	entry := p.argv[0]
	if e.runtime == RuntimePodman {
		b, err := json.Marshal([]string{p.argv[0]})
		if err != nil {
			return nil, fmt.Errorf("encode entrypoint: %w", err)
		}
		entry = string(b)
	}
	argv = append(argv, "--entrypoint", entry)
	if p.workDir != "" {
		argv = append(argv, "--workdir", p.workDir)
	}
	for _, m := range p.containerMounts() {
		argv = append(argv, "--mount", "type=bind,source="+m.Source+",target="+m.Target)
	}

	// The GPUs: the host ids become devices, and inside the container,
	// which sees only those, CUDA numbers them from 0.
	var ids []string
	if e.gpus != nil {
		if v, _ := getEnv(env, "CUDA_VISIBLE_DEVICES"); v != "" {
			ids = strings.Split(v, ",")
		}
		inside := make([]string, len(ids))
		for i := range ids {
			inside[i] = strconv.Itoa(i)
		}
		env = setEnv(env, "CUDA_VISIBLE_DEVICES", strings.Join(inside, ","))
	}
	if len(ids) > 0 {
		switch e.runtime {
		case RuntimePodman:
			for _, id := range ids {
				argv = append(argv, "--device", "nvidia.com/gpu="+id)
			}
		case RuntimeDocker:
			// --gpus is a CSV record: the quotes keep the list one field.
			argv = append(argv, "--gpus", `"device=`+strings.Join(ids, ",")+`"`)
		}
	}

	r.env = append([]string(nil), clientEnv...)
	var file bytes.Buffer
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if own, ok := getEnv(clientEnv, k); ok && own != v {
			if strings.ContainsAny(v, "\n\r") {
				return nil, fmt.Errorf("variable %s: its value has a line break, and tune's own environment has %s too, so it can be passed neither by name nor in an env file", k, k)
			}
			file.WriteString(kv + "\n")
			continue
		}
		argv = append(argv, "--env", k)
		r.env = setEnv(r.env, k, v)
	}
	if file.Len() > 0 {
		dir, err := os.MkdirTemp("", "tune-env-")
		if err != nil {
			return nil, fmt.Errorf("env file: %w", err)
		}
		r.envFile = filepath.Join(dir, "env")
		if err := os.WriteFile(r.envFile, file.Bytes(), 0o600); err != nil {
			r.close()
			return nil, fmt.Errorf("env file: %w", err)
		}
		argv = append(argv, "--env-file", r.envFile)
	}
	argv = append(argv, p.image)
	r.argv = append(argv, p.argv[1:]...)
	return r, nil
}

// containerStopTimeout bounds how long removing a container may take.
const containerStopTimeout = 30 * time.Second

// removeContainer stops the container name of runtime rt, giving it grace
// to exit after SIGTERM, and removes it. It reports whether there was one.
// An rt that is not a container runtime or a name that is not a container
// name is an error, and nothing is run.
func removeContainer(ctx context.Context, rt Runtime, name string, grace time.Duration) (bool, error) {
	// A record is a file anyone with the directory could edit: what it
	// names must be a runtime and a name, never a flag.
	if !rt.container() {
		return false, fmt.Errorf("remove container %q: unknown container runtime %q", name, rt)
	}
	if !containerNameRE.MatchString(name) {
		return false, fmt.Errorf("remove container: invalid container name %q", name)
	}
	path, err := exec.LookPath(string(rt))
	if err != nil {
		return false, fmt.Errorf("remove container %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace+containerStopTimeout)
	defer cancel()
	var stderr bytes.Buffer
	inspect := exec.CommandContext(ctx, path, "container", "inspect", "--format", "{{.Id}}", name)
	inspect.Stderr = &stderr
	if err := inspect.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && noSuchContainer(stderr.String()) {
			return false, nil
		}
		return false, fmt.Errorf("inspect container %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	secs := strconv.Itoa(int((grace + time.Second - 1) / time.Second))
	stop := exec.CommandContext(ctx, path, "stop", "--time", secs, name)
	_ = stop.Run() // rm -f below kills what stop could not stop
	stderr.Reset()
	rm := exec.CommandContext(ctx, path, "rm", "--force", name)
	rm.Stderr = &stderr
	if err := rm.Run(); err != nil && !noSuchContainer(stderr.String()) {
		return true, fmt.Errorf("remove container %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return true, nil
}

// noSuchContainer reports whether a runtime's error message says that the
// container does not exist.
func noSuchContainer(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "no such container") || strings.Contains(msg, "no such object")
}
