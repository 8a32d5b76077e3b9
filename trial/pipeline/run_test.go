package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// A diamond with a failing branch: depends expressions decide which tasks
// run, parameters, results and artifacts flow, and the run fails through
// the step that failed.
const diamondYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: diamond}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: count, value: "7"}]
  templates:
  - name: main
    dag:
      tasks:
      - name: prepare
        template: prepare
        arguments: {parameters: [{name: count, value: "{{workflow.parameters.count}}"}]}
      - name: double
        template: calc
        depends: prepare
        arguments:
          parameters: [{name: x, value: "{{tasks.prepare.outputs.parameters.count}}"}]
          artifacts: [{name: data, from: "{{tasks.prepare.outputs.artifacts.data}}"}]
      - name: broken
        template: fail
        depends: prepare.Succeeded
      - name: on-broken
        template: echo
        depends: broken.Failed
        arguments: {parameters: [{name: msg, value: "handled {{tasks.broken.exitCode}}"}]}
      - name: after-broken
        template: echo
        depends: broken
        arguments: {parameters: [{name: msg, value: never}]}
      - name: sum
        template: echo
        depends: double && (on-broken || after-broken)
        arguments: {parameters: [{name: msg, value: "sum {{tasks.double.outputs.result}}"}]}
  - name: prepare
    inputs: {parameters: [{name: count}]}
    outputs:
      parameters: [{name: count, valueFrom: {path: /tmp/out/n}}]
      artifacts: [{name: data, path: /tmp/out/data}]
    container:
      image: alpine
      command: [sh, -c]
      args: ["mkdir -p /tmp/out/data && echo {{inputs.parameters.count}} > /tmp/out/n && echo a > /tmp/out/data/a.txt && echo b > /tmp/out/data/b.txt"]
  - name: calc
    inputs:
      parameters: [{name: x}]
      artifacts: [{name: data, path: /in/data}]
    script:
      image: python
      command: [sh]
      source: |
        cat /in/data/a.txt /in/data/b.txt >&2
        echo $(( {{inputs.parameters.x}} * 2 ))$(cat /in/data/a.txt)
  - name: fail
    container: {image: alpine, command: [sh, -c, "echo something broke >&2; exit 3"]}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
`

func TestDAGDependsAndFlow(t *testing.T) {
	wf, l := run(t, diamondYAML, Options{})
	if wf.Status.Phase != wfv1.WorkflowSucceeded {
		dump(t, wf)
		t.Fatalf("phase %s (%s), want Succeeded", wf.Status.Phase, wf.Status.Message)
	}
	if got := param(node(t, wf, "diamond.prepare"), "count"); got != "7" {
		t.Errorf("prepare's n = %q, want 7", got)
	}
	// 7*2 = 14, then the artifact's a.txt, read from a copy in calc's dir.
	if got := result(node(t, wf, "diamond.double")); got != "14a" {
		t.Errorf("double's result = %q, want 14a", got)
	}
	if got := result(node(t, wf, "diamond.sum")); got != "sum 14a" {
		t.Errorf("sum's result = %q, want \"sum 14a\"", got)
	}
	if got := result(node(t, wf, "diamond.on-broken")); got != "handled 3" {
		t.Errorf("on-broken's result = %q, want \"handled 3\"", got)
	}
	broken := node(t, wf, "diamond.broken")
	if broken.Phase != wfv1.NodeFailed || broken.Outputs == nil || broken.Outputs.ExitCode == nil || *broken.Outputs.ExitCode != "3" {
		t.Errorf("broken = %s %+v, want Failed with exit code 3", broken.Phase, broken.Outputs)
	}
	if n := node(t, wf, "diamond.after-broken"); n.Phase != wfv1.NodeOmitted {
		t.Errorf("after-broken phase %s, want Omitted", n.Phase)
	}
	for _, name := range l.names() {
		if name == "diamond.after-broken" {
			t.Error("after-broken ran")
		}
	}
	// The dag node is the root, named after the workflow.
	if root := node(t, wf, "diamond"); root.Type != wfv1.NodeTypeDAG || root.Phase != wfv1.NodeSucceeded || root.ID != "diamond" {
		t.Errorf("root = %+v", root)
	}
}

func TestFailingStepFailsRun(t *testing.T) {
	text := strings.Replace(diamondYAML, "depends: broken.Failed", "depends: broken.Succeeded", 1)
	dir := t.TempDir()
	wf, _ := run(t, text, Options{Dir: dir})
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Fatalf("phase %s, want Failed", wf.Status.Phase)
	}
	want := "step broken (template fail) failed: exit code 3: something broke"
	if wf.Status.Message != want {
		t.Errorf("message %q, want %q", wf.Status.Message, want)
	}
	broken := node(t, wf, "diamond.broken")
	if broken.Message != "Error (exit code 3)" {
		t.Errorf("broken's message %q", broken.Message)
	}
	if root := node(t, wf, "diamond"); root.Message != "child '"+broken.ID+"' failed" {
		t.Errorf("root message %q, want child '%s' failed", root.Message, broken.ID)
	}
	// Its logs are in its directory.
	data, err := os.ReadFile(filepath.Join(dir, "steps", "diamond.broken", "stderr.log"))
	if err != nil || string(data) != "something broke\n" {
		t.Errorf("stderr.log = %q, %v", data, err)
	}
}

func dump(t *testing.T, wf *wfv1.Workflow) {
	for _, n := range wf.Status.Nodes {
		t.Logf("%s %s %s %q %+v", n.Name, n.Type, n.Phase, n.Message, n.Outputs)
	}
}

// A reference to an output that was never produced fails the run naming
// the step whose argument could not be resolved.
func TestUnresolvedArgumentFailsRun(t *testing.T) {
	text := strings.Replace(diamondYAML, "{{tasks.double.outputs.result}}", "{{tasks.double.outputs.parameters.nope}}", 1)
	wf, _ := run(t, text, Options{})
	want := "step sum (template echo) failed: failed to resolve {{tasks.double.outputs.parameters.nope}} in argument msg"
	// An Error node gives an Error run, as in Argo.
	if wf.Status.Phase != wfv1.WorkflowError || wf.Status.Message != want {
		t.Errorf("workflow %s %q, want Error %q", wf.Status.Phase, wf.Status.Message, want)
	}
	if n := node(t, wf, "diamond.sum"); n.Phase != wfv1.NodeError {
		t.Errorf("sum %s, want Error", n.Phase)
	}
}

// The run's message names the step whose failure failed it, not an
// earlier failure that continueOn let pass.
func TestMessageNamesTheFailureThatCounts(t *testing.T) {
	wf, _ := run(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: co}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: fatal, template: fail}
      - {name: allowed, template: slow-fail, continueOn: {failed: true}}
  - name: fail
    container: {image: x, command: [sh, -c, "echo fatal >&2; exit 4"]}
  - name: slow-fail
    container: {image: x, command: [sh, -c, "while [ ! -e ../co.fatal/stderr.log ] || [ ! -s ../co.fatal/stderr.log ]; do sleep 0.01; done; sleep 0.2; exit 5"]}
`, Options{})
	want := "step fatal (template fail) failed: exit code 4: fatal"
	if wf.Status.Phase != wfv1.WorkflowFailed || wf.Status.Message != want {
		t.Errorf("workflow %s %q, want Failed %q", wf.Status.Phase, wf.Status.Message, want)
	}
}
