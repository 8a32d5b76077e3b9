package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// useCluster ends the reason of every refusal.
const useCluster = ": use --executor kubernetes"

// Check reports whether Run can run wf: whether it stays within the
// subset the local engine runs (see the package documentation). The error
// lists every problem, one a line as errors.Join does, each naming the
// template and the field: `template "train": resource: resource templates
// are not run locally (a step that creates Kubernetes objects needs a
// cluster): use --executor kubernetes`. Fields that only place or schedule pods on a
// cluster (serviceAccountName, nodeSelector, tolerations, affinity,
// securityContext, podGC, ttlStrategy, metrics, archive locations, ...)
// are not problems: they are ignored.
func Check(wf *wfv1.Workflow) error {
	if wf == nil {
		return errors.New("no workflow")
	}
	c := &checker{wf: wf, tmpls: map[string]*wfv1.Template{}, volumes: map[string]bool{}}
	c.check()
	return errors.Join(c.errs...)
}

type checker struct {
	wf      *wfv1.Workflow
	tmpls   map[string]*wfv1.Template
	volumes map[string]bool
	errs    []error
}

func (c *checker) add(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *checker) check() {
	s := &c.wf.Spec
	for i := range s.Templates {
		t := &s.Templates[i]
		if t.Name == "" {
			c.add("spec.templates[%d]: template has no name", i)
			continue
		}
		if c.tmpls[t.Name] != nil {
			c.add("template %q: defined twice", t.Name)
		}
		c.tmpls[t.Name] = t
	}
	if s.WorkflowTemplateRef != nil {
		c.add("spec.workflowTemplateRef: workflow templates are stored on a cluster and not resolved locally" + useCluster)
	}
	switch {
	case s.Entrypoint == "":
		c.add("spec.entrypoint: not set")
	case c.tmpls[s.Entrypoint] == nil:
		c.add("spec.entrypoint: template %q is not defined", s.Entrypoint)
	}
	if s.OnExit != "" && c.tmpls[s.OnExit] == nil {
		c.add("spec.onExit: template %q is not defined", s.OnExit)
	}
	if len(s.Hooks) > 0 {
		c.add("spec.hooks: lifecycle hooks are not run locally" + useCluster)
	}
	if s.TemplateDefaults != nil {
		c.add("spec.templateDefaults: template defaults are not applied locally" + useCluster)
	}
	if s.Synchronization != nil {
		c.add("spec.synchronization: semaphores and mutexes live in the cluster's ConfigMaps and controller" + useCluster)
	}
	if s.PodSpecPatch != "" {
		c.add("spec.podSpecPatch: pod spec patches are not applied locally" + useCluster)
	}
	if len(s.Arguments.Artifacts) > 0 {
		c.add("spec.arguments.artifacts: workflow artifact arguments come from an artifact repository, which the local engine does not read" + useCluster)
	}
	for _, p := range s.Arguments.Parameters {
		switch {
		case p.ValueFrom != nil && (p.ValueFrom.ConfigMapKeyRef != nil || p.ValueFrom.Supplied != nil || p.ValueFrom.Event != "" || p.ValueFrom.Expression != ""):
			c.add("spec.arguments.parameters.%s: valueFrom is not resolved locally (only value and default are)"+useCluster, p.Name)
		case p.Value == nil && (p.ValueFrom == nil || p.ValueFrom.Default == nil) && p.Default == nil:
			c.add("spec.arguments.parameters.%s: has no value", p.Name)
		}
	}
	for _, v := range s.VolumeClaimTemplates {
		c.volumes[v.Name] = true
	}
	for i, v := range s.Volumes {
		if v.EmptyDir == nil {
			c.add("spec.volumes[%d] (%s): only emptyDir volumes are run locally (as a directory shared by the run's steps); %s volumes are the cluster's"+useCluster, i, v.Name, volumeKind(v))
			continue
		}
		c.volumes[v.Name] = true
	}
	for i := range s.Templates {
		c.template(&s.Templates[i])
	}
}

func volumeKind(v corev1.Volume) string {
	data, _ := json.Marshal(v.VolumeSource)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	for k := range m {
		return k
	}
	return "unknown"
}

// refused names template kinds the local engine does not run, with why.
var refused = []struct {
	kind   string
	has    func(*wfv1.Template) bool
	reason string
}{
	{"resource", func(t *wfv1.Template) bool { return t.Resource != nil }, "resource templates are not run locally (a step that creates Kubernetes objects needs a cluster)"},
	{"suspend", func(t *wfv1.Template) bool { return t.Suspend != nil }, "suspend templates are not run locally (they wait for `argo resume` or a timer on the cluster's controller)"},
	{"http", func(t *wfv1.Template) bool { return t.HTTP != nil }, "http templates are not run locally (Argo's agent pod makes the request)"},
	{"plugin", func(t *wfv1.Template) bool { return t.Plugin != nil }, "plugin templates are not run locally (executor plugins are sidecars of Argo's agent pod)"},
	{"containerSet", func(t *wfv1.Template) bool { return t.ContainerSet != nil }, "containerSet templates are not run locally (several containers sharing one pod)"},
	{"data", func(t *wfv1.Template) bool { return t.Data != nil }, "data templates are not run locally (they read an artifact repository)"},
}

func (c *checker) template(t *wfv1.Template) {
	name := t.Name
	bad := func(format string, args ...any) {
		c.add("template %q: "+format, append([]any{name}, args...)...)
	}
	kinds := 0
	for _, k := range []bool{t.Container != nil, t.Script != nil, t.DAG != nil, t.Steps != nil} {
		if k {
			kinds++
		}
	}
	for _, r := range refused {
		if r.has(t) {
			bad("%s: %s"+useCluster, r.kind, r.reason)
			kinds = -1
		}
	}
	switch {
	case kinds == 0:
		bad("has no container, script, dag or steps")
	case kinds > 1:
		bad("has more than one of container, script, dag and steps")
	}
	if field := expressionField(t); field != "" {
		bad("%s: expression tags {{=...}} are not evaluated locally (only simple {{...}} tags are)"+useCluster, field)
	}
	if len(t.Sidecars) > 0 {
		bad("sidecars: containers running beside the main one in its pod are not run locally" + useCluster)
	}
	if len(t.InitContainers) > 0 {
		bad("initContainers: containers run before the main one in its pod are not run locally" + useCluster)
	}
	if t.Daemon != nil && *t.Daemon {
		bad("daemon: daemoned steps, which outlive their step, are not run locally" + useCluster)
	}
	if len(t.Volumes) > 0 {
		bad("volumes: template volumes are not run locally (declare spec.volumeClaimTemplates or emptyDir spec.volumes instead)" + useCluster)
	}
	if t.Memoize != nil {
		bad("memoize: the memoization cache is a ConfigMap on the cluster" + useCluster)
	}
	if t.Synchronization != nil {
		bad("synchronization: semaphores and mutexes live in the cluster's ConfigMaps and controller" + useCluster)
	}
	if t.PodSpecPatch != "" {
		bad("podSpecPatch: pod spec patches are not applied locally" + useCluster)
	}
	if t.ActiveDeadlineSeconds != nil {
		if n, err := strconv.Atoi(t.ActiveDeadlineSeconds.String()); err != nil || n <= 0 {
			bad("activeDeadlineSeconds: must be a positive number of seconds, not %q", t.ActiveDeadlineSeconds.String())
		}
	}
	// Argo's controller parses timeout as a Go duration only ("10" is an
	// error there, unlike activeDeadlineSeconds and backoff durations).
	if _, err := time.ParseDuration(t.Timeout); t.Timeout != "" && !strings.Contains(t.Timeout, "{{") && err != nil {
		bad("timeout: %q is not a duration", t.Timeout)
	}
	if rs := t.RetryStrategy; rs != nil {
		if rs.Limit != nil {
			if n, err := strconv.Atoi(rs.Limit.String()); err != nil || n < 0 {
				bad("retryStrategy.limit: must be a whole number, not %q", rs.Limit.String())
			}
		}
		if rs.Expression != "" {
			bad("retryStrategy.expression: retry expressions are not evaluated locally" + useCluster)
		}
		switch rs.RetryPolicy {
		case "", wfv1.RetryPolicyAlways, wfv1.RetryPolicyOnFailure, wfv1.RetryPolicyOnError, wfv1.RetryPolicyOnTransientError:
		default:
			bad("retryStrategy.retryPolicy: unknown policy %q", rs.RetryPolicy)
		}
		if b := rs.Backoff; b != nil {
			for field, v := range map[string]string{"duration": b.Duration, "cap": b.Cap, "maxDuration": b.MaxDuration} {
				if v != "" && !validDuration(v) {
					bad("retryStrategy.backoff.%s: %q is not a duration", field, v)
				}
			}
			if b.Factor != nil {
				if _, err := strconv.ParseFloat(b.Factor.String(), 64); err != nil {
					bad("retryStrategy.backoff.factor: %q is not a number", b.Factor.String())
				}
			}
		}
	}
	pod := t.Container != nil || t.Script != nil
	for _, p := range t.Inputs.Parameters {
		if p.ValueFrom != nil {
			bad("inputs.parameters.%s.valueFrom: not resolved locally (only value and default are)"+useCluster, p.Name)
		}
	}
	for _, a := range t.Inputs.Artifacts {
		if src := artifactSource(a.ArtifactLocation); src != "" && src != "raw" {
			bad("inputs.artifacts.%s: %s artifacts are fetched from a repository, which the local engine does not read (only artifacts passed from steps and raw ones are)"+useCluster, a.Name, src)
		}
		if a.SubPath != "" || a.FromExpression != "" {
			bad("inputs.artifacts.%s: subPath and fromExpression are not resolved locally"+useCluster, a.Name)
		}
		if pod {
			c.checkPath(name, "inputs.artifacts."+a.Name+".path", a.Path)
		}
	}
	for _, p := range t.Outputs.Parameters {
		vf := p.ValueFrom
		field := "outputs.parameters." + p.Name
		switch {
		case vf == nil:
			if p.Value == nil {
				bad("%s: has neither value nor valueFrom", field)
			}
		case vf.JSONPath != "" || vf.JQFilter != "":
			bad("%s.valueFrom: jsonPath and jqFilter read a resource template's object"+useCluster, field)
		case vf.Expression != "" || vf.Event != "" || vf.Supplied != nil || vf.ConfigMapKeyRef != nil:
			bad("%s.valueFrom: only path, parameter and default are resolved locally"+useCluster, field)
		case vf.Path != "":
			if !pod {
				bad("%s.valueFrom.path: only a container or script template has files", field)
			}
			c.checkPath(name, field+".valueFrom.path", vf.Path)
		case vf.Parameter != "":
			if pod {
				bad("%s.valueFrom.parameter: only a dag or steps template passes on a step's parameter", field)
			}
		case vf.Default == nil:
			bad("%s.valueFrom: names no path, parameter or default", field)
		}
	}
	for _, a := range t.Outputs.Artifacts {
		field := "outputs.artifacts." + a.Name
		switch {
		case a.FromExpression != "":
			bad("%s.fromExpression: not resolved locally"+useCluster, field)
		case pod:
			c.checkPath(name, field+".path", a.Path)
		case a.From == "":
			bad("%s: a dag or steps template's output artifact needs from", field)
		}
	}
	if t.Container != nil {
		c.mounts(name, t.Container.VolumeMounts)
	}
	if t.Script != nil {
		c.mounts(name, t.Script.VolumeMounts)
	}
	if t.DAG != nil {
		c.dag(t)
	}
	for i, group := range t.Steps {
		for j := range group.Steps {
			st := &group.Steps[j]
			field := fmt.Sprintf("steps[%d][%d] (%s)", i, j, st.Name)
			c.reference(name, field, st.Template, st.TemplateRef, st.Inline, st.OnExit, len(st.Hooks) > 0, st.Arguments)
		}
	}
}

// expressionField returns the path of the first field of t (in its JSON
// form, keys in order) whose text holds an expression tag, "" for none.
func expressionField(t *wfv1.Template) string {
	data, err := json.Marshal(t)
	if err != nil || !strings.Contains(string(data), "{{=") {
		return ""
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var walk func(path string, v any) string
	walk = func(path string, v any) string {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "{{=") {
				return path
			}
		case []any:
			for i, e := range x {
				if p := walk(fmt.Sprintf("%s[%d]", path, i), e); p != "" {
					return p
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if p := walk(p, x[k]); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk("", v)
}

// validDuration reports whether s is an Argo duration: seconds or a Go
// duration string.
func validDuration(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	_, err := time.ParseDuration(s)
	return err == nil
}

// artifactSource names the repository an artifact location points to, ""
// for none.
func artifactSource(l wfv1.ArtifactLocation) string {
	switch {
	case l.Raw != nil:
		return "raw"
	case l.S3 != nil:
		return "s3"
	case l.Git != nil:
		return "git"
	case l.HTTP != nil:
		return "http"
	case l.Artifactory != nil:
		return "artifactory"
	case l.HDFS != nil:
		return "hdfs"
	case l.OSS != nil:
		return "oss"
	case l.GCS != nil:
		return "gcs"
	case l.Azure != nil:
		return "azure"
	}
	return ""
}

// checkPath checks a declared container path.
func (c *checker) checkPath(tmpl, field, p string) {
	switch {
	case p == "":
		c.add("template %q: %s: not set", tmpl, field)
	case strings.Contains(p, "{{"):
		// Resolved from inputs at run time; checked then.
	case !path.IsAbs(p):
		c.add("template %q: %s: %q must be an absolute path", tmpl, field, p)
	case path.Clean(p) == "/":
		c.add("template %q: %s: cannot be /", tmpl, field)
	}
}

func (c *checker) mounts(tmpl string, ms []corev1.VolumeMount) {
	for _, m := range ms {
		field := "container.volumeMounts." + m.Name
		if !c.volumes[m.Name] {
			c.add("template %q: %s: no spec.volumeClaimTemplates or emptyDir spec.volumes entry is named %q"+useCluster, tmpl, field, m.Name)
		}
		c.checkPath(tmpl, field+".mountPath", m.MountPath)
	}
}

// reference checks a task's or step's template reference.
func (c *checker) reference(tmpl, field, target string, ref *wfv1.TemplateRef, inline *wfv1.Template, onExit string, hooks bool, args wfv1.Arguments) {
	switch {
	case ref != nil:
		c.add("template %q: %s.templateRef: templates of WorkflowTemplates are stored on a cluster and not resolved locally"+useCluster, tmpl, field)
	case inline != nil:
		c.add("template %q: %s.inline: inline templates are not run locally; name a template instead", tmpl, field)
	case target == "":
		c.add("template %q: %s: names no template", tmpl, field)
	case c.tmpls[target] == nil:
		c.add("template %q: %s: template %q is not defined", tmpl, field, target)
	}
	if onExit != "" {
		c.add("template %q: %s.onExit: per-step exit handlers are not run locally (the workflow's spec.onExit is)"+useCluster, tmpl, field)
	}
	if hooks {
		c.add("template %q: %s.hooks: lifecycle hooks are not run locally"+useCluster, tmpl, field)
	}
	for _, a := range args.Artifacts {
		if a.From == "" && a.Raw == nil {
			if src := artifactSource(a.ArtifactLocation); src != "" {
				c.add("template %q: %s.arguments.artifacts.%s: %s artifacts are fetched from a repository, which the local engine does not read"+useCluster, tmpl, field, a.Name, src)
			} else {
				c.add("template %q: %s.arguments.artifacts.%s: needs from (another step's artifact)", tmpl, field, a.Name)
			}
		}
		if a.Raw != nil {
			c.add("template %q: %s.arguments.artifacts.%s: raw artifact arguments are not run locally (declare raw on the template's input)", tmpl, field, a.Name)
		}
	}
}

func (c *checker) dag(t *wfv1.Template) {
	tasks := t.DAG.Tasks
	names := map[string]*wfv1.DAGTask{}
	for i := range tasks {
		names[tasks[i].Name] = &tasks[i]
	}
	env := map[string]any{}
	for n := range names {
		env[strings.ReplaceAll(n, "-", "_")] = taskResults{}
	}
	continueOn := func(n string) *wfv1.ContinueOn {
		if tk := names[n]; tk != nil {
			return tk.ContinueOn
		}
		return nil
	}
	deps := map[string][]string{}
	for i := range tasks {
		tk := &tasks[i]
		field := "dag.tasks." + tk.Name
		c.reference(t.Name, field, tk.Template, tk.TemplateRef, tk.Inline, tk.OnExit, len(tk.Hooks) > 0, tk.Arguments)
		if tk.Depends != "" && len(tk.Dependencies) > 0 {
			c.add("template %q: %s: depends and dependencies cannot both be set", t.Name, field)
			continue
		}
		logic, ds := dependsLogic(tk.Depends, tk.Dependencies, continueOn)
		missing := false
		for _, d := range ds {
			if names[d] == nil {
				c.add("template %q: %s: depends on task %q, which is not defined", t.Name, field, d)
				missing = true
			}
		}
		if missing || logic == "" {
			deps[tk.Name] = ds
			continue
		}
		if _, err := evalDepends(logic, zeroResults(ds)); err != nil {
			c.add("template %q: %s.depends: %v", t.Name, field, err)
		}
		deps[tk.Name] = ds
	}
	for _, tg := range strings.Fields(strings.ReplaceAll(c.globals().replace(t.DAG.Target), ",", " ")) {
		// A tag left is resolved from the template's inputs at run time.
		if names[tg] == nil && !strings.Contains(tg, "{{") {
			c.add("template %q: dag.target: task %q is not defined", t.Name, tg)
		}
	}
	if cyc := cycle(tasks, deps); cyc != "" {
		c.add("template %q: dag.tasks: dependency cycle %s", t.Name, cyc)
	}
}

// globals are the workflow's parameters as tags, as Run sees them.
func (c *checker) globals() scope {
	sc := scope{}
	for _, p := range c.wf.Spec.Arguments.Parameters {
		if v := paramValue(p); v != nil {
			sc["workflow.parameters."+p.Name] = *v
		}
	}
	return sc
}

func zeroResults(names []string) map[string]taskResults {
	m := make(map[string]taskResults, len(names))
	for _, n := range names {
		m[n] = taskResults{}
	}
	return m
}

// cycle returns a dependency cycle among tasks as "a -> b -> a", or "".
func cycle(tasks []wfv1.DAGTask, deps map[string][]string) string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var found string
	var visit func(string) bool
	visit = func(n string) bool {
		switch state[n] {
		case active:
			i := 0
			for stack[i] != n {
				i++
			}
			found = strings.Join(append(append([]string(nil), stack[i:]...), n), " -> ")
			return true
		case done:
			return false
		}
		state[n] = active
		stack = append(stack, n)
		for _, d := range deps[n] {
			if visit(d) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	for _, tk := range tasks {
		if visit(tk.Name) {
			return found
		}
	}
	return ""
}
