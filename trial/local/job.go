package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

// gpuResource is the extended resource that asks for NVIDIA GPUs.
const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// plan is a trial spec turned into a process to start.
type plan struct {
	argv []string // command + args, expanded
	dir  string   // working directory; "" = the current directory
	env  []string // KEY=VALUE, one per key, CUDA_VISIBLE_DEVICES not yet set
	gpus int      // how many GPUs the primary container asks for

	deadline  *deadline // the trial's wall-clock limit; nil = none
	retries   int       // how many times a failed attempt is retried
	recordDir string    // where the process record goes; "" = nowhere
	owner     string    // the spec's Owner, written into the process record

	mounts []trial.Mount // the spec's mounts, set up when the system allows

	// With a container runtime (see runtime.go):
	name    string // names the container: the trial's name
	image   string // the container's image
	pull    string // the runtime's --pull value, from imagePullPolicy
	workDir string // the container's own workingDir; "" = the image's
}

// deadline is a trial's wall-clock limit, from activeDeadlineSeconds. It is
// also the cause of the context that enforces it.
type deadline struct {
	seconds int64
	field   string // the Job field it comes from
}

func (d *deadline) Error() string {
	return fmt.Sprintf("trial exceeded activeDeadlineSeconds=%d (%s)", d.seconds, d.field)
}

// plan decodes spec and works out the process that runs it.
func (e *Executor) plan(spec *trial.Spec) (*plan, error) {
	if spec == nil {
		return nil, errors.New("no trial spec")
	}
	job, err := decodeJob(spec.Object)
	if err != nil {
		return nil, err
	}
	c, err := primaryContainer(job, spec.PrimaryContainer)
	if err != nil {
		return nil, err
	}
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("container %q has no command: the local executor cannot run an image's entrypoint, so set command (and args) in the trial template", c.Name)
	}
	if len(c.EnvFrom) > 0 {
		return nil, fmt.Errorf("container %q: envFrom is not supported by the local executor", c.Name)
	}
	gpus, err := gpuCount(c)
	if err != nil {
		return nil, err
	}
	switch {
	case gpus > 0 && len(e.gpuIDs) == 0:
		return nil, fmt.Errorf("container %q requests %d %s but the local executor has no GPUs configured", c.Name, gpus, gpuResource)
	case gpus > len(e.gpuIDs):
		return nil, fmt.Errorf("container %q requests %d %s but the local executor has only %d", c.Name, gpus, gpuResource, len(e.gpuIDs))
	}
	env, vars, err := e.environ(job, c, spec)
	if err != nil {
		return nil, err
	}
	argv, dir := e.argvAndDir(c, vars)
	dl, err := jobDeadline(job)
	if err != nil {
		return nil, err
	}
	retries, err := jobRetries(job)
	if err != nil {
		return nil, err
	}
	if err := checkMounts(spec.Mounts); err != nil {
		return nil, err
	}
	p := &plan{argv: argv, dir: dir, env: env, gpus: gpus, deadline: dl, retries: retries, recordDir: spec.Dir, owner: spec.Owner, mounts: slices.Clone(spec.Mounts), name: spec.Name}
	if err := e.planImage(p, c); err != nil {
		return nil, err
	}
	return p, nil
}

// jobDeadline returns the smaller of the Job's and its pod template's
// activeDeadlineSeconds, or nil when neither is set.
func jobDeadline(job *batchv1.Job) (*deadline, error) {
	var dl *deadline
	for _, f := range []struct {
		field string
		value *int64
	}{
		{"spec.activeDeadlineSeconds", job.Spec.ActiveDeadlineSeconds},
		{"spec.template.spec.activeDeadlineSeconds", job.Spec.Template.Spec.ActiveDeadlineSeconds},
	} {
		if f.value == nil {
			continue
		}
		if *f.value <= 0 {
			return nil, fmt.Errorf("%s must be a positive number of seconds, not %d", f.field, *f.value)
		}
		if dl == nil || *f.value < dl.seconds {
			dl = &deadline{seconds: *f.value, field: f.field}
		}
	}
	return dl, nil
}

// jobRetries returns the Job's backoffLimit, with 0 (no retries) when it
// is unset rather than Kubernetes' 6.
func jobRetries(job *batchv1.Job) (int, error) {
	if job.Spec.BackoffLimit == nil {
		return 0, nil
	}
	if n := *job.Spec.BackoffLimit; n < 0 {
		return 0, fmt.Errorf("spec.backoffLimit must not be negative, not %d", n)
	}
	return int(*job.Spec.BackoffLimit), nil
}

// decodeJob checks that obj is a batch/v1 Job and decodes it strictly with
// [manifest.Decode]: every field must be one the Job type has, spelt with
// the same case.
func decodeJob(obj map[string]any) (*batchv1.Job, error) {
	if obj == nil {
		return nil, errors.New("trial spec has no workload object")
	}
	if !manifest.IsKind(obj, manifest.JobGVK) {
		apiVersion, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		return nil, fmt.Errorf("the local executor runs batch/v1 Job and argoproj.io/v1alpha1 Workflow trial templates: kind %q (apiVersion %q) needs --executor kubernetes", kind, apiVersion)
	}
	var job batchv1.Job
	if err := manifest.DecodeObject(obj, &job); err != nil {
		return nil, fmt.Errorf("decode batch/v1 Job: %w", err)
	}
	return &job, nil
}

// primaryContainer picks the container named name from the Job's pod
// template, or its only container when name is empty.
func primaryContainer(job *batchv1.Job, name string) (*corev1.Container, error) {
	cs := job.Spec.Template.Spec.Containers
	if c := manifest.PrimaryContainer(cs, name); c != nil {
		return c, nil
	}
	if name == "" {
		return nil, fmt.Errorf("job has %d containers and no primaryContainerName says which one to run", len(cs))
	}
	return nil, fmt.Errorf("primary container %q not found in job (containers: %s)", name, strings.Join(quoteAll(manifest.ContainerNames(cs)), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// gpuCount returns how many nvidia.com/gpu the container asks for in its
// limits, or else its requests.
func gpuCount(c *corev1.Container) (int, error) {
	q, ok := c.Resources.Limits[gpuResource]
	if !ok {
		q, ok = c.Resources.Requests[gpuResource]
	}
	if !ok {
		return 0, nil
	}
	if q.Sign() < 0 || q.MilliValue()%1000 != 0 {
		return 0, fmt.Errorf("container %q: %s must be a whole, non-negative number, not %s", c.Name, gpuResource, q.String())
	}
	return int(q.Value()), nil
}

// environ builds the trial's environment: the base environment, then the
// container's env in order, then spec.Env. It also returns the variables
// that $(VAR) references in the command and args can name: the container's
// env and spec.Env, but not the base environment, which a container in
// Kubernetes would not see either.
func (e *Executor) environ(job *batchv1.Job, c *corev1.Container, spec *trial.Spec) ([]string, map[string]string, error) {
	var env envList
	base := e.env
	switch {
	case e.runtime.container():
		base = nil // the image's environment is the base
	case base == nil:
		base = os.Environ()
	}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue // like exec, ignore malformed entries of the base environment
		}
		env.set(k, v)
	}

	runner := make(map[string]string, len(spec.Env))
	for _, kv := range spec.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("trial environment entry %q is not KEY=VALUE", kv)
		}
		runner[k] = v
	}

	// As the kubelet does: each value may reference the variables defined
	// before it, and then the variables the platform injects (here the
	// runner's, as the kubelet's service variables).
	declared := make(map[string]string, len(c.Env))
	lookup := lookupIn(declared, runner)
	for _, ev := range c.Env {
		var v string
		switch {
		case ev.Value != "":
			v = expand(ev.Value, lookup)
		case ev.ValueFrom != nil:
			var err error
			if v, err = valueFrom(job, spec, c, ev); err != nil {
				return nil, nil, err
			}
		}
		declared[ev.Name] = v
		env.set(ev.Name, v)
	}

	vars := make(map[string]string, len(declared)+len(spec.Env))
	for k, v := range declared {
		vars[k] = v
	}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env.set(k, v)
		vars[k] = v
	}
	return env.list(), vars, nil
}

// valueFrom resolves an env var's valueFrom, of which only the Job's own
// name and namespace make sense on this machine.
func valueFrom(job *batchv1.Job, spec *trial.Spec, c *corev1.Container, ev corev1.EnvVar) (string, error) {
	vf := ev.ValueFrom
	if vf.FieldRef != nil {
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			if job.Name != "" {
				return job.Name, nil
			}
			return spec.Name, nil
		case "metadata.namespace":
			if job.Namespace != "" {
				return job.Namespace, nil
			}
			return trial.DefaultNamespace, nil
		}
		return "", fmt.Errorf("container %q: env %s: valueFrom.fieldRef %q is not supported by the local executor (only metadata.name and metadata.namespace are)", c.Name, ev.Name, vf.FieldRef.FieldPath)
	}
	kind := "valueFrom"
	switch {
	case vf.SecretKeyRef != nil:
		kind = "valueFrom.secretKeyRef"
	case vf.ConfigMapKeyRef != nil:
		kind = "valueFrom.configMapKeyRef"
	case vf.ResourceFieldRef != nil:
		kind = "valueFrom.resourceFieldRef"
	case vf.FileKeyRef != nil:
		kind = "valueFrom.fileKeyRef"
	}
	return "", fmt.Errorf("container %q: env %s: %s is not supported by the local executor", c.Name, ev.Name, kind)
}

// envList is an environment with one entry per key, in first-set order.
type envList struct {
	keys  []string
	index map[string]int
	vals  []string
}

func (l *envList) set(k, v string) {
	if l.index == nil {
		l.index = make(map[string]int)
	}
	if i, ok := l.index[k]; ok {
		l.vals[i] = v
		return
	}
	l.index[k] = len(l.keys)
	l.keys = append(l.keys, k)
	l.vals = append(l.vals, v)
}

func (l *envList) list() []string {
	out := make([]string, len(l.keys))
	for i, k := range l.keys {
		out[i] = k + "=" + l.vals[i]
	}
	return out
}

// setEnv returns env with key set to value, replacing an existing entry.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// getEnv returns the value of key in env.
func getEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// argvAndDir returns c's argv (command + args, $(VAR) references expanded
// from vars as the kubelet does) and the directory it runs in: its
// workingDir, relative to the executor's directory, else that directory.
func (e *Executor) argvAndDir(c *corev1.Container, vars map[string]string) ([]string, string) {
	lookup := lookupIn(vars)
	argv := make([]string, 0, len(c.Command)+len(c.Args))
	for _, a := range slices.Concat(c.Command, c.Args) {
		argv = append(argv, expand(a, lookup))
	}
	dir := e.dir
	if c.WorkingDir != "" {
		dir = c.WorkingDir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(e.dir, dir)
		}
	}
	return argv, dir
}
