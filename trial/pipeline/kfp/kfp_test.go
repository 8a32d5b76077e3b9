package kfp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// loadIR reads a pipeline IR from testdata in its unstructured form.
func loadIR(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("# PIPELINE DEFINITION\n")) {
		t.Fatalf("%s lacks the header `kfp dsl compile` writes", name)
	}
	var ir map[string]any
	if err := yaml.Unmarshal(data, &ir); err != nil {
		t.Fatal(err)
	}
	return ir
}

// jobObject wraps an IR into a PipelineJob trialSpec with the given
// runtime parameter values, as it stands after Katib's substitution.
func jobObject(ir map[string]any, values map[string]any) map[string]any {
	spec := map[string]any{"pipelineSpec": ir}
	if values != nil {
		spec["runtimeConfig"] = map[string]any{"parameterValues": values}
	}
	return map[string]any{"apiVersion": kfp.APIVersion, "kind": kfp.Kind, "spec": spec}
}

// compileObject round-trips obj through JSON (as the experiment loader's
// values would be) and compiles it.
func compileObject(t *testing.T, obj map[string]any) (*wfv1.Workflow, error) {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	job, err := kfp.Decode(generic)
	if err != nil {
		return nil, err
	}
	return kfp.Compile(job, "exp-0001")
}

func mustCompile(t *testing.T, obj map[string]any) *wfv1.Workflow {
	t.Helper()
	wf, err := compileObject(t, obj)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	checkArgoRefs(t, wf)
	return wf
}

func templates(wf *wfv1.Workflow) map[string]*wfv1.Template {
	m := map[string]*wfv1.Template{}
	for i := range wf.Spec.Templates {
		m[wf.Spec.Templates[i].Name] = &wf.Spec.Templates[i]
	}
	return m
}

func task(t *testing.T, tmpl *wfv1.Template, name string) *wfv1.DAGTask {
	t.Helper()
	for i := range tmpl.DAG.Tasks {
		if tmpl.DAG.Tasks[i].Name == name {
			return &tmpl.DAG.Tasks[i]
		}
	}
	t.Fatalf("template %s has no task %s", tmpl.Name, name)
	return nil
}

func args(ps []wfv1.Parameter) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Name] = p.Value.String()
	}
	return m
}

var (
	inputRefRE = regexp.MustCompile(`\{\{inputs\.parameters\.([^}]+)\}\}`)
	taskRefRE  = regexp.MustCompile(`\{\{tasks\.([^.}]+)\.outputs\.parameters\.([^}]+)\}\}`)
	anyTagRE   = regexp.MustCompile(`\{\{[^}]*\}\}`)
)

// checkArgoRefs checks what Argo requires of the compiled references: the
// entrypoint exists; every task's template exists and gets exactly the
// template's input parameters; {{inputs.parameters.x}} names an input of
// the template it is used in; {{tasks.T.outputs.parameters.p}} names a
// task of the same DAG that the task depends on and whose template
// outputs p; no other tag than those, {{item}} and {{workflow.name}}.
func checkArgoRefs(t *testing.T, wf *wfv1.Workflow) {
	t.Helper()
	tm := templates(wf)
	if tm[wf.Spec.Entrypoint] == nil {
		t.Fatalf("entrypoint %q is not a template", wf.Spec.Entrypoint)
	}
	if got, want := names(wf.Spec.Arguments.Parameters), names(tm[wf.Spec.Entrypoint].Inputs.Parameters); !slices.Equal(got, want) {
		t.Errorf("spec.arguments %v, entrypoint inputs %v", got, want)
	}
	for _, tmpl := range wf.Spec.Templates {
		inputs := names(tmpl.Inputs.Parameters)
		checkTags := func(where, s string, ok func(tag string) bool) {
			for _, m := range inputRefRE.FindAllStringSubmatch(s, -1) {
				if !slices.Contains(inputs, m[1]) {
					t.Errorf("template %s %s: %s is not an input of the template (%v)", tmpl.Name, where, m[0], inputs)
				}
			}
			for _, tag := range anyTagRE.FindAllString(s, -1) {
				if !strings.HasPrefix(tag, "{{inputs.parameters.") && !ok(tag) {
					t.Errorf("template %s %s: unexpected tag %s", tmpl.Name, where, tag)
				}
			}
		}
		if c := tmpl.Container; c != nil {
			for _, s := range slices.Concat(c.Command, c.Args) {
				checkTags("container", s, func(tag string) bool { return tag == "{{workflow.name}}" })
			}
			continue
		}
		if tmpl.DAG == nil {
			t.Errorf("template %s is neither a container nor a DAG", tmpl.Name)
			continue
		}
		dagTasks := map[string]*wfv1.DAGTask{}
		for i := range tmpl.DAG.Tasks {
			dagTasks[tmpl.DAG.Tasks[i].Name] = &tmpl.DAG.Tasks[i]
		}
		for _, dt := range tmpl.DAG.Tasks {
			child := tm[dt.Template]
			if child == nil {
				t.Errorf("task %s: template %q does not exist", dt.Name, dt.Template)
				continue
			}
			if got, want := names(dt.Arguments.Parameters), names(child.Inputs.Parameters); !slices.Equal(got, want) {
				t.Errorf("task %s passes %v, template %s takes %v", dt.Name, got, child.Name, want)
			}
			deps := dt.Dependencies
			for _, d := range regexp.MustCompile(`\(([-a-zA-Z0-9]+)\.Succeeded`).FindAllStringSubmatch(dt.Depends, -1) {
				deps = append(deps, d[1])
			}
			strs := []string{dt.When, dt.WithParam}
			for _, p := range dt.Arguments.Parameters {
				strs = append(strs, p.Value.String())
			}
			for _, s := range strs {
				checkTags("task "+dt.Name, s, func(tag string) bool {
					if tag == "{{item}}" {
						return dt.WithItems != nil || dt.WithParam != ""
					}
					m := taskRefRE.FindStringSubmatch(tag)
					if m == nil {
						return false
					}
					prod := dagTasks[m[1]]
					if prod == nil || !slices.Contains(deps, m[1]) {
						t.Errorf("task %s: %s: %s is not a dependency in the same DAG", dt.Name, tag, m[1])
						return true
					}
					if !slices.Contains(names(tm[prod.Template].Outputs.Parameters), m[2]) {
						t.Errorf("task %s: %s: template %s has no output %s", dt.Name, tag, prod.Template, m[2])
					}
					return true
				})
			}
		}
	}
}

func names(ps []wfv1.Parameter) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestCompileTrainPipeline(t *testing.T) {
	wf := mustCompile(t, jobObject(loadIR(t, "train_pipeline.yaml"), map[string]any{"lr": "0.05", "epochs": "3"}))
	if wf.Name != "exp-0001" || wf.Kind != "Workflow" || wf.APIVersion != "argoproj.io/v1alpha1" {
		t.Errorf("object %s %s %s", wf.APIVersion, wf.Kind, wf.Name)
	}
	if got := wf.Annotations[kfp.PipelineAnnotation]; got != "train-pipeline" {
		t.Errorf("pipeline annotation %q", got)
	}
	if diff := cmp.Diff(map[string]string{"epochs": "3", "lr": "0.05"}, args(wf.Spec.Arguments.Parameters)); diff != "" {
		t.Errorf("spec.arguments (-want +got):\n%s", diff)
	}
	tm := templates(wf)
	root := tm[kfp.Entrypoint]
	if root == nil || root.DAG == nil {
		t.Fatalf("no root DAG template")
	}
	prepare, train, evaluate := task(t, root, "prepare"), task(t, root, "train"), task(t, root, "evaluate")
	if len(prepare.Dependencies) != 0 || !slices.Equal(train.Dependencies, []string{"prepare"}) || !slices.Equal(evaluate.Dependencies, []string{"train"}) {
		t.Errorf("dependencies: prepare %v, train %v, evaluate %v", prepare.Dependencies, train.Dependencies, evaluate.Dependencies)
	}
	if diff := cmp.Diff(map[string]string{"batches": "{{tasks.prepare.outputs.parameters.batches}}", "lr": "{{inputs.parameters.lr}}"}, args(train.Arguments.Parameters)); diff != "" {
		t.Errorf("train arguments (-want +got):\n%s", diff)
	}

	dataset, model, metrics := kfp.MountPath+"/prepare.dataset", kfp.MountPath+"/train.model", kfp.MountPath+"/evaluate.metrics"
	pt := tm[prepare.Template]
	if diff := cmp.Diff([]string{"{{inputs.parameters.epochs}}", dataset, "/tmp/tune-output-batches"}, pt.Container.Args); diff != "" {
		t.Errorf("prepare args (-want +got):\n%s", diff)
	}
	if len(pt.Outputs.Parameters) != 1 || pt.Outputs.Parameters[0].Name != "batches" || pt.Outputs.Parameters[0].ValueFrom.Path != "/tmp/tune-output-batches" || pt.Outputs.Parameters[0].ValueFrom.Default != nil {
		t.Errorf("prepare outputs %+v", pt.Outputs.Parameters)
	}
	tt := tm[train.Template]
	// The consumer reads the very file the producer writes.
	if diff := cmp.Diff([]string{dataset, "{{inputs.parameters.lr}}", "{{inputs.parameters.batches}}", model, "/tmp/tune-output-loss"}, tt.Container.Args); diff != "" {
		t.Errorf("train args (-want +got):\n%s", diff)
	}
	wantLimits := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1"), corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")}
	for name, q := range wantLimits {
		if got := tt.Container.Resources.Limits[name]; got.Cmp(q) != 0 {
			t.Errorf("train limits[%s] = %s, want %s", name, got.String(), q.String())
		}
	}
	if rs := tt.RetryStrategy; rs == nil || rs.Limit.IntValue() != 1 || rs.Backoff == nil || rs.Backoff.Factor.IntValue() != 2 || rs.Backoff.MaxDuration != "3600s" {
		t.Errorf("train retryStrategy %+v", tt.RetryStrategy)
	}
	if tt.Metadata.Labels[kfp.TaskLabel] != "train" {
		t.Errorf("train labels %v", tt.Metadata.Labels)
	}
	et := tm[evaluate.Template]
	if diff := cmp.Diff([]string{model, metrics}, et.Container.Args); diff != "" {
		t.Errorf("evaluate args (-want +got):\n%s", diff)
	}
	var mp *wfv1.Parameter
	for i := range et.Outputs.Parameters {
		if et.Outputs.Parameters[i].Name == kfp.MetricsParameter {
			mp = &et.Outputs.Parameters[i]
		}
	}
	if mp == nil || mp.ValueFrom.Path != metrics || mp.ValueFrom.Default == nil || mp.ValueFrom.Default.String() != "" {
		t.Errorf("evaluate has no %s output read from %s with an empty default: %+v", kfp.MetricsParameter, metrics, et.Outputs.Parameters)
	}
	// One claim, mounted by every step.
	if len(wf.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("volumeClaimTemplates %+v", wf.Spec.VolumeClaimTemplates)
	}
	pvc := wf.Spec.VolumeClaimTemplates[0]
	if pvc.Name != kfp.VolumeName || pvc.Spec.Resources.Requests.Storage().String() != "1Gi" || !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) || pvc.Spec.StorageClassName != nil {
		t.Errorf("claim %+v", pvc)
	}
	for _, tmpl := range []*wfv1.Template{pt, tt, et} {
		if !slices.ContainsFunc(tmpl.Container.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == kfp.VolumeName && m.MountPath == kfp.MountPath && m.SubPath == ""
		}) {
			t.Errorf("template %s mounts %+v", tmpl.Name, tmpl.Container.VolumeMounts)
		}
	}
}

func TestArtifactVolumeSettings(t *testing.T) {
	obj := jobObject(loadIR(t, "train_pipeline.yaml"), nil)
	obj["spec"].(map[string]any)["artifactVolume"] = map[string]any{"size": "20Gi", "storageClassName": "fast", "accessModes": []any{"ReadWriteMany"}}
	wf := mustCompile(t, obj)
	pvc := wf.Spec.VolumeClaimTemplates[0]
	if pvc.Spec.Resources.Requests.Storage().String() != "20Gi" || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "fast" ||
		!slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
		t.Errorf("claim %+v", pvc.Spec)
	}
	// The defaults apply without runtime values.
	if diff := cmp.Diff(map[string]string{"epochs": "2", "lr": "0.01"}, args(wf.Spec.Arguments.Parameters)); diff != "" {
		t.Errorf("default arguments (-want +got):\n%s", diff)
	}
	obj["spec"].(map[string]any)["artifactVolume"] = map[string]any{"size": "lots"}
	if _, err := compileObject(t, obj); err == nil || !strings.Contains(err.Error(), "spec.artifactVolume.size") {
		t.Errorf("bad size: %v", err)
	}
	// Checked even when the pipeline has no artifacts.
	noArtifacts := jobObject(loadIR(t, "condition.yaml"), nil)
	noArtifacts["spec"].(map[string]any)["artifactVolume"] = map[string]any{"accessModes": []any{"ReadOnlyMany"}}
	if _, err := compileObject(t, noArtifacts); err == nil || !strings.Contains(err.Error(), `spec.artifactVolume.accessModes[0]: "ReadOnlyMany" is not one of`) {
		t.Errorf("bad access mode: %v", err)
	}
}

// TestTrainPipelineRuns runs the compiled Workflow's container steps as
// real processes, in dependency order, resolving the Argo tags the way
// Argo does and re-rooting the volume and output files into a temporary
// directory: the metrics the evaluate step leaves in its
// mlpipeline-metrics output are those computed here from lr and epochs.
func TestTrainPipelineRuns(t *testing.T) {
	for _, tc := range []struct {
		lr     float64
		epochs int
	}{{0.05, 3}, {0.001, 2}} {
		wf := mustCompile(t, jobObject(loadIR(t, "train_pipeline.yaml"), map[string]any{
			"lr": strconv.FormatFloat(tc.lr, 'g', -1, 64), "epochs": strconv.Itoa(tc.epochs)}))
		outs := runDAG(t, wf, t.TempDir())
		n := float64(tc.epochs)
		loss, _ := strconv.ParseFloat(fmt.Sprintf("%.6f", 1/(1+tc.lr*10*n*n)), 64)
		var m map[string]float64
		if err := json.Unmarshal([]byte(outs["evaluate"][kfp.MetricsParameter]), &m); err != nil {
			t.Fatalf("metrics %q: %v", outs["evaluate"][kfp.MetricsParameter], err)
		}
		if math.Abs(m["loss"]-loss) > 1e-9 || math.Abs(m["accuracy"]-(1-loss)) > 1e-6 {
			t.Errorf("lr=%v epochs=%d: metrics %v, want loss %v accuracy %v", tc.lr, tc.epochs, m, loss, 1-loss)
		}
		if got, want := outs["prepare"]["batches"], strconv.Itoa(10*tc.epochs); got != want {
			t.Errorf("batches %q, want %q", got, want)
		}
		if got, _ := strconv.ParseFloat(outs["train"]["loss"], 64); got != loss {
			t.Errorf("train's loss output %v, want %v", got, loss)
		}
	}
}

// runDAG runs the root DAG of wf, whose tasks are container templates, and
// returns each task's output parameters.
func runDAG(t *testing.T, wf *wfv1.Workflow, dir string) map[string]map[string]string {
	t.Helper()
	tm := templates(wf)
	root := tm[wf.Spec.Entrypoint]
	inputs := args(wf.Spec.Arguments.Parameters)
	outs := map[string]map[string]string{}
	reroot := func(task, s string) string {
		s = strings.ReplaceAll(s, kfp.MountPath+"/", filepath.Join(dir, "volume")+"/")
		return strings.ReplaceAll(s, "/tmp/tune-output-", filepath.Join(dir, task)+"-output-")
	}
	if err := os.MkdirAll(filepath.Join(dir, "volume"), 0o755); err != nil {
		t.Fatal(err)
	}
	for len(outs) < len(root.DAG.Tasks) {
		progress := false
		for _, dt := range root.DAG.Tasks {
			if outs[dt.Name] != nil || slices.ContainsFunc(dt.Dependencies, func(d string) bool { return outs[d] == nil }) {
				continue
			}
			progress = true
			targs := map[string]string{}
			for _, p := range dt.Arguments.Parameters {
				v := inputRefRE.ReplaceAllStringFunc(p.Value.String(), func(m string) string { return inputs[inputRefRE.FindStringSubmatch(m)[1]] })
				targs[p.Name] = taskRefRE.ReplaceAllStringFunc(v, func(m string) string {
					s := taskRefRE.FindStringSubmatch(m)
					return outs[s[1]][s[2]]
				})
			}
			tmpl := tm[dt.Template]
			argv := slices.Concat(tmpl.Container.Command, tmpl.Container.Args)
			for i, a := range argv {
				argv[i] = reroot(dt.Name, inputRefRE.ReplaceAllStringFunc(a, func(m string) string { return targs[inputRefRE.FindStringSubmatch(m)[1]] }))
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("step %s: %v: %s", dt.Name, err, out)
			}
			outs[dt.Name] = map[string]string{}
			for _, p := range tmpl.Outputs.Parameters {
				data, err := os.ReadFile(reroot(dt.Name, p.ValueFrom.Path))
				switch {
				case err == nil:
					outs[dt.Name][p.Name] = strings.TrimSpace(string(data))
				case p.ValueFrom.Default != nil:
					outs[dt.Name][p.Name] = p.ValueFrom.Default.String()
				default:
					t.Fatalf("step %s: output %s: %v", dt.Name, p.Name, err)
				}
			}
		}
		if !progress {
			t.Fatalf("no task can run: a dependency cycle or a missing task")
		}
	}
	return outs
}

func TestCompileCondition(t *testing.T) {
	wf := mustCompile(t, jobObject(loadIR(t, "condition.yaml"), map[string]any{"threshold": "0.8"}))
	tm := templates(wf)
	root := tm[kfp.Entrypoint]
	c1, c2 := task(t, root, "condition-1"), task(t, root, "condition-2")
	if want := "!({{tasks.score.outputs.parameters.Output}} < {{inputs.parameters.threshold}})"; c1.When != want {
		t.Errorf("condition-1 when %q, want %q", c1.When, want)
	}
	if want := "'{{tasks.flip.outputs.parameters.Output}}' == 'heads'"; c2.When != want {
		t.Errorf("condition-2 when %q, want %q", c2.When, want)
	}
	if !slices.Equal(c1.Dependencies, []string{"score"}) || !slices.Equal(c2.Dependencies, []string{"flip"}) {
		t.Errorf("dependencies %v %v", c1.Dependencies, c2.Dependencies)
	}
	// The condition group is a DAG template of its own whose task gets the constant.
	group := tm[c1.Template]
	if group.DAG == nil {
		t.Fatalf("condition-1's template is not a DAG: %+v", group)
	}
	report := task(t, group, "report")
	// The f-string constant refers to a pipeline channel, a task input the
	// component does not declare: it gets no argument of its own.
	if diff := cmp.Diff(map[string]string{"msg": "good enough, {{inputs.parameters.pipelinechannel--score-Output}}"}, args(report.Arguments.Parameters)); diff != "" {
		t.Errorf("report arguments (-want +got):\n%s", diff)
	}
	if got := tm[report.Template].Container.Args; !slices.Equal(got, []string{"{{inputs.parameters.msg}}"}) {
		t.Errorf("report args %v", got)
	}
	if len(wf.Spec.VolumeClaimTemplates) != 0 {
		t.Errorf("a pipeline without artifacts got a volume: %+v", wf.Spec.VolumeClaimTemplates)
	}
}

func TestCompileLoop(t *testing.T) {
	wf := mustCompile(t, jobObject(loadIR(t, "loop.yaml"), nil))
	tm := templates(wf)
	root := tm[kfp.Entrypoint]
	if got := args(wf.Spec.Arguments.Parameters)["seeds"]; got != "[1,2,3]" {
		t.Errorf("seeds argument %q, want the default as compact JSON", got)
	}
	l1, l2 := task(t, root, "for-loop-1"), task(t, root, "for-loop-2")
	if l1.WithParam != "{{inputs.parameters.seeds}}" || l1.WithItems != nil {
		t.Errorf("for-loop-1 withParam %q withItems %v", l1.WithParam, l1.WithItems)
	}
	if got := args(l1.Arguments.Parameters)["pipelinechannel--seeds-loop-item"]; got != "{{item}}" {
		t.Errorf("for-loop-1 item argument %q", got)
	}
	var items []string
	for _, it := range l2.WithItems {
		items = append(items, string(it.Value))
	}
	// 7.0, a NUMBER_INTEGER item, is given as the launcher renders it.
	if !slices.Equal(items, []string{"7", "8"}) || l2.WithParam != "" {
		t.Errorf("for-loop-2 withItems %v withParam %q", items, l2.WithParam)
	}
	inner := task(t, tm[l2.Template], "train-2")
	if diff := cmp.Diff(map[string]string{"seed": "{{inputs.parameters.pipelinechannel--loop-item-param-3}}"}, args(inner.Arguments.Parameters)); diff != "" {
		t.Errorf("train-2 arguments (-want +got):\n%s", diff)
	}
	// A list given by Katib as a string is checked and normalised.
	wf = mustCompile(t, jobObject(loadIR(t, "loop.yaml"), map[string]any{"seeds": "[4, 5]"}))
	if got := args(wf.Spec.Arguments.Parameters)["seeds"]; got != "[4,5]" {
		t.Errorf("seeds %q", got)
	}
}

func TestDecodeStrict(t *testing.T) {
	ir := loadIR(t, "train_pipeline.yaml")
	tasks := ir["root"].(map[string]any)["dag"].(map[string]any)["tasks"].(map[string]any)
	tasks["train"].(map[string]any)["componentReff"] = map[string]any{"name": "x"}
	obj := jobObject(ir, nil)
	obj["spec"].(map[string]any)["runtimeConfg"] = map[string]any{}
	_, err := kfp.Decode(obj)
	if err == nil {
		t.Fatal("unknown fields decoded")
	}
	for _, want := range []string{`unknown field "spec.pipelineSpec.root.dag.tasks.train.componentReff"`, `unknown field "spec.runtimeConfg"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := kfp.Decode(map[string]any{"apiVersion": kfp.APIVersion, "kind": kfp.Kind, "spec": map[string]any{}}); err == nil || !strings.Contains(err.Error(), "spec.pipelineSpec is required") {
		t.Errorf("missing pipelineSpec: %v", err)
	}
	if _, err := kfp.Decode(map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}); err == nil {
		t.Error("a Workflow decoded as a PipelineJob")
	}
	if !kfp.IsKind(jobObject(ir, nil)) || kfp.IsKind(map[string]any{"apiVersion": kfp.APIVersion, "kind": "Workflow"}) {
		t.Error("IsKind")
	}
}

// edit returns the train pipeline's IR changed by fn.
func edit(t *testing.T, name string, fn func(ir map[string]any)) map[string]any {
	ir := loadIR(t, name)
	fn(ir)
	return ir
}

func get(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		edit   func(ir map[string]any)
		values map[string]any
		want   []string
	}{
		{"runtime value of the wrong type", "train_pipeline.yaml", nil, map[string]any{"lr": "fast", "epochs": "2.5"},
			[]string{`spec.runtimeConfig.parameterValues.lr: pipeline input "lr": NUMBER_DOUBLE wants a number, got "fast"`,
				`spec.runtimeConfig.parameterValues.epochs: pipeline input "epochs": NUMBER_INTEGER wants an integer, got "2.5"`}},
		{"undeclared runtime value", "train_pipeline.yaml", nil, map[string]any{"momentum": "0.9"},
			[]string{`spec.runtimeConfig.parameterValues.momentum: is not an input of the pipeline (its inputs: epochs, lr)`}},
		{"runtime value with an Argo tag", "condition.yaml", nil, map[string]any{"threshold": "{{workflow.name}}"},
			[]string{`spec.runtimeConfig.parameterValues.threshold`}},
		{"executor input", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "deploymentSpec", "executors", "exec-train", "container")["args"] = []any{"--executor_input", "{{$}}"}
		}, nil, []string{`spec.pipelineSpec.deploymentSpec.executors.exec-train.container.args[1]: {{$}}: the executor input placeholder is not supported`}},
		{"importer", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "deploymentSpec", "executors")["exec-prepare"] = map[string]any{"importer": map[string]any{"artifactUri": map[string]any{"constant": "gs://b/x"}}}
		}, nil, []string{`spec.pipelineSpec.deploymentSpec.executors.exec-prepare.importer: importer tasks (dsl.importer) are not supported`}},
		{"unknown placeholder", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "deploymentSpec", "executors", "exec-train", "container")["args"] = []any{"{{$.inputs.parameters['nope']}}", "{{$.pipeline_job_uuid}}"}
		}, nil, []string{`executors.exec-train.container.args[0]: {{$.inputs.parameters['nope']}}: "nope" is not an input parameter`,
			`executors.exec-train.container.args[1]: {{$.pipeline_job_uuid}}: unsupported placeholder`}},
		{"stray Argo tag", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "deploymentSpec", "executors", "exec-train", "container")["args"] = []any{"{{workflow.uid}}"}
		}, nil, []string{`executors.exec-train.container.args[0]: "{{workflow.uid}}" contains "{{" outside a KFP placeholder`}},
		{"missing component", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "root", "dag", "tasks", "train", "componentRef")["name"] = "comp-nope"
		}, nil, []string{`spec.pipelineSpec.root.dag.tasks.train.componentRef.name: component "comp-nope" is not in spec.pipelineSpec.components`}},
		{"missing producer", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "root", "dag", "tasks", "evaluate", "inputs", "artifacts", "model", "taskOutputArtifact")["producerTask"] = "fit"
		}, nil, []string{`spec.pipelineSpec.root.dag.tasks.evaluate.inputs.artifacts.model.taskOutputArtifact: producerTask "fit" is not a task of the same DAG`}},
		{"unsupported condition", "condition.yaml", func(ir map[string]any) {
			get(ir, "root", "dag", "tasks", "condition-2", "triggerPolicy")["condition"] = "size(inputs.parameter_values['pipelinechannel--flip-Output']) > 1"
		}, nil, []string{`spec.pipelineSpec.root.dag.tasks.condition-2.triggerPolicy.condition: "size(`, `"size" is not supported`}},
		{"expression selector", "loop.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-for-loop-1", "dag", "tasks", "train", "inputs", "parameters", "seed")["parameterExpressionSelector"] = `parseJson(string_value)["a"]`
		}, nil, []string{`spec.pipelineSpec.components.comp-for-loop-1.dag.tasks.train.inputs.parameters.seed: parameterExpressionSelector`}},
		{"artifact in a loop", "loop.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-train")["outputDefinitions"].(map[string]any)["artifacts"] = map[string]any{
				"model": map[string]any{"artifactType": map[string]any{"schemaTitle": "system.Model", "schemaVersion": "0.0.1"}}}
		}, nil, []string{`spec.pipelineSpec.components.comp-train.outputDefinitions.artifacts.model: output artifacts of a task inside a loop`}},
		{"raw item of the wrong type", "loop.yaml", func(ir map[string]any) {
			get(ir, "root", "dag", "tasks", "for-loop-2", "parameterIterator", "items")["raw"] = `[7, "eight"]`
		}, nil, []string{`root.dag.tasks.for-loop-2.parameterIterator.items.raw: item 1 for NUMBER_INTEGER input "pipelinechannel--loop-item-param-3": NUMBER_INTEGER wants a number, got "eight"`}},
		{"artifact iterator and parallelism", "loop.yaml", func(ir map[string]any) {
			l := get(ir, "root", "dag", "tasks", "for-loop-2")
			l["artifactIterator"] = map[string]any{"itemInput": "x"}
			l["iteratorPolicy"] = map[string]any{"parallelismLimit": 2}
		}, nil, []string{`root.dag.tasks.for-loop-2.artifactIterator: is not supported`, `root.dag.tasks.for-loop-2.iteratorPolicy.parallelismLimit: is not supported`}},
		{"final status", "condition.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-condition-1", "dag", "tasks", "report", "inputs", "parameters")["msg"] = map[string]any{"taskFinalStatus": map[string]any{"producerTask": "x"}}
		}, nil, []string{`comp-condition-1.dag.tasks.report.inputs.parameters.msg: taskFinalStatus`}},
		{"DAG output parameter", "condition.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-condition-1", "dag")["outputs"] = map[string]any{"parameters": map[string]any{"out": map[string]any{
				"valueFromParameter": map[string]any{"producerSubtask": "report", "outputParameterKey": "Output"}}}}
		}, nil, []string{`spec.pipelineSpec.components.comp-condition-1.dag.outputs.parameters.out: output parameters of a DAG component`}},
		{"wrong constant type", "condition.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-report-2")["inputDefinitions"] = map[string]any{"parameters": map[string]any{"msg": map[string]any{"parameterType": "NUMBER_INTEGER"}}}
		}, nil, []string{`comp-condition-2.dag.tasks.report-2.inputs.parameters.msg: runtimeValue.constant: NUMBER_INTEGER wants a number, got "heads"`}},
		{"f-string of an unknown input", "condition.yaml", func(ir map[string]any) {
			delete(get(ir, "components", "comp-condition-1", "dag", "tasks", "report", "inputs", "parameters"), "pipelinechannel--score-Output")
		}, nil, []string{`comp-condition-1.dag.tasks.report.inputs.parameters.msg: runtimeValue.constant: {{$.inputs.parameters['pipelinechannel--score-Output']}}: "pipelinechannel--score-Output" is not an input parameter of the task`}},
		{"component containing itself", "condition.yaml", func(ir map[string]any) {
			get(ir, "components", "comp-condition-1", "dag", "tasks")["again"] = map[string]any{"componentRef": map[string]any{"name": "comp-condition-1"},
				"inputs": map[string]any{"parameters": map[string]any{
					"pipelinechannel--score-Output": map[string]any{"componentInputParameter": "pipelinechannel--score-Output"},
					"pipelinechannel--threshold":    map[string]any{"componentInputParameter": "pipelinechannel--threshold"}}}}
		}, nil, []string{`spec.pipelineSpec.components.comp-condition-1.dag.tasks.again.componentRef.name: component "comp-condition-1" contains itself`}},
		{"TPU", "train_pipeline.yaml", func(ir map[string]any) {
			get(ir, "deploymentSpec", "executors", "exec-train", "container", "resources", "accelerator")["resourceType"] = "tpu-v3"
		}, nil, []string{`executors.exec-train.container.resources.accelerator.resourceType: "tpu-v3" is not a Kubernetes extended resource`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ir := loadIR(t, tc.file)
			if tc.edit != nil {
				tc.edit(ir)
			}
			_, err := compileObject(t, jobObject(ir, tc.values))
			if err == nil {
				t.Fatal("compiled")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error\n%v\nlacks\n%s", err, want)
				}
			}
		})
	}
}

func TestCheckAcceptsTrialPlaceholders(t *testing.T) {
	obj := jobObject(loadIR(t, "train_pipeline.yaml"), map[string]any{"lr": "${trialParameters.learningRate}", "epochs": "${trialParameters.epochs}"})
	if err := kfp.Check(obj); err != nil {
		t.Errorf("Check: %v", err)
	}
	if _, err := compileObject(t, obj); err == nil || !strings.Contains(err.Error(), `NUMBER_DOUBLE wants a number, got "${trialParameters.learningRate}"`) {
		t.Errorf("Compile of an unsubstituted job: %v", err)
	}
	bad := jobObject(edit(t, "train_pipeline.yaml", func(ir map[string]any) {
		get(ir, "deploymentSpec", "executors", "exec-train", "container")["args"] = []any{"{{$}}"}
	}), map[string]any{"lr": "${trialParameters.learningRate}"})
	if err := kfp.Check(bad); err == nil || !strings.Contains(err.Error(), "executor input placeholder") {
		t.Errorf("Check of a refused pipeline: %v", err)
	}
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		in   any
		want string
		err  string
	}{
		{kfp.TypeDouble, "0.01", "0.01", ""},
		{kfp.TypeDouble, 5.0, "5", ""},
		{kfp.TypeDouble, "1e-7", "0.0000001", ""},
		{kfp.TypeDouble, "NaN", "", "finite"},
		{kfp.TypeDouble, true, "", "wants a number"},
		{kfp.TypeInteger, "3", "3", ""},
		{kfp.TypeInteger, 200.0, "200", ""},
		{kfp.TypeInteger, int64(-4), "-4", ""},
		{kfp.TypeInteger, "3.5", "", "wants an integer"},
		{kfp.TypeInteger, "9007199254740993", "", "2^53"},
		{kfp.TypeString, "a b", "a b", ""},
		{kfp.TypeString, 3.0, "", "wants a string"},
		{kfp.TypeBoolean, "True", "true", ""},
		{kfp.TypeBoolean, false, "false", ""},
		{kfp.TypeBoolean, "yes", "", "wants true or false"},
		{kfp.TypeList, `[1, "a"]`, `[1,"a"]`, ""},
		{kfp.TypeList, []any{"x"}, `["x"]`, ""},
		{kfp.TypeList, `{"a":1}`, "", "wants a JSON array"},
		{kfp.TypeStruct, `{"a": 1}`, `{"a":1}`, ""},
		{kfp.TypeStruct, "[]", "", "wants a JSON object"},
		{kfp.TypeStruct, "{", "", "wants JSON"},
	} {
		got, err := kfp.Convert(tc.typ, tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Convert(%s, %#v) = %q, %v; want error with %q", tc.typ, tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Convert(%s, %#v) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
	}
}

// TestNestedArtifacts: an artifact enters a sub-pipeline (a DAG
// component) as its input and leaves it as its output; every consumer
// reads the file its producer writes, the tasks depend on the producers,
// an exit-style task (ALL_UPSTREAM_TASKS_COMPLETED) runs whatever its
// upstream's outcome, and the job and task name placeholders resolve.
func TestNestedArtifacts(t *testing.T) {
	wf := mustCompile(t, jobObject(loadIR(t, "nested_artifacts.yaml"), nil))
	tm := templates(wf)
	root := tm[kfp.Entrypoint]
	inner := task(t, root, "inner-pipeline")
	if !slices.Equal(inner.Dependencies, []string{"make-data"}) {
		t.Errorf("inner-pipeline dependencies %v", inner.Dependencies)
	}
	data, out := kfp.MountPath+"/make-data.data", kfp.MountPath+"/inner-pipeline.process.out"
	if got := tm[task(t, root, "make-data").Template].Container.Args; !slices.Equal(got, []string{"{{inputs.parameters.rows}}", data}) {
		t.Errorf("make-data args %v", got)
	}
	process := task(t, tm[inner.Template], "process")
	if got := tm[process.Template].Container.Args; !slices.Equal(got, []string{data, out}) {
		t.Errorf("process args %v, want %v", got, []string{data, out})
	}
	consume := task(t, root, "consume")
	if got := tm[consume.Template].Container.Args; !slices.Equal(got, []string{out}) || !slices.Equal(consume.Dependencies, []string{"inner-pipeline"}) {
		t.Errorf("consume args %v dependencies %v", got, consume.Dependencies)
	}
	notify := task(t, root, "notify")
	if want := "(consume.Succeeded || consume.Failed || consume.Errored)"; notify.Depends != want || notify.Dependencies != nil {
		t.Errorf("notify depends %q dependencies %v, want %q", notify.Depends, notify.Dependencies, want)
	}
	if got := tm[notify.Template].Container.Args; !slices.Equal(got, []string{"{{inputs.parameters.run}}", "{{workflow.name}}", "notify"}) {
		t.Errorf("notify args %v", got)
	}
	// A step with no artifact of its own still mounts the run's volume.
	if len(tm[notify.Template].Container.VolumeMounts) != 1 {
		t.Errorf("notify mounts %+v", tm[notify.Template].Container.VolumeMounts)
	}
}

// TestStructuredPlaceholders: IfPresent takes its Then branch for an
// input the task gives and its Else branch for one it does not; Concat
// joins its parts; a Literal input takes only its allowed values.
func TestStructuredPlaceholders(t *testing.T) {
	wf := mustCompile(t, jobObject(loadIR(t, "placeholders.yaml"), map[string]any{"prefix": "p", "mode": "slow"}))
	tm := templates(wf)
	c := tm[task(t, tm[kfp.Entrypoint], "component-with-optional-inputs").Template].Container
	want := []string{"--arg0", "{{inputs.parameters.required_input}}", "--arg1", "{{inputs.parameters.optional_input_1}}",
		"--arg3", "default value", "{{inputs.parameters.required_input}}-component-with-optional-inputs"}
	if diff := cmp.Diff(want, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	_, err := compileObject(t, jobObject(loadIR(t, "placeholders.yaml"), map[string]any{"prefix": "p", "mode": "medium"}))
	if err == nil || !strings.Contains(err.Error(), `spec.runtimeConfig.parameterValues.mode: pipeline input "mode": "medium" is not one of the allowed values "fast", "slow"`) {
		t.Errorf("a value outside the literals: %v", err)
	}
	_, err = compileObject(t, jobObject(loadIR(t, "placeholders.yaml"), nil))
	if err == nil || !strings.Contains(err.Error(), `spec.runtimeConfig.parameterValues.prefix: is required`) {
		t.Errorf("a required input without a value: %v", err)
	}
}

// FuzzCompile: whatever the trialSpec holds, Decode, Compile and Check
// return without panicking, and what compiles satisfies Argo's references.
func FuzzCompile(f *testing.F) {
	for _, name := range []string{"train_pipeline.yaml", "condition.yaml", "loop.yaml", "nested_artifacts.yaml", "placeholders.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var ir map[string]any
		if err := yaml.Unmarshal(data, &ir); err != nil {
			f.Fatal(err)
		}
		seed, err := json.Marshal(jobObject(ir, map[string]any{"prefix": "p"}))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			return
		}
		_ = kfp.Check(obj)
		job, err := kfp.Decode(obj)
		if err != nil {
			return
		}
		if wf, err := kfp.Compile(job, "exp-0001"); err == nil {
			checkArgoRefs(t, wf)
		}
	})
}

// TestMutationsDoNotPanic replaces every value of every test pipeline, one
// at a time, by null, an empty object and a string: Decode, Compile and
// Check return, and what compiles satisfies Argo's references.
func TestMutationsDoNotPanic(t *testing.T) {
	replacements := []any{nil, map[string]any{}, "x"}
	for _, name := range []string{"train_pipeline.yaml", "condition.yaml", "loop.yaml", "nested_artifacts.yaml", "placeholders.yaml"} {
		base, err := json.Marshal(jobObject(loadIR(t, name), map[string]any{"prefix": "p"}))
		if err != nil {
			t.Fatal(err)
		}
		fresh := func() any {
			var v any
			if err := json.Unmarshal(base, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		var paths [][]any
		var walk func(v any, path []any)
		walk = func(v any, path []any) {
			paths = append(paths, slices.Clone(path))
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					walk(c, append(path, k))
				}
			case []any:
				for i, c := range x {
					walk(c, append(path, i))
				}
			}
		}
		walk(fresh(), nil)
		for _, path := range paths {
			if len(path) == 0 {
				continue
			}
			for _, r := range replacements {
				doc := fresh()
				parent := doc
				for _, p := range path[:len(path)-1] {
					switch k := p.(type) {
					case string:
						parent = parent.(map[string]any)[k]
					case int:
						parent = parent.([]any)[k]
					}
				}
				switch k := path[len(path)-1].(type) {
				case string:
					parent.(map[string]any)[k] = r
				case int:
					parent.([]any)[k] = r
				}
				obj, _ := doc.(map[string]any)
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s: %v set to %#v: panic: %v", name, path, r, p)
						}
					}()
					_ = kfp.Check(obj)
					if job, err := kfp.Decode(obj); err == nil {
						if wf, err := kfp.Compile(job, "exp-0001"); err == nil {
							checkArgoRefs(t, wf)
						}
					}
				}()
			}
		}
	}
}

// BenchmarkCompile decodes and compiles the three-step pipeline, as every
// trial does.
func BenchmarkCompile(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "train_pipeline.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var ir map[string]any
	if err := yaml.Unmarshal(data, &ir); err != nil {
		b.Fatal(err)
	}
	obj := jobObject(ir, map[string]any{"lr": "0.05", "epochs": "3"})
	for b.Loop() {
		job, err := kfp.Decode(obj)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kfp.Compile(job, "exp-0001"); err != nil {
			b.Fatal(err)
		}
	}
}
