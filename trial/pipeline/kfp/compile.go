package kfp

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tune-hpo/tune/trial/manifest"
)

// What the compiled Workflow is made of.
const (
	// Entrypoint is the name of the template of the pipeline's root DAG.
	Entrypoint = "root"
	// VolumeName is the name of the artifact volume's claim template and
	// of its mounts; Argo names the claim <workflow>-artifacts.
	VolumeName = "artifacts"
	// MountPath is where every step mounts the artifact volume.
	MountPath = "/tune"
	// DefaultVolumeSize is the artifact claim's storage request when
	// spec.artifactVolume.size is not set.
	DefaultVolumeSize = "1Gi"
	// MetricsParameter is the output parameter holding a system.Metrics
	// artifact's content (Kubeflow Pipelines v1's name for its metrics).
	MetricsParameter = "mlpipeline-metrics"
	// MetricsSchema is the schemaTitle of a metrics artifact.
	MetricsSchema = "system.Metrics"
	// TaskLabel is the template label holding the KFP task's name, for
	// primaryPodLabels.
	TaskLabel = "tune-hpo.github.io/task"
	// PipelineAnnotation is the Workflow annotation holding
	// pipelineInfo.name.
	PipelineAnnotation = "tune-hpo.github.io/pipeline"
)

// ArtifactPath returns the file of output artifact key of the task at
// path (task names from the root DAG down): MountPath/<t1>.<t2>.<key>,
// a file directly under the mount, so its directory always exists.
func ArtifactPath(path []string, key string) string {
	return MountPath + "/" + strings.Join(path, ".") + "." + key
}

// OutputParameterPath returns the file a step writes output parameter key
// to: /tmp/tune-output-<key>, in the step's own container.
func OutputParameterPath(key string) string {
	return "/tmp/tune-output-" + key
}

var (
	// Argo's rules for template and DAG task names, and for parameter and
	// artifact names (workflow/validate).
	fieldNameRE = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]*$`)
	paramNameRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)
	// placeholderRE matches a KFP placeholder, {{$}} or {{$.…}}.
	placeholderRE = regexp.MustCompile(`\{\{\$[^{}]*\}\}`)
	// refRE parses the inside of an input or output placeholder.
	refRE = regexp.MustCompile(`^\$\.(inputs|outputs)\.(parameters|artifacts)\[(?:'([^']*)'|"([^"]*)")\](?:\.([a-z_]+))?$`)
)

// maxDepth bounds the nesting of DAG components.
const maxDepth = 32

// MaxTemplates bounds the templates a pipeline compiles to: one per task
// of every DAG component instance.
const MaxTemplates = 10000

// Compile returns the Argo Workflow that runs job as the trial name: one
// DAG template per DAG component instance (the root is [Entrypoint]), one
// container template per task of an executor component, the pipeline's
// inputs as spec.arguments.parameters (runtimeConfig.parameterValues
// converted to their parameterType with [Convert], else defaultValue), and,
// when the pipeline has artifacts, the volume claim template [VolumeName]
// mounted at [MountPath] in every step. See the package documentation for
// the mapping and for what is refused. Every problem found is reported,
// one per line, each naming its field path.
func Compile(job *Job, name string) (*wfv1.Workflow, error) {
	if job == nil || job.Spec.PipelineSpec == nil || job.Spec.PipelineSpec.Root == nil || job.Spec.PipelineSpec.DeploymentSpec == nil {
		return nil, errors.New("kfp: compile: the job has no pipelineSpec with root and deploymentSpec (use Decode)")
	}
	return compile(job, name, false)
}

type compiler struct {
	ps      *PipelineSpec
	lenient bool
	tmpls   []wfv1.Template
	names   map[string]bool
	errs    []error
	volume  bool
	tooMany bool
}

// scope is one DAG component instance being compiled.
type scope struct {
	path      []string          // task names from the root DAG to this one
	field     string            // the component's field path
	comp      *ComponentSpec    // the DAG component
	artifacts map[string]string // its input artifacts' files
	iterated  bool              // it runs once per item of an iterator
	depth     int
	stack     []string // the DAG components enclosing this one, and it
}

func (c *compiler) errorf(field, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func compile(job *Job, name string, lenient bool) (*wfv1.Workflow, error) {
	ps := job.Spec.PipelineSpec
	c := &compiler{ps: ps, lenient: lenient, names: map[string]bool{Entrypoint: true}}
	args := c.arguments(job)
	root := ps.Root
	switch {
	case root.DAG == nil:
		c.errorf("spec.pipelineSpec.root.dag", "is required: the root of a pipeline is a DAG")
	case root.InputDefinitions != nil && len(root.InputDefinitions.Artifacts) > 0:
		c.errorf("spec.pipelineSpec.root.inputDefinitions.artifacts", "pipeline input artifacts are not supported: they need an artifact store; pass a parameter (a path or URI) instead")
	}
	if root.DAG != nil {
		c.dag(scope{field: "spec.pipelineSpec.root", comp: root, stack: []string{"root"}}, Entrypoint)
	}
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("kfp: %w", errors.Join(c.errs...))
	}
	wf := &wfv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      merge(job.Metadata.Labels, job.Spec.Labels),
			Annotations: merge(job.Metadata.Annotations, nil),
		},
		Spec: wfv1.WorkflowSpec{
			Entrypoint: Entrypoint,
			Arguments:  wfv1.Arguments{Parameters: args},
			Templates:  c.tmpls,
		},
	}
	wf.SetGroupVersionKind(manifest.WorkflowGVK)
	if ps.PipelineInfo != nil && ps.PipelineInfo.Name != "" {
		wf.Annotations[PipelineAnnotation] = ps.PipelineInfo.Name
	}
	if len(wf.Labels) == 0 {
		wf.Labels = nil
	}
	pvc, err := claim(job.Spec.ArtifactVolume)
	if err != nil {
		return nil, fmt.Errorf("kfp: %w", err)
	}
	if c.volume {
		wf.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{pvc}
		for i := range wf.Spec.Templates {
			if ct := wf.Spec.Templates[i].Container; ct != nil {
				ct.VolumeMounts = append(ct.VolumeMounts, corev1.VolumeMount{Name: VolumeName, MountPath: MountPath})
			}
		}
	}
	return wf, nil
}

// merge returns a copy of a with b set over it.
func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

// claim returns the artifact volume's claim template.
func claim(v *ArtifactVolume) (corev1.PersistentVolumeClaim, error) {
	if v == nil {
		v = &ArtifactVolume{}
	}
	size := v.Size
	if size == "" {
		size = DefaultVolumeSize
	}
	q, err := resource.ParseQuantity(size)
	if err != nil || q.Sign() <= 0 {
		return corev1.PersistentVolumeClaim{}, fmt.Errorf("spec.artifactVolume.size: %q is not a positive quantity such as 1Gi", size)
	}
	modes := []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	if len(v.AccessModes) > 0 {
		modes = modes[:0]
		for i, m := range v.AccessModes {
			switch corev1.PersistentVolumeAccessMode(m) {
			case corev1.ReadWriteOnce, corev1.ReadWriteMany, corev1.ReadWriteOncePod:
				modes = append(modes, corev1.PersistentVolumeAccessMode(m))
			default:
				return corev1.PersistentVolumeClaim{}, fmt.Errorf("spec.artifactVolume.accessModes[%d]: %q is not one of ReadWriteOnce, ReadWriteMany, ReadWriteOncePod", i, m)
			}
		}
	}
	return corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: VolumeName},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: v.StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}},
		},
	}, nil
}

// arguments returns the pipeline's input parameters with their values.
func (c *compiler) arguments(job *Job) []wfv1.Parameter {
	ps := job.Spec.PipelineSpec
	var values map[string]any
	if rc := job.Spec.RuntimeConfig; rc != nil {
		values = rc.ParameterValues
		if rc.Parameters != nil {
			c.errorf("spec.runtimeConfig.parameters", "is deprecated in KFP and not read: use spec.runtimeConfig.parameterValues")
		}
		if rc.GCSOutputDirectory != "" {
			c.errorf("spec.runtimeConfig.gcsOutputDirectory", "is not supported: artifacts go to the run's volume (spec.artifactVolume)")
		}
	}
	var defs map[string]*InputParameterDefinition
	if ps.Root.InputDefinitions != nil {
		defs = ps.Root.InputDefinitions.Parameters
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if _, ok := defs[name]; !ok {
			c.errorf("spec.runtimeConfig.parameterValues."+name, "is not an input of the pipeline (its inputs: %s)", list(slices.Sorted(maps.Keys(defs))))
		}
	}
	var args []wfv1.Parameter
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		def := defs[name]
		f := "spec.pipelineSpec.root.inputDefinitions.parameters." + name
		if def == nil {
			c.errorf(f, "is empty: parameterType is required")
			continue
		}
		if !paramNameRE.MatchString(name) {
			c.errorf(f, "the name must consist of letters, digits, '_' and '-'")
			continue
		}
		typ, err := paramType(def.ParameterType, def.Type)
		if err != nil {
			c.errorf(f, "%v", err)
			continue
		}
		var s string
		v, given := values[name]
		switch {
		case given:
			s, err = c.runtimeValue(typ, v)
			f = "spec.runtimeConfig.parameterValues." + name
		case def.DefaultValue != nil:
			s, err = constant(typ, def.DefaultValue)
			f += ".defaultValue"
		case def.IsOptional:
		default:
			c.errorf("spec.runtimeConfig.parameterValues."+name, "is required: the pipeline input %q has no defaultValue", name)
			continue
		}
		if err == nil && (given || def.DefaultValue != nil) {
			err = literal(typ, s, def.Literals)
		}
		if err != nil {
			c.errorf(f, "pipeline input %q: %v", name, err)
			continue
		}
		args = append(args, wfv1.Parameter{Name: name, Value: wfv1.AnyStringPtr(s)})
	}
	return args
}

// runtimeValue converts a runtime parameter value; in lenient mode a
// string holding a ${trialParameters.…} placeholder passes as is.
func (c *compiler) runtimeValue(typ string, v any) (string, error) {
	if s, ok := v.(string); ok && c.lenient && strings.Contains(s, "${trialParameters.") {
		return s, nil
	}
	return constant(typ, v)
}

// constant converts a value fixed in the IR or the run's configuration.
func constant(typ string, v any) (string, error) {
	s, err := Convert(typ, v)
	if err != nil {
		return "", err
	}
	if strings.Contains(s, "{{") {
		return "", fmt.Errorf("%q contains \"{{\", which Argo would read as a variable", s)
	}
	return s, nil
}

// literal checks that s, a converted value, is one of the allowed
// literals when there are any; placeholders for trial parameters pass.
func literal(typ, s string, literals []any) error {
	if len(literals) == 0 || strings.Contains(s, "${trialParameters.") {
		return nil
	}
	allowed := make([]string, 0, len(literals))
	for _, l := range literals {
		v, err := Convert(typ, l)
		if err != nil {
			return fmt.Errorf("literal %s: %w", describe(l), err)
		}
		if v == s {
			return nil
		}
		allowed = append(allowed, strconv.Quote(v))
	}
	return fmt.Errorf("%q is not one of the allowed values %s", s, strings.Join(allowed, ", "))
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// templateName returns a new template name for task under sc.
func (c *compiler) templateName(sc scope, task string) string {
	base := strings.Join(append(slices.Clone(sc.path), task), "-")
	if len(base) > 120 {
		base = base[:120]
	}
	name := base
	for i := 2; c.names[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	c.names[name] = true
	return name
}

// dag compiles the DAG component instance sc into template name.
func (c *compiler) dag(sc scope, name string) {
	if sc.depth > maxDepth {
		c.errorf(sc.field, "DAG components nest deeper than %d", maxDepth)
		return
	}
	if len(c.tmpls) >= MaxTemplates {
		if !c.tooMany {
			c.errorf(sc.field, "the pipeline expands to more than %d templates (one per task instance)", MaxTemplates)
			c.tooMany = true
		}
		return
	}
	idx := len(c.tmpls)
	c.tmpls = append(c.tmpls, wfv1.Template{})
	tmpl := wfv1.Template{Name: name, DAG: &wfv1.DAGTemplate{}}
	if defs := sc.comp.InputDefinitions; defs != nil {
		for _, p := range slices.Sorted(maps.Keys(defs.Parameters)) {
			tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: p})
		}
	}
	if out := sc.comp.DAG.Outputs; out != nil && sc.depth > 0 {
		for _, p := range slices.Sorted(maps.Keys(out.Parameters)) {
			c.errorf(sc.field+".dag.outputs.parameters."+p, "output parameters of a DAG component (a sub-pipeline's return value, dsl.OneOf, dsl.Collected) are not supported; use them inside the sub-pipeline or pass an artifact")
		}
	}
	if len(sc.comp.DAG.Tasks) == 0 {
		c.errorf(sc.field+".dag.tasks", "is empty")
	}
	for _, t := range slices.Sorted(maps.Keys(sc.comp.DAG.Tasks)) {
		if dt, ok := c.task(sc, t, sc.comp.DAG.Tasks[t]); ok {
			tmpl.DAG.Tasks = append(tmpl.DAG.Tasks, dt)
		}
	}
	c.tmpls[idx] = tmpl
}

// component returns the component task t refers to.
func (c *compiler) component(f string, t *PipelineTaskSpec) (*ComponentSpec, string, bool) {
	if t == nil {
		c.errorf(f, "is empty")
		return nil, "", false
	}
	if t.ComponentRef == nil || t.ComponentRef.Name == "" {
		c.errorf(f+".componentRef.name", "is required")
		return nil, "", false
	}
	comp := c.ps.Components[t.ComponentRef.Name]
	if comp == nil {
		c.errorf(f+".componentRef.name", "component %q is not in spec.pipelineSpec.components", t.ComponentRef.Name)
		return nil, "", false
	}
	return comp, t.ComponentRef.Name, true
}

// task compiles task name of sc and the template it runs.
func (c *compiler) task(sc scope, name string, t *PipelineTaskSpec) (wfv1.DAGTask, bool) {
	f := sc.field + ".dag.tasks." + name
	if !fieldNameRE.MatchString(name) || len(name) > 128 {
		c.errorf(f, "the task name must consist of letters, digits and '-', starting with a letter or digit (Argo's rule for DAG task names)")
		return wfv1.DAGTask{}, false
	}
	child, childName, ok := c.component(f, t)
	if !ok {
		return wfv1.DAGTask{}, false
	}
	cf := "spec.pipelineSpec.components." + childName
	nErrs := len(c.errs)
	if t.ArtifactIterator != nil {
		c.errorf(f+".artifactIterator", "is not supported (a loop over a list of artifacts needs the KFP backend); iterate over a parameter (parameterIterator)")
	}
	if t.IteratorPolicy != nil && t.IteratorPolicy.ParallelismLimit != 0 {
		c.errorf(f+".iteratorPolicy.parallelismLimit", "is not supported: dsl.ParallelFor(parallelism=...) has no equivalent here; remove it")
	}
	deps := map[string]bool{}
	for i, d := range t.DependentTasks {
		if _, ok := sc.comp.DAG.Tasks[d]; !ok {
			c.errorf(fmt.Sprintf("%s.dependentTasks[%d]", f, i), "%q is not a task of the same DAG", d)
			continue
		}
		deps[d] = true
	}
	var in TaskInputsSpec
	if t.Inputs != nil {
		in = *t.Inputs
	}
	var childParams map[string]*InputParameterDefinition
	var childArts map[string]*InputArtifactDefinition
	if child.InputDefinitions != nil {
		childParams = child.InputDefinitions.Parameters
		childArts = child.InputDefinitions.Artifacts
	}
	itemInput := ""
	if t.ParameterIterator != nil {
		itemInput = t.ParameterIterator.ItemInput
	}

	// Parameters. A task input the component does not declare is a
	// pipeline channel the SDK adds for a placeholder inside a constant
	// (an f-string such as f"heads and {n}"): it gets no argument, its
	// expression replaces the placeholder. Each input of the component
	// gets an argument; constants last, as they may refer to the others.
	ops := map[string]operand{}
	given := map[string]bool{}
	exprs := map[string]string{}
	isConstant := func(p string) bool { src := in.Parameters[p]; return src != nil && src.RuntimeValue != nil }
	constantsLast := func(names []string) []string {
		slices.SortStableFunc(names, func(a, b string) int {
			switch ca, cb := isConstant(a), isConstant(b); {
			case ca == cb:
				return 0
			case cb:
				return -1
			}
			return 1
		})
		return names
	}
	for _, p := range constantsLast(slices.Sorted(maps.Keys(in.Parameters))) {
		if _, declared := childParams[p]; declared {
			continue
		}
		if !paramNameRE.MatchString(p) {
			c.errorf(f+".inputs.parameters."+p, "the name must consist of letters, digits, '_' and '-'")
			continue
		}
		expr, err := c.parameterSource(sc, TypeString, in.Parameters[p], &InputParameterDefinition{}, deps, exprs)
		if err != nil {
			c.errorf(f+".inputs.parameters."+p, "%v", err)
			continue
		}
		exprs[p] = expr
		ops[p] = operand{expr: expr, typ: TypeString}
	}
	order := constantsLast(slices.Sorted(maps.Keys(childParams)))
	argOf := map[string]string{}
	for _, p := range order {
		pf := f + ".inputs.parameters." + p
		def := childParams[p]
		if def == nil {
			c.errorf(cf+".inputDefinitions.parameters."+p, "is empty: parameterType is required")
			continue
		}
		if !paramNameRE.MatchString(p) {
			c.errorf(cf+".inputDefinitions.parameters."+p, "the name must consist of letters, digits, '_' and '-'")
			continue
		}
		typ, err := paramType(def.ParameterType, def.Type)
		if err != nil {
			c.errorf(cf+".inputDefinitions.parameters."+p, "%v", err)
			continue
		}
		var expr string
		if p == itemInput && itemInput != "" {
			expr = "{{item}}"
		} else {
			expr, err = c.parameterSource(sc, typ, in.Parameters[p], def, deps, exprs)
			if err != nil {
				c.errorf(pf, "%v", err)
				continue
			}
		}
		exprs[p] = expr
		ops[p] = operand{expr: expr, typ: typ}
		given[p] = p == itemInput || in.Parameters[p] != nil || def.DefaultValue != nil
		argOf[p] = expr
	}
	var args []wfv1.Parameter
	for _, p := range slices.Sorted(maps.Keys(argOf)) {
		args = append(args, wfv1.Parameter{Name: p, Value: wfv1.AnyStringPtr(argOf[p])})
	}

	// Artifacts: each input artifact of the child resolves to a file.
	for _, a := range slices.Sorted(maps.Keys(in.Artifacts)) {
		if _, ok := childArts[a]; !ok {
			c.errorf(f+".inputs.artifacts."+a, "is not an input artifact of component %q (its artifacts: %s)", childName, list(slices.Sorted(maps.Keys(childArts))))
		}
	}
	artPaths := map[string]string{}
	for _, a := range slices.Sorted(maps.Keys(childArts)) {
		af := f + ".inputs.artifacts." + a
		def := childArts[a]
		if def != nil && def.IsArtifactList {
			c.errorf(cf+".inputDefinitions.artifacts."+a, "lists of artifacts (dsl.Collected, Input[List[Artifact]]) are not supported")
			continue
		}
		src := in.Artifacts[a]
		switch {
		case src == nil:
			if def == nil || !def.IsOptional {
				c.errorf(af, "is required: component %q declares the input artifact and it is not optional", childName)
			}
		case src.TaskOutputArtifact != nil && src.ComponentInputArtifact != "":
			c.errorf(af, "sets both taskOutputArtifact and componentInputArtifact")
		case src.TaskOutputArtifact != nil:
			toa := src.TaskOutputArtifact
			p, err := c.producerArtifact(sc, toa.ProducerTask, toa.OutputArtifactKey, 0)
			if err != nil {
				c.errorf(af+".taskOutputArtifact", "%v", err)
				continue
			}
			deps[toa.ProducerTask] = true
			artPaths[a] = p
		case src.ComponentInputArtifact != "":
			p, ok := sc.artifacts[src.ComponentInputArtifact]
			if !ok {
				c.errorf(af+".componentInputArtifact", "%q is not an input artifact of the enclosing DAG", src.ComponentInputArtifact)
				continue
			}
			artPaths[a] = p
		default:
			c.errorf(af, "needs taskOutputArtifact or componentInputArtifact")
		}
	}

	dt := wfv1.DAGTask{Name: name, Arguments: wfv1.Arguments{Parameters: args}}
	iterated := sc.iterated
	if pi := t.ParameterIterator; pi != nil {
		iterated = true
		c.iterator(f+".parameterIterator", pi, childParams, ops, &dt)
	}
	completed := false
	if tp := t.TriggerPolicy; tp != nil {
		if tp.Condition != "" {
			w, err := whenExpr(tp.Condition, func(p string) (operand, error) {
				op, ok := ops[p]
				if !ok {
					return operand{}, fmt.Errorf("inputs.parameter_values[%q]: not an input parameter of the task", p)
				}
				return op, nil
			})
			if err != nil {
				c.errorf(f+".triggerPolicy.condition", "%q: %v (supported: comparisons of inputs.parameter_values['NAME'], int(...) or double(...) of it, and literals, combined with &&, || and !)", tp.Condition, err)
			}
			dt.When = w
		}
		switch tp.Strategy {
		case "", "TRIGGER_STRATEGY_UNSPECIFIED", "ALL_UPSTREAM_TASKS_SUCCEEDED":
		case "ALL_UPSTREAM_TASKS_COMPLETED":
			completed = true
		default:
			c.errorf(f+".triggerPolicy.strategy", "%q is not one of ALL_UPSTREAM_TASKS_SUCCEEDED, ALL_UPSTREAM_TASKS_COMPLETED", tp.Strategy)
		}
	}
	if len(c.errs) > nErrs {
		return wfv1.DAGTask{}, false
	}

	tmplName := c.templateName(sc, name)
	childPath := append(slices.Clone(sc.path), name)
	switch {
	case child.SinglePlatformSpecs != nil:
		c.errorf(cf+".singlePlatformSpecs", "platform-specific component features (kfp-kubernetes) are not supported")
	case child.TaskConfigPassthroughs != nil:
		c.errorf(cf+".taskConfigPassthroughs", "dsl.TaskConfig passthroughs are not supported: they need KFP's driver")
	case child.DAG != nil && child.ExecutorLabel != "":
		c.errorf(cf, "sets both dag and executorLabel")
	case child.DAG != nil && slices.Contains(sc.stack, childName):
		c.errorf(f+".componentRef.name", "component %q contains itself", childName)
	case child.DAG != nil:
		if t.RetryPolicy != nil {
			c.errorf(f+".retryPolicy", "applies to tasks of executor components only")
		}
		c.dag(scope{path: childPath, field: cf, comp: child, artifacts: artPaths, iterated: iterated, depth: sc.depth + 1,
			stack: append(slices.Clone(sc.stack), childName)}, tmplName)
	case child.ExecutorLabel != "":
		c.container(containerTask{
			field: f, compField: cf, name: name, path: childPath, tmpl: tmplName, comp: child,
			params: childParams, given: given, inArts: artPaths, iterated: iterated, retry: t.RetryPolicy,
		})
	default:
		c.errorf(cf, "needs dag or executorLabel")
	}
	dt.Template = tmplName
	sorted := slices.Sorted(maps.Keys(deps))
	if completed && len(sorted) > 0 {
		terms := make([]string, len(sorted))
		for i, d := range sorted {
			terms[i] = fmt.Sprintf("(%s.Succeeded || %s.Failed || %s.Errored)", d, d, d)
		}
		dt.Depends = strings.Join(terms, " && ")
	} else {
		dt.Dependencies = sorted
	}
	return dt, true
}

// iterator sets withItems or withParam of dt from a parameter iterator.
func (c *compiler) iterator(f string, pi *ParameterIteratorSpec, childParams map[string]*InputParameterDefinition, ops map[string]operand, dt *wfv1.DAGTask) {
	if _, ok := childParams[pi.ItemInput]; !ok || pi.ItemInput == "" {
		c.errorf(f+".itemInput", "%q is not an input parameter of the task's component", pi.ItemInput)
	}
	items := pi.Items
	switch {
	case items == nil || items.Raw == nil && items.InputParameter == "":
		c.errorf(f+".items", "needs raw or inputParameter")
	case items.Raw != nil && items.InputParameter != "":
		c.errorf(f+".items", "sets both raw and inputParameter")
	case items.Raw != nil:
		var list []wfv1.Item
		if err := json.Unmarshal([]byte(*items.Raw), &list); err != nil {
			c.errorf(f+".items.raw", "%q is not a JSON array: %v", *items.Raw, err)
			return
		}
		var typ string
		if def := childParams[pi.ItemInput]; def != nil {
			typ, _ = paramType(def.ParameterType, def.Type)
		}
		for i, it := range list {
			if strings.Contains(string(it.Value), "{{") {
				c.errorf(f+".items.raw", "item %d contains \"{{\", which Argo would read as a variable", i)
				return
			}
			var v any
			if err := json.Unmarshal(it.Value, &v); err != nil {
				c.errorf(f+".items.raw", "item %d: %v", i, err)
				return
			}
			switch typ {
			case TypeInteger, TypeDouble, TypeBoolean:
				// Render numbers and booleans as the launcher would: 1, not 1.0.
				s, err := Convert(typ, v)
				if err != nil {
					c.errorf(f+".items.raw", "item %d for %s input %q: %v", i, typ, pi.ItemInput, err)
					return
				}
				list[i] = wfv1.Item{Value: json.RawMessage(s)}
			}
		}
		dt.WithItems = list
	default:
		op, ok := ops[items.InputParameter]
		if !ok {
			c.errorf(f+".items.inputParameter", "%q is not an input parameter of the task", items.InputParameter)
			return
		}
		if op.typ != TypeList && op.typ != TypeString {
			c.errorf(f+".items.inputParameter", "%q is %s: a loop needs a LIST (or a STRING holding a JSON array)", items.InputParameter, op.typ)
			return
		}
		dt.WithParam = op.expr
	}
}

// parameterSource returns the Argo expression of a task's input parameter.
//
// A string constant holding {{$.inputs.parameters['x']}} placeholders (an
// f-string of the pipeline) refers to the task's input x: each becomes x's
// expression in exprs, and the value, known only at run time, is not
// converted.
func (c *compiler) parameterSource(sc scope, typ string, src *TaskInputParameter, def *InputParameterDefinition, deps map[string]bool, exprs map[string]string) (string, error) {
	if src == nil {
		switch {
		case def.DefaultValue != nil:
			s, err := constant(typ, def.DefaultValue)
			if err != nil {
				return "", fmt.Errorf("the component's defaultValue: %w", err)
			}
			return s, nil
		case def.IsOptional:
			return "", nil
		}
		return "", errors.New("is required: the component's input has no defaultValue and the task gives no value")
	}
	if src.TaskFinalStatus != nil {
		return "", errors.New("taskFinalStatus (dsl.PipelineTaskFinalStatus in an exit task) is not supported: it needs the KFP backend")
	}
	if src.ParameterExpressionSelector != "" {
		return "", fmt.Errorf("parameterExpressionSelector %q (a CEL selection, e.g. a field of a loop item) is not supported: pass the value as a parameter of its own", src.ParameterExpressionSelector)
	}
	set := 0
	for _, b := range []bool{src.TaskOutputParameter != nil, src.RuntimeValue != nil, src.ComponentInputParameter != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "", errors.New("needs exactly one of taskOutputParameter, runtimeValue, componentInputParameter")
	}
	inputOf := func(p string) (string, error) {
		if sc.comp.InputDefinitions == nil || sc.comp.InputDefinitions.Parameters[p] == nil {
			return "", fmt.Errorf("%q is not an input parameter of the enclosing DAG", p)
		}
		return "{{inputs.parameters." + p + "}}", nil
	}
	switch {
	case src.ComponentInputParameter != "":
		return inputOf(src.ComponentInputParameter)
	case src.TaskOutputParameter != nil:
		top := src.TaskOutputParameter
		prod, ok := sc.comp.DAG.Tasks[top.ProducerTask]
		if !ok || prod == nil || prod.ComponentRef == nil {
			return "", fmt.Errorf("taskOutputParameter.producerTask %q is not a task of the same DAG", top.ProducerTask)
		}
		pc := c.ps.Components[prod.ComponentRef.Name]
		if pc == nil {
			return "", fmt.Errorf("taskOutputParameter.producerTask %q refers to a missing component", top.ProducerTask)
		}
		if pc.DAG != nil {
			return "", fmt.Errorf("taskOutputParameter: %q is a DAG component (a sub-pipeline, dsl.If/dsl.OneOf or a loop): its output parameters are not supported", top.ProducerTask)
		}
		if pc.OutputDefinitions == nil || pc.OutputDefinitions.Parameters[top.OutputParameterKey] == nil {
			return "", fmt.Errorf("taskOutputParameter: %q is not an output parameter of task %q", top.OutputParameterKey, top.ProducerTask)
		}
		deps[top.ProducerTask] = true
		return "{{tasks." + top.ProducerTask + ".outputs.parameters." + top.OutputParameterKey + "}}", nil
	}
	rv := src.RuntimeValue
	if rv.RuntimeParameter != "" {
		return inputOf(rv.RuntimeParameter)
	}
	v := rv.Constant
	if v == nil && rv.ConstantValue != nil {
		// The deprecated ml_pipelines.Value: {intValue | doubleValue | stringValue}.
		if m, ok := rv.ConstantValue.(map[string]any); ok && len(m) == 1 {
			for _, k := range []string{"intValue", "doubleValue", "stringValue"} {
				if x, ok := m[k]; ok {
					v = x
				}
			}
		}
		if v == nil {
			return "", errors.New("runtimeValue.constantValue: needs one of intValue, doubleValue, stringValue")
		}
	}
	if str, ok := v.(string); ok && placeholderRE.MatchString(str) {
		return formatted(str, exprs)
	}
	s, err := constant(typ, v)
	if err != nil {
		return "", fmt.Errorf("runtimeValue.constant: %w", err)
	}
	return s, nil
}

// formatted replaces the placeholders of s, a constant built by an
// f-string, with the expressions of the task's inputs.
func formatted(s string, exprs map[string]string) (string, error) {
	if strings.Contains(placeholderRE.ReplaceAllString(s, ""), "{{") {
		return "", fmt.Errorf("runtimeValue.constant: %q contains \"{{\" outside a KFP placeholder, which Argo would read as a variable", s)
	}
	var errs []error
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[2 : len(m)-2]
		if inner == "$.pipeline_job_name" {
			return "{{workflow.name}}"
		}
		r := refRE.FindStringSubmatch(inner)
		if r == nil || r[1] != "inputs" || r[2] != "parameters" || r[5] != "" {
			errs = append(errs, fmt.Errorf("runtimeValue.constant: %s: only {{$.inputs.parameters['x']}} and {{$.pipeline_job_name}} may appear in a constant", m))
			return m
		}
		e, ok := exprs[r[3]+r[4]]
		if !ok {
			errs = append(errs, fmt.Errorf("runtimeValue.constant: %s: %q is not an input parameter of the task", m, r[3]+r[4]))
			return m
		}
		return e
	})
	return out, errors.Join(errs...)
}

// producerArtifact returns the file of output artifact key of task
// producer in sc, following a DAG component's output selectors.
func (c *compiler) producerArtifact(sc scope, producer, key string, depth int) (string, error) {
	if depth > maxDepth {
		return "", fmt.Errorf("artifact selectors nest deeper than %d", maxDepth)
	}
	prod, ok := sc.comp.DAG.Tasks[producer]
	if !ok || prod == nil || prod.ComponentRef == nil {
		return "", fmt.Errorf("producerTask %q is not a task of the same DAG", producer)
	}
	pc := c.ps.Components[prod.ComponentRef.Name]
	if pc == nil {
		return "", fmt.Errorf("producerTask %q refers to a missing component", producer)
	}
	path := append(slices.Clone(sc.path), producer)
	if pc.DAG == nil {
		if pc.OutputDefinitions == nil || pc.OutputDefinitions.Artifacts[key] == nil {
			return "", fmt.Errorf("%q is not an output artifact of task %q", key, producer)
		}
		return ArtifactPath(path, key), nil
	}
	var sel *DagOutputArtifactSpec
	if pc.DAG.Outputs != nil {
		sel = pc.DAG.Outputs.Artifacts[key]
	}
	switch {
	case sel == nil:
		return "", fmt.Errorf("%q is not an output artifact of task %q", key, producer)
	case len(sel.ArtifactSelectors) != 1:
		return "", fmt.Errorf("output artifact %q of task %q selects %d artifacts (dsl.OneOf, dsl.Collected): only one is supported", key, producer, len(sel.ArtifactSelectors))
	}
	s := sel.ArtifactSelectors[0]
	return c.producerArtifact(scope{path: path, comp: pc}, s.ProducerSubtask, s.OutputArtifactKey, depth+1)
}

// containerTask is a task of an executor component being compiled.
type containerTask struct {
	field, compField string
	name             string
	path             []string
	tmpl             string
	comp             *ComponentSpec
	params           map[string]*InputParameterDefinition
	given            map[string]bool
	inArts           map[string]string
	iterated         bool
	retry            *RetryPolicy
}

// container compiles the container template of an executor task.
func (c *compiler) container(ct containerTask) {
	label := ct.comp.ExecutorLabel
	ef := "spec.pipelineSpec.deploymentSpec.executors." + label
	exec := c.ps.DeploymentSpec.Executors[label]
	switch {
	case exec == nil:
		c.errorf(ct.compField+".executorLabel", "executor %q is not in spec.pipelineSpec.deploymentSpec.executors", label)
		return
	case exec.Importer != nil:
		c.errorf(ef+".importer", "importer tasks (dsl.importer) are not supported: they register an existing artifact in ML Metadata; pass its path or URI as a parameter")
		return
	case exec.Resolver != nil:
		c.errorf(ef+".resolver", "resolver tasks are not supported: they query ML Metadata")
		return
	case exec.CustomJob != nil:
		c.errorf(ef+".customJob", "Vertex AI custom jobs are not supported")
		return
	case exec.Container == nil:
		c.errorf(ef+".container", "is required")
		return
	}
	spec := exec.Container
	if spec.Lifecycle != nil {
		c.errorf(ef+".container.lifecycle", "is not supported (preCacheCheck hooks belong to KFP's cache)")
	}
	if spec.Image == "" {
		c.errorf(ef+".container.image", "is required")
	}
	tmpl := wfv1.Template{Name: ct.tmpl}
	if len(validation.IsValidLabelValue(ct.name)) == 0 {
		tmpl.Metadata.Labels = map[string]string{TaskLabel: ct.name}
	}
	for _, p := range slices.Sorted(maps.Keys(ct.params)) {
		tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: p})
	}
	ph := placeholders{task: ct.name, inParams: ct.params, given: ct.given, inArts: ct.inArts, outParams: map[string]string{}, outArts: map[string]string{}}
	if out := ct.comp.OutputDefinitions; out != nil {
		for _, p := range slices.Sorted(maps.Keys(out.Parameters)) {
			pf := ct.compField + ".outputDefinitions.parameters." + p
			def := out.Parameters[p]
			if !paramNameRE.MatchString(p) {
				c.errorf(pf, "the name must consist of letters, digits, '_' and '-'")
				continue
			}
			if def == nil {
				c.errorf(pf, "is empty: parameterType is required")
				continue
			}
			if _, err := paramType(def.ParameterType, def.Type); err != nil {
				c.errorf(pf, "%v", err)
				continue
			}
			ph.outParams[p] = OutputParameterPath(p)
			tmpl.Outputs.Parameters = append(tmpl.Outputs.Parameters, wfv1.Parameter{Name: p, ValueFrom: &wfv1.ValueFrom{Path: OutputParameterPath(p)}})
		}
		metrics := ""
		for _, a := range slices.Sorted(maps.Keys(out.Artifacts)) {
			af := ct.compField + ".outputDefinitions.artifacts." + a
			def := out.Artifacts[a]
			switch {
			case !paramNameRE.MatchString(a):
				c.errorf(af, "the name must consist of letters, digits, '_' and '-'")
				continue
			case def != nil && def.IsArtifactList:
				c.errorf(af, "lists of artifacts are not supported")
				continue
			case ct.iterated:
				c.errorf(af, "output artifacts of a task inside a loop (parameterIterator) are not supported: every iteration would write the same file on the run's volume; output a parameter instead")
				continue
			}
			path := ArtifactPath(ct.path, a)
			ph.outArts[a] = path
			c.volume = true
			if def == nil || def.ArtifactType == nil || def.ArtifactType.SchemaTitle != MetricsSchema {
				continue
			}
			if metrics != "" {
				c.errorf(af, "a component may output one %s artifact (it already outputs %q)", MetricsSchema, metrics)
				continue
			}
			if _, clash := ph.outParams[MetricsParameter]; clash {
				c.errorf(af, "the component also has an output parameter named %q, which the metrics artifact is read into", MetricsParameter)
				continue
			}
			metrics = a
			tmpl.Outputs.Parameters = append(tmpl.Outputs.Parameters, wfv1.Parameter{
				Name:      MetricsParameter,
				ValueFrom: &wfv1.ValueFrom{Path: path, Default: wfv1.AnyStringPtr("")},
			})
		}
	}
	container := &corev1.Container{Name: "main", Image: spec.Image}
	for i, s := range spec.Command {
		container.Command = append(container.Command, c.expand(fmt.Sprintf("%s.container.command[%d]", ef, i), s, ph)...)
	}
	for i, s := range spec.Args {
		container.Args = append(container.Args, c.expand(fmt.Sprintf("%s.container.args[%d]", ef, i), s, ph)...)
	}
	for i, e := range spec.Env {
		f := fmt.Sprintf("%s.container.env[%d]", ef, i)
		if e.Name == "" {
			c.errorf(f+".name", "is required")
		}
		container.Env = append(container.Env, corev1.EnvVar{Name: e.Name, Value: c.substitute(f+".value", e.Value, ph)})
	}
	if r := spec.Resources; r != nil {
		res, err := resources(ef+".container.resources", r)
		if err != nil {
			c.errs = append(c.errs, err)
		}
		container.Resources = res
	}
	tmpl.Container = container
	if rp := ct.retry; rp != nil && rp.MaxRetryCount != 0 {
		rs, err := retryStrategy(ct.field+".retryPolicy", rp)
		if err != nil {
			c.errs = append(c.errs, err)
		}
		tmpl.RetryStrategy = rs
	}
	c.tmpls = append(c.tmpls, tmpl)
}

// placeholders is what a container's placeholders resolve to.
type placeholders struct {
	task      string
	inParams  map[string]*InputParameterDefinition
	given     map[string]bool // input parameters the task has a value for
	inArts    map[string]string
	outParams map[string]string
	outArts   map[string]string
}

// present reports whether the task has input name: a parameter it gives
// or that has a defaultValue, or an artifact it gets.
func (ph placeholders) present(name string) bool {
	if _, ok := ph.inArts[name]; ok {
		return true
	}
	return ph.given[name]
}

// expand returns the arguments s, an item of the container's command or
// args at field f, stands for: a JSON {"IfPresent": {"InputName", "Then",
// "Else"}} placeholder expands to its Then items when the task has the
// input (given by the task, or by a defaultValue) and to its Else items
// otherwise; a JSON {"Concat": [...]} placeholder to the concatenation of
// its items; anything else to itself, with its placeholders substituted.
func (c *compiler) expand(f, s string, ph placeholders) []string {
	trimmed := strings.TrimSpace(s)
	if !strings.HasPrefix(trimmed, `{"IfPresent"`) && !strings.HasPrefix(trimmed, `{"Concat"`) {
		return []string{c.substitute(f, s, ph)}
	}
	var node any
	if err := json.Unmarshal([]byte(trimmed), &node); err != nil {
		c.errorf(f, "%q: not a valid IfPresent or Concat placeholder: %v", s, err)
		return nil
	}
	out, err := c.structural(f, node, ph, 0)
	if err != nil {
		c.errorf(f, "%v", err)
	}
	return out
}

// structural expands a decoded IfPresent or Concat placeholder, or a
// string, into arguments.
func (c *compiler) structural(f string, node any, ph placeholders, depth int) ([]string, error) {
	if depth > maxDepth {
		return nil, errors.New("placeholders nest too deep")
	}
	switch x := node.(type) {
	case string:
		return []string{c.substitute(f, x, ph)}, nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if items, ok := x["Concat"].([]any); ok {
			var b strings.Builder
			for _, it := range items {
				parts, err := c.structural(f, it, ph, depth+1)
				if err != nil {
					return nil, err
				}
				b.WriteString(strings.Join(parts, ""))
			}
			return []string{b.String()}, nil
		}
		if ip, ok := x["IfPresent"].(map[string]any); ok {
			name, _ := ip["InputName"].(string)
			for k := range ip {
				if k != "InputName" && k != "Then" && k != "Else" {
					return nil, fmt.Errorf("IfPresent: unknown field %q", k)
				}
			}
			if name == "" {
				return nil, errors.New("IfPresent: InputName is required")
			}
			branch := ip["Else"]
			if ph.present(name) {
				branch = ip["Then"]
			}
			switch b := branch.(type) {
			case nil:
				return nil, nil
			case string:
				return c.structural(f, b, ph, depth+1)
			case []any:
				var out []string
				for _, it := range b {
					parts, err := c.structural(f, it, ph, depth+1)
					if err != nil {
						return nil, err
					}
					out = append(out, parts...)
				}
				return out, nil
			}
			return nil, errors.New("IfPresent: Then and Else must be lists of arguments")
		}
	}
	return nil, fmt.Errorf("unsupported structured placeholder %s (supported: Concat, IfPresent)", describe(node))
}

// substitute replaces the KFP placeholders of s, a string of the
// container spec at field f.
func (c *compiler) substitute(f, s string, ph placeholders) string {
	if strings.Contains(placeholderRE.ReplaceAllString(s, ""), "{{") {
		c.errorf(f, "%q contains \"{{\" outside a KFP placeholder, which Argo would read as a variable", s)
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		r, err := ph.resolve(m[2 : len(m)-2])
		if err != nil {
			c.errorf(f, "%s: %v", m, err)
			return m
		}
		return r
	})
}

// resolve returns what placeholder {{expr}} becomes.
func (ph placeholders) resolve(expr string) (string, error) {
	switch expr {
	case "$":
		return "", errors.New("the executor input placeholder is not supported: lightweight Python components (@dsl.component) need KFP's launcher; use a container component (@dsl.container_component) whose command takes placeholders for single values")
	case "$.pipeline_job_name":
		return "{{workflow.name}}", nil
	case "$.pipeline_task_name":
		return ph.task, nil
	case "$.outputs.output_file":
		return "", errors.New("the executor output file is not supported: write each output parameter to its output_file")
	}
	m := refRE.FindStringSubmatch(expr)
	if m == nil {
		return "", errors.New("unsupported placeholder (supported: {{$.inputs.parameters['x']}}, {{$.outputs.parameters['x'].output_file}}, {{$.inputs.artifacts['x'].path}}, {{$.outputs.artifacts['x'].path}} (or .uri), {{$.pipeline_job_name}}, {{$.pipeline_task_name}})")
	}
	dir, kind, name, attr := m[1], m[2], m[3]+m[4], m[5]
	switch {
	case dir == "inputs" && kind == "parameters" && attr == "":
		if _, ok := ph.inParams[name]; !ok {
			return "", fmt.Errorf("%q is not an input parameter of the component", name)
		}
		return "{{inputs.parameters." + name + "}}", nil
	case dir == "outputs" && kind == "parameters" && attr == "output_file":
		p, ok := ph.outParams[name]
		if !ok {
			return "", fmt.Errorf("%q is not an output parameter of the component", name)
		}
		return p, nil
	case kind == "artifacts" && (attr == "path" || attr == "uri"):
		arts := ph.inArts
		if dir == "outputs" {
			arts = ph.outArts
		}
		p, ok := arts[name]
		if !ok {
			return "", fmt.Errorf("%q is not an %s artifact of the task (or an optional one it is not given)", name, strings.TrimSuffix(dir, "s"))
		}
		return p, nil
	}
	return "", fmt.Errorf("unsupported placeholder: .%s of %s %s", attr, dir, kind)
}

// resources maps a ResourceSpec to Kubernetes requests and limits.
func resources(f string, r *ResourceSpec) (corev1.ResourceRequirements, error) {
	var errs []error
	out := corev1.ResourceRequirements{}
	set := func(list *corev1.ResourceList, name corev1.ResourceName, field, s string, legacy float64, scale float64) {
		var q resource.Quantity
		switch {
		case s != "":
			if strings.Contains(s, "{{") {
				errs = append(errs, fmt.Errorf("%s.%s: %q: resources set from pipeline inputs are not supported", f, field, s))
				return
			}
			var err error
			if q, err = resource.ParseQuantity(s); err != nil || q.Sign() < 0 {
				errs = append(errs, fmt.Errorf("%s.%s: %q is not a quantity", f, field, s))
				return
			}
		case legacy > 0 && !math.IsInf(legacy, 0):
			q = *resource.NewMilliQuantity(int64(math.Round(legacy*scale*1000)), resource.DecimalSI)
		default:
			return
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = q
	}
	set(&out.Limits, corev1.ResourceCPU, "resourceCpuLimit", r.ResourceCPULimit, r.CPULimit, 1)
	set(&out.Requests, corev1.ResourceCPU, "resourceCpuRequest", r.ResourceCPURequest, r.CPURequest, 1)
	set(&out.Limits, corev1.ResourceMemory, "resourceMemoryLimit", r.ResourceMemoryLimit, r.MemoryLimit, 1e9)
	set(&out.Requests, corev1.ResourceMemory, "resourceMemoryRequest", r.ResourceMemoryRequest, r.MemoryRequest, 1e9)
	if a := r.Accelerator; a != nil {
		typ, count := a.ResourceType, a.ResourceCount
		if typ == "" {
			typ = a.Type
		}
		if count == "" && a.Count != nil {
			count = fmt.Sprint(a.Count)
		}
		af := f + ".accelerator"
		name, err := acceleratorResource(typ)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.resourceType: %w", af, err))
		}
		n, cerr := strconv.ParseInt(strings.TrimSpace(count), 10, 64)
		if count == "" {
			n, cerr = 1, nil
		}
		if cerr != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s.resourceCount: %q is not a count", af, count))
		}
		if err == nil && cerr == nil && n > 0 {
			if out.Limits == nil {
				out.Limits = corev1.ResourceList{}
			}
			out.Limits[name] = *resource.NewQuantity(n, resource.DecimalSI)
		}
	}
	return out, errors.Join(errs...)
}

// acceleratorResource returns the Kubernetes resource an accelerator type
// asks for: an extended resource name as given (nvidia.com/gpu,
// amd.com/gpu), and nvidia.com/gpu for Vertex AI's NVIDIA_* names.
func acceleratorResource(typ string) (corev1.ResourceName, error) {
	switch {
	case typ == "":
		return "", errors.New("is required")
	case strings.HasPrefix(typ, "NVIDIA_"):
		return "nvidia.com/gpu", nil
	case strings.Contains(typ, "/") && len(validation.IsQualifiedName(typ)) == 0:
		return corev1.ResourceName(typ), nil
	}
	return "", fmt.Errorf("%q is not a Kubernetes extended resource such as nvidia.com/gpu (TPU types need Vertex AI)", typ)
}

// retryStrategy maps a RetryPolicy to Argo's retryStrategy.
func retryStrategy(f string, rp *RetryPolicy) (*wfv1.RetryStrategy, error) {
	if rp.MaxRetryCount < 0 {
		return nil, fmt.Errorf("%s.maxRetryCount: %d is negative", f, rp.MaxRetryCount)
	}
	limit := intstr.FromInt32(rp.MaxRetryCount)
	rs := &wfv1.RetryStrategy{Limit: &limit}
	if rp.BackoffDuration == "" {
		return rs, nil
	}
	for _, d := range []struct{ field, value string }{{"backoffDuration", rp.BackoffDuration}, {"backoffMaxDuration", rp.BackoffMaxDuration}} {
		if _, err := time.ParseDuration(d.value); d.value != "" && err != nil {
			return nil, fmt.Errorf("%s.%s: %q is not a duration such as 30s", f, d.field, d.value)
		}
	}
	b := &wfv1.Backoff{Duration: rp.BackoffDuration, MaxDuration: rp.BackoffMaxDuration}
	if rp.BackoffFactor != 0 {
		if rp.BackoffFactor < 1 || rp.BackoffFactor != math.Trunc(rp.BackoffFactor) || rp.BackoffFactor > math.MaxInt32 {
			return nil, fmt.Errorf("%s.backoffFactor: %v: Argo takes a whole factor of at least 1", f, rp.BackoffFactor)
		}
		factor := intstr.FromInt32(int32(rp.BackoffFactor))
		b.Factor = &factor
	}
	rs.Backoff = b
	return rs, nil
}
