package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// stepLog is what the step node named name wrote to its stdout.log.
func stepLog(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "steps", sanitize(name), "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTemplateTimeout: a template's timeout (a duration, here from an
// input) stops its step as Argo's pod deadline does: the step fails, a
// step within its timeout succeeds.
func TestTemplateTimeout(t *testing.T) {
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: fast, template: sleep, arguments: {parameters: [{name: timeout, value: 20s}]}}
      - {name: slow, template: sleep, arguments: {parameters: [{name: timeout, value: 1s}]}}
  - name: sleep
    timeout: "{{inputs.parameters.timeout}}"
    inputs: {parameters: [{name: timeout}]}
    container: {image: x, command: [sleep, "0.5"]}
`, Options{Second: 100 * time.Millisecond})
	if got := node(t, wf, "wf.fast").Phase; got != wfv1.NodeSucceeded {
		t.Errorf("fast: %s", got)
	}
	slow := node(t, wf, "wf.slow")
	if slow.Phase != wfv1.NodeFailed || !strings.Contains(slow.Message, "deadline") {
		t.Errorf("slow: %s %q, want Failed past its deadline", slow.Phase, slow.Message)
	}
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Errorf("workflow %s", wf.Status.Phase)
	}
}

// TestExitHandlerStepsSeeTheOutcome: the steps of an exit handler see
// {{workflow.status}}, {{workflow.failures}} (Argo's quoted JSON list) and
// {{workflow.duration}}; a retried step sees {{retries}}.
func TestExitHandlerStepsSeeTheOutcome(t *testing.T) {
	dir := t.TempDir()
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: flaky
  onExit: report
  templates:
  - name: flaky
    retryStrategy: {limit: 1}
    container: {image: x, command: [sh, -c, 'echo "try {{retries}}"; exit 3']}
  - name: report
    steps:
    - - name: tell
        template: tell
  - name: tell
    container: {image: x, command: [sh, -c, 'echo "{{workflow.status}} {{workflow.duration}}"; echo {{workflow.failures}}']}
`, Options{Dir: dir})
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Fatalf("phase %s", wf.Status.Phase)
	}
	for i := range 2 {
		if got := stepLog(t, dir, "wf("+strconv.Itoa(i)+")"); got != "try "+strconv.Itoa(i)+"\n" {
			t.Errorf("attempt %d printed %q", i, got)
		}
	}
	lines := strings.Split(strings.TrimSpace(stepLog(t, dir, "wf.onExit[0].tell")), "\n")
	if len(lines) != 2 {
		t.Fatalf("tell printed %q", lines)
	}
	status, dur, _ := strings.Cut(lines[0], " ")
	if d, err := strconv.ParseFloat(dur, 64); status != "Failed" || err != nil || d < 0 || !strings.Contains(dur, ".") {
		t.Errorf("status and duration %q, want Failed and seconds as %%f", lines[0])
	}
	var failures []struct{ DisplayName, TemplateName, Phase, Message string }
	if err := json.Unmarshal([]byte(lines[1]), &failures); err != nil {
		t.Fatalf("failures %q: %v", lines[1], err)
	}
	var names []string
	for _, f := range failures {
		names = append(names, f.DisplayName+"/"+f.Phase)
	}
	for _, want := range []string{"wf(0)/Failed", "wf(1)/Failed", "wf/Failed"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("failures %q lack %s", names, want)
		}
	}
}

// TestAggregatedOutputs: an expanded step's outputs as Argo aggregates
// them: each parameter's values as strings unless all are JSON objects or
// lists, outputs.parameters as a list of maps, only succeeded children.
func TestAggregatedOutputs(t *testing.T) {
	dir := t.TempDir()
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
        arguments: {parameters: [{name: k, value: "{{item}}"}]}
        withItems: [1, 2, 3]
        continueOn: {failed: true}
    - - name: show
        template: show
        arguments:
          parameters:
          - {name: nums, value: "{{steps.gen.outputs.parameters.num}}"}
          - {name: objs, value: "{{steps.gen.outputs.parameters.obj}}"}
          - {name: all, value: "{{steps.gen.outputs.parameters}}"}
  - name: gen
    inputs: {parameters: [{name: k}]}
    container:
      image: x
      command: [sh, -c, 'echo {{inputs.parameters.k}} > /tmp/n; echo "{\"v\": {{inputs.parameters.k}}}" > /tmp/o; test {{inputs.parameters.k}} != 3']
    outputs:
      parameters:
      - {name: num, valueFrom: {path: /tmp/n}}
      - {name: obj, valueFrom: {path: /tmp/o}}
  - name: show
    inputs: {parameters: [{name: nums}, {name: objs}, {name: all}]}
    container: {image: x, command: [sh, -c, 'printf "%s\n%s\n%s\n" "$0" "$1" "$2"', '{{inputs.parameters.nums}}', '{{inputs.parameters.objs}}', '{{inputs.parameters.all}}']}
`, Options{Dir: dir})
	if wf.Status.Phase != wfv1.WorkflowSucceeded {
		t.Fatalf("phase %s: %s", wf.Status.Phase, wf.Status.Message)
	}
	want := `["1","2"]` + "\n" + `[{"v":1},{"v":2}]` + "\n" + `[{"num":"1","obj":"{\"v\": 1}"},{"num":"2","obj":"{\"v\": 2}"}]` + "\n"
	if got := stepLog(t, dir, "wf[1].show"); got != want {
		t.Errorf("show printed\n%s\nwant\n%s", got, want)
	}
}

// TestGlobalOutputs: outputs with a globalName become workflow outputs:
// later steps read them as {{workflow.outputs.parameters.G}} (also from a
// template's own input value) and {{workflow.outputs.artifacts.G}}, and
// the Workflow's status.outputs lists them. Every step has /tmp, as every
// image does; subPath picks a file inside a directory artifact.
func TestGlobalOutputs(t *testing.T) {
	dir := t.TempDir()
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: make
        template: make
    - - name: use
        template: use
        arguments:
          artifacts:
          - {name: art, from: "{{workflow.outputs.artifacts.g-art}}"}
          - {name: one, from: "{{steps.make.outputs.artifacts.dir}}", subPath: one.txt}
  - name: make
    container: {image: x, command: [sh, -c, 'echo -n hi > /tmp/p.txt; mkdir -p /out; echo one > /out/one.txt']}
    outputs:
      parameters: [{name: p, globalName: g-param, valueFrom: {path: /tmp/p.txt}}]
      artifacts:
      - {name: a, globalName: g-art, path: /tmp/p.txt}
      - {name: dir, path: /out}
  - name: use
    inputs:
      parameters: [{name: v, value: "{{workflow.outputs.parameters.g-param}}"}]
      artifacts: [{name: art, path: /in/art}, {name: one, path: /in/one}]
    container: {image: x, command: [sh, -c, 'echo {{inputs.parameters.v}}; cat /in/art; echo; cat /in/one']}
`, Options{Dir: dir})
	if wf.Status.Phase != wfv1.WorkflowSucceeded {
		t.Fatalf("phase %s: %s", wf.Status.Phase, wf.Status.Message)
	}
	if got, want := stepLog(t, dir, "wf[1].use"), "hi\nhi\none\n"; got != want {
		t.Errorf("use printed %q, want %q", got, want)
	}
	out := wf.Status.Outputs
	if out == nil || len(out.Parameters) != 1 || out.Parameters[0].Name != "g-param" || out.Parameters[0].Value.String() != "hi" ||
		len(out.Artifacts) != 1 || out.Artifacts[0].Name != "g-art" {
		t.Errorf("status.outputs = %+v", out)
	}
}

func TestCheckTimeout(t *testing.T) {
	err := Check(parse(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    timeout: "10"
    container: {image: x, command: [echo]}
`))
	if want := `template "main": timeout: "10" is not a duration`; err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %s", err, want)
	}
}

// TestCheckDAGTargetFromParameter: a dag.target given by a workflow
// parameter (Argo's dag-targets example) names its tasks once resolved.
func TestCheckDAGTargetFromParameter(t *testing.T) {
	text := `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: target, value: %s}]}
  templates:
  - name: main
    dag:
      target: "{{workflow.parameters.target}}"
      tasks:
      - {name: A, template: echo}
  - name: echo
    container: {image: x, command: [echo]}
`
	if err := Check(parse(t, fmt.Sprintf(text, "A"))); err != nil {
		t.Errorf("Check: %v", err)
	}
	err := Check(parse(t, fmt.Sprintf(text, "Z")))
	if err == nil || !strings.HasPrefix(err.Error(), `template "main": dag.target: task "Z" is not defined`) {
		t.Errorf("Check = %v, want dag.target's task Z refused", err)
	}
}

// TestDAGTargetRunsItsAncestorsOnly: Argo's dag-targets example: target E
// of A -> B, C; B, C -> D; C -> E runs A, C and E only.
func TestDAGTargetRunsItsAncestorsOnly(t *testing.T) {
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: target, value: E}]}
  templates:
  - name: main
    dag:
      target: "{{workflow.parameters.target}}"
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo, depends: A}
      - {name: C, template: echo, depends: A}
      - {name: D, template: echo, depends: B && C}
      - {name: E, template: echo, depends: C}
  - name: echo
    container: {image: x, command: [sh, -c, "echo hi"]}
`, Options{})
	if wf.Status.Phase != wfv1.WorkflowSucceeded {
		t.Fatalf("phase %s: %s", wf.Status.Phase, wf.Status.Message)
	}
	var ran []string
	for _, n := range wf.Status.Nodes {
		if n.Type == wfv1.NodeTypePod {
			ran = append(ran, n.DisplayName)
		}
	}
	slices.Sort(ran)
	if got := strings.Join(ran, ","); got != "A,C,E" {
		t.Errorf("ran %s, want A,C,E", got)
	}
}
