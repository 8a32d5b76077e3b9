//go:build linux

package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
)

// The counts of Argo's examples (argo-workflows v3.7.3, examples/), as
// docs/pipelines.md "Argo's examples" reports them. A new version of the
// module changes them: update the docs with the test's log.
const (
	argoWorkflowsFound = 193 // documents of kind Workflow
	argoAccepted       = 87  // pass pipeline.Check
	argoRefused        = 106 // refused by pipeline.Check
)

// argoTimeScale is how long one second of the examples lasts in the
// suite: activeDeadlineSeconds, timeout, retry backoff (the executor's
// second) and the sleep stand-in all run this much faster, so that the
// examples' timings keep their proportions.
const argoTimeScale = 10

// argoImageEntrypoints are the entrypoints (or default commands) of the
// images whose examples give no command: the container runtime would run
// them, the host executor needs them as the command.
var argoImageEntrypoints = map[string][]string{
	"argoproj/argosay:v2": {"argosay"},
	"alpine:latest":       {"/bin/sh"},
}

// argoNeedsContainer are the accepted examples that look at what only a
// container has: the image's files or the pod's mount table.
var argoNeedsContainer = map[string]string{
	"artifact-disable-archive.yaml": "the image's files (it passes the image's /etc as an artifact)",
	"volumes-emptydir.yaml":         "a mount table (it looks for /mnt/vol in mount's output)",
}

// argoShellPrograms are programs examples call from their shell scripts
// (the command being sh), beyond a base system's.
var argoShellPrograms = map[string][]string{
	"handle-large-output-results.yaml": {"jq"},
	"exit-handler-slack.yaml":          {"curl"},
}

// argosayStandIn and sleepStandIn are put first on the steps' PATH:
// argosay stands in for argoproj/argosay:v2's /argosay (the sub-commands
// the examples use), sleep scales its argument by argoTimeScale.
const argosayStandIn = `#!/bin/sh
# argoproj/argosay:v2, the sub-commands Argo's examples use.
case "$1" in
'') echo "hello argo" ;;
echo)
	if [ $# -ge 3 ]; then mkdir -p "$(dirname "$3")" && printf '%s\n' "$2" > "$3"
	else printf '%s\n' "${2:-hello argo}"; fi ;;
sleep) exec sleep "$2" ;;
exit) exit "${2:-0}" ;;
cat) exec cat "$2" ;;
*) echo "argosay: unknown command $1" >&2; exit 2 ;;
esac
`

const sleepStandIn = `#!/bin/sh
# sleep DURATION[smhd], every second lasting 1/SCALE of a second.
d=$1
n=${d%%[smhd]}
case "$d" in *m) f=60 ;; *h) f=3600 ;; *d) f=86400 ;; *) f=1 ;; esac
exec REALSLEEP "$(AWK "BEGIN { print $n * $f / SCALE }")"
`

// argoExample is one Workflow document of Argo's examples.
type argoExample struct {
	name string // file path under examples/, with #N for the Nth document
	wf   *wfv1.Workflow
}

// argoExampleFiles walks the argo-workflows module's examples/ directory
// and returns its Workflows, decoded strictly as tune decodes a trial
// template, and the count of the other kinds' documents.
func argoExampleFiles(t *testing.T) ([]argoExample, map[string]int) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/argoproj/argo-workflows/v3").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/argoproj/argo-workflows/v3: %v", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "examples")
	var examples []argoExample
	others := map[string]int{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" && ext != ".json" {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			var head struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal(doc, &head); err != nil || head.Kind == "" {
				others["(not a Kubernetes object)"]++
				continue
			}
			if head.Kind != "Workflow" {
				others[head.Kind]++
				continue
			}
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			var wf wfv1.Workflow
			if err := manifest.Decode(js, &wf); err != nil {
				t.Errorf("%s: strict decoding of a Workflow: %v", rel, err)
				continue
			}
			name := filepath.ToSlash(rel)
			if i > 0 {
				name += "#" + strconv.Itoa(i)
			}
			examples = append(examples, argoExample{name: name, wf: &wf})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	sort.Slice(examples, func(i, j int) bool { return examples[i].name < examples[j].name })
	return examples, others
}

// refusalShape is the shape of each of Check's problems: the template or
// spec field, the field, then the reason.
var refusalShape = regexp.MustCompile(`^(?:template "[^"]+": |spec\.)(` + fieldPath + `): (\S.*)$`)

// fieldPath is a field's path in a refusal: names, indexes and a task's
// or volume's name in parentheses (steps[1][0] (print).arguments.artifacts.a).
const fieldPath = `[A-Za-z][\w-]*(?:\[\d+\])*(?: \([^()]*\))?(?:\.[\w-]+(?:\[\d+\])*(?: \([^()]*\))?)*`

// refusalKey groups a refusal reason: the reason without its advice,
// parenthesised detail or the names of artifact repositories and volume
// kinds; a reason that does not name what it refuses ("not resolved
// locally") gets the field's last name (valueFrom, fromExpression).
func refusalKey(field, reason string) string {
	if strings.HasPrefix(reason, "not ") {
		parts := strings.Split(field, ".")
		reason = parts[len(parts)-1] + " " + reason
	}
	reason = strings.TrimSuffix(reason, ": use --executor kubernetes")
	for _, sep := range []string{" (", ", which", "; "} {
		if i := strings.Index(reason, sep); i > 0 {
			reason = reason[:i]
		}
	}
	reason = regexp.MustCompile(`^\w+ artifacts are fetched`).ReplaceAllString(reason, "artifacts are fetched")
	return reason
}

// argoTally collects the suite's counts.
type argoTally struct {
	mu       sync.Mutex
	accepted []string
	refused  map[string][]string // first problem's key -> examples
	problems map[string]int      // key -> examples having it
	notRun   map[string][]string // missing program -> examples
	ran      map[string]int      // expected outcome -> examples run
	checked  int                 // examples run whose outputs were checked
}

// ranAs counts an example run with expectation w.
func (a *argoTally) ranAs(w argoWant) {
	kind := string(w.phase)
	switch {
	case w.stop:
		kind = "stopped after 3 lines"
	case w.phase == "":
		kind = "random (invariants)"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ran[kind]++
	if w.check != nil {
		a.checked++
	}
}

func (a *argoTally) refuse(name string, keys []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused[keys[0]] = append(a.refused[keys[0]], name)
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			a.problems[k]++
		}
	}
}

// argoWant is what Argo's documentation and the example itself say of a
// run.
type argoWant struct {
	// phase is the Workflow's final phase; "" for examples whose phase is
	// random (the check asserts their invariants instead).
	phase wfv1.WorkflowPhase
	// stop, for examples that run for minutes by design, stops the run
	// once its one step has printed three lines.
	stop bool
	// check asserts the outputs the example documents.
	check func(t *testing.T, r *argoRun)
}

// argoRun is a finished run of an example.
type argoRun struct {
	name string // the trial's name: the root node's
	dir  string
	wf   *wfv1.Workflow
	res  trial.Result
	wall time.Duration
}

// stepDirName is pipeline's directory name of a node (Options.Dir/steps/
// <node name sanitised>).
func stepDirName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// nodeID is the ID of the node named name: Argo's FNV-32a hash of the
// name after the workflow's name.
func (r *argoRun) nodeID(name string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return fmt.Sprintf("%s-%v", r.name, h.Sum32())
}

// all returns the nodes whose display name is display, pods first by
// name.
func (r *argoRun) all(display string) []wfv1.NodeStatus {
	var out []wfv1.NodeStatus
	for _, n := range r.wf.Status.Nodes {
		if n.DisplayName == display {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// node returns the only node whose display name is display, retry and
// group nodes aside from their attempt.
func (r *argoRun) node(t *testing.T, display string) wfv1.NodeStatus {
	t.Helper()
	ns := r.all(display)
	if len(ns) != 1 {
		var names []string
		for _, n := range r.wf.Status.Nodes {
			names = append(names, n.DisplayName)
		}
		sort.Strings(names)
		t.Fatalf("%d nodes named %q, want 1; nodes: %q", len(ns), display, names)
	}
	return ns[0]
}

func (r *argoRun) phase(t *testing.T, display string) wfv1.NodePhase {
	t.Helper()
	return r.node(t, display).Phase
}

// log returns the standard output a pod node wrote to its step directory.
func (r *argoRun) log(t *testing.T, n wfv1.NodeStatus) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, "steps", stepDirName(n.Name), "stdout.log"))
	if err != nil {
		t.Fatalf("step %s: %v", n.Name, err)
	}
	return string(data)
}

// logOf is the log of the only node named display.
func (r *argoRun) logOf(t *testing.T, display string) string {
	t.Helper()
	return r.log(t, r.node(t, display))
}

// pods returns the pod nodes, by name.
func (r *argoRun) pods(template string) []wfv1.NodeStatus {
	var out []wfv1.NodeStatus
	for _, n := range r.wf.Status.Nodes {
		if n.Type == wfv1.NodeTypePod && (template == "" || n.TemplateName == template) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *argoRun) param(t *testing.T, n wfv1.NodeStatus, name string) string {
	t.Helper()
	if n.Outputs != nil {
		for _, p := range n.Outputs.Parameters {
			if p.Name == name && p.Value != nil {
				return p.Value.String()
			}
		}
	}
	t.Fatalf("node %s has no output parameter %s (outputs %+v)", n.Name, name, n.Outputs)
	return ""
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantPhases asserts the phase of each node named in want.
func wantPhases(t *testing.T, r *argoRun, want map[string]wfv1.NodePhase) {
	t.Helper()
	for name, p := range want {
		wantEqual(t, "phase of "+name, r.phase(t, name), p)
	}
}

// wantLogs asserts what each pod node named in want printed.
func wantLogs(t *testing.T, r *argoRun, want map[string]string) {
	t.Helper()
	for name, l := range want {
		wantEqual(t, "output of "+name, r.logOf(t, name), l)
	}
}

// retryInvariants asserts the documented behaviour of a retried random
// step: attempts fail until one succeeds or the limit is spent.
func retryInvariants(t *testing.T, r *argoRun, retry wfv1.NodeStatus, limit int) {
	t.Helper()
	if retry.Type != wfv1.NodeTypeRetry {
		t.Fatalf("node %s is a %s node, want Retry", retry.Name, retry.Type)
	}
	var attempts []wfv1.NodeStatus
	for _, id := range retry.Children {
		attempts = append(attempts, r.wf.Status.Nodes[id])
	}
	if len(attempts) == 0 || len(attempts) > limit+1 {
		t.Fatalf("%d attempts, want 1 to %d", len(attempts), limit+1)
	}
	for i, a := range attempts {
		wantEqual(t, "attempt name", a.Name, fmt.Sprintf("%s(%d)", retry.Name, i))
		last := i == len(attempts)-1
		switch {
		case !last && a.Phase != wfv1.NodeFailed:
			t.Errorf("attempt %d is %s but was retried", i, a.Phase)
		case last && a.Phase != retry.Phase:
			t.Errorf("last attempt %s, retry node %s", a.Phase, retry.Phase)
		}
		code := ""
		if a.Outputs != nil && a.Outputs.ExitCode != nil {
			code = *a.Outputs.ExitCode
		}
		if (a.Phase == wfv1.NodeSucceeded) != (code == "0") {
			t.Errorf("attempt %d: phase %s with exit code %q", i, a.Phase, code)
		}
	}
	if retry.Phase == wfv1.NodeFailed && len(attempts) != limit+1 {
		t.Errorf("failed after %d attempts, want the limit's %d", len(attempts), limit+1)
	}
}

// coinResult is a flip-coin node's result, checked to be heads or tails.
func coinResult(t *testing.T, n wfv1.NodeStatus) string {
	t.Helper()
	if n.Outputs == nil || n.Outputs.Result == nil || (*n.Outputs.Result != "heads" && *n.Outputs.Result != "tails") {
		t.Fatalf("flip %s: result %+v, want heads or tails", n.Name, n.Outputs)
	}
	return *n.Outputs.Result
}

// hello is the output of busybox's echo "hello world".
const hello = "hello world\n"

// argoWants are the expectations of the examples the local engine runs,
// read from each example's comments and description: Succeeded unless
// the example is built to fail, random (phase "") for the coin flips and
// random exits.
var argoWants = map[string]argoWant{
	"hello-world.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{r.wf.Status.Nodes[r.name].DisplayName: hello})
	}},
	"steps.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"hello1": "hello1\n", "hello2a": "hello2a\n", "hello2b": "hello2b\n"})
		// hello2a and hello2b run in the second group, after hello1's.
		g0, g1 := r.node(t, "[0]"), r.node(t, "[1]")
		if !slices.Contains(g0.Children, r.node(t, "hello1").ID) || !slices.Contains(g1.Children, r.node(t, "hello2a").ID) || !slices.Contains(g1.Children, r.node(t, "hello2b").ID) {
			t.Errorf("step groups %v / %v do not hold hello1 / hello2a, hello2b", g0.Children, g1.Children)
		}
	}},
	"dag-diamond.yaml": {phase: wfv1.WorkflowSucceeded, check: checkDiamond(4, map[string][]string{"B": {"A"}, "C": {"A"}, "D": {"B", "C"}})},
	"dag-diamond-steps.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// Each task's steps echo its letter and the items 1, 2, 3.
		for _, task := range []string{"A", "B", "C", "D"} {
			for i := range 3 {
				n, ok := r.wf.Status.Nodes[r.nodeID(fmt.Sprintf("%s.%s[0].echo(%d:%d)", r.name, task, i, i+1))]
				if !ok {
					t.Fatalf("no step %s[0].echo(%d:%d)", task, i, i+1)
				}
				wantEqual(t, "output", r.log(t, n), fmt.Sprintf("%s%d\n", task, i+1))
			}
		}
	}},
	"dag-multiroot.yaml":      {phase: wfv1.WorkflowSucceeded, check: checkDiamond(4, map[string][]string{"C": {"A"}, "D": {"A", "B"}})},
	"dag-nested.yaml":         {phase: wfv1.WorkflowSucceeded, check: checkDiamond(16, nil)},
	"dag-custom-metrics.yaml": {phase: wfv1.WorkflowSucceeded},
	"dag-enhanced-depends.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// C fails; should-not-execute (B && C) is omitted; the targets
		// succeed, so the DAG does.
		wantPhases(t, r, map[string]wfv1.NodePhase{
			"A": wfv1.NodeSucceeded, "B": wfv1.NodeSucceeded, "C": wfv1.NodeFailed,
			"should-execute-1": wfv1.NodeSucceeded, "should-execute-2": wfv1.NodeSucceeded,
			"should-not-execute": wfv1.NodeOmitted, "should-execute-3": wfv1.NodeSucceeded,
		})
	}},
	"dag-targets.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// target E runs A, C and E only.
		var ran []string
		for _, p := range r.pods("") {
			ran = append(ran, p.DisplayName)
		}
		wantEqual(t, "tasks run", strings.Join(ran, ","), "A,C,E")
		wantLogs(t, r, map[string]string{"A": "A\n", "C": "C\n", "E": "E\n"})
	}},
	"dag-continue-on-fail.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// G (E && F) is omitted because E failed, and its branch fails
		// the DAG. D (B.Failed && C) runs when B and C end before that
		// (with failFast, Argo stops scheduling once the DAG has failed:
		// on a cluster too it depends on which pods end first).
		wantPhases(t, r, map[string]wfv1.NodePhase{
			"A": wfv1.NodeSucceeded, "B": wfv1.NodeFailed,
			"E": wfv1.NodeFailed, "F": wfv1.NodeSucceeded, "G": wfv1.NodeOmitted,
		})
		wantLogs(t, r, map[string]string{"B": "intentional failure\n"})
		if len(r.all("D")) > 0 {
			wantPhases(t, r, map[string]wfv1.NodePhase{"C": wfv1.NodeSucceeded, "D": wfv1.NodeSucceeded})
			wantLogs(t, r, map[string]string{"D": hello})
		}
	}},
	"dag-disable-failFast.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// C fails its 4 attempts; without failFast, B (sleep 30) and its
		// dependents D, E still run to the end.
		c := r.node(t, "C")
		retryInvariants(t, r, c, 3)
		wantEqual(t, "attempts of C", len(c.Children), 4)
		wantPhases(t, r, map[string]wfv1.NodePhase{"B": wfv1.NodeSucceeded, "D": wfv1.NodeSucceeded, "E": wfv1.NodeSucceeded})
		wantLogs(t, r, map[string]string{"B(0)": "haha\n", "E": hello})
	}},
	"continue-on-fail.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantPhases(t, r, map[string]wfv1.NodePhase{"A": wfv1.NodeSucceeded, "B": wfv1.NodeSucceeded, "C": wfv1.NodeFailed, "D": wfv1.NodeSucceeded})
		wantLogs(t, r, map[string]string{"C": "intentional failure\n", "D": hello})
	}},
	"exit-code-output-variable.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantPhases(t, r, map[string]wfv1.NodePhase{"failing-container": wfv1.NodeFailed})
		wantLogs(t, r, map[string]string{"echo-container": "Exit code was: 123\n"})
	}},
	"status-reference.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantPhases(t, r, map[string]wfv1.NodePhase{"flakey-container": wfv1.NodeFailed, "failed": wfv1.NodeSucceeded, "succeeded": wfv1.NodeSkipped})
		wantLogs(t, r, map[string]string{"failed": "the flakey container failed\n"})
	}},
	"exit-handlers.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// The exit handler runs whatever the outcome and sees Failed.
		wantPhases(t, r, map[string]wfv1.NodePhase{"notify": wfv1.NodeSucceeded, "celebrate": wfv1.NodeSkipped, "cry": wfv1.NodeSucceeded})
		wantLogs(t, r, map[string]string{"cry": "boohoo!\n"})
		notify := r.logOf(t, "notify")
		if want := "send e-mail: " + r.name + " Failed "; !strings.HasPrefix(notify, want) || !strings.Contains(notify, `"displayName":"`+r.name+`"`) && !strings.Contains(notify, "intentional-fail") {
			t.Errorf("notify printed %q, want it to start %q and list the failed step", notify, want)
		}
	}},
	"exit-handler-slack.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// The webhook is a placeholder (YOUR_WEBHOOK_URL_HERE): curl
		// fails, and the exit handler's failure fails the workflow.
		wantLogs(t, r, map[string]string{r.name: "hello\n"})
		wantEqual(t, "exit handler", r.phase(t, r.name+".onExit"), wfv1.NodeFailed)
	}},
	"output-parameter.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantEqual(t, "hello-param", r.param(t, r.node(t, "generate-parameter"), "hello-param"), "hello world")
		wantLogs(t, r, map[string]string{"consume-parameter": hello})
	}},
	"artifact-passing.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"generate-artifact": hello, "consume-artifact": hello})
	}},
	"artifact-passing-subpath.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"list-artifact": "hello_world.txt\n", "consume-artifact": hello})
	}},
	"arguments-parameters.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{r.name: hello})
	}},
	"global-parameters.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{r.name: hello})
	}},
	"loops.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"print-message-loop(0:hello world)": hello, "print-message-loop(1:goodbye world)": "goodbye world\n"})
	}},
	"loops-dag.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"A": "A\n", "B(0:foo)": "foo\n", "B(1:bar)": "bar\n", "B(2:baz)": "baz\n", "C": "C\n"})
	}},
	"loops-maps.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// Each item's map keys fill the image; the step prints the
		// host's os-release here, so only the names are checked.
		wantEqual(t, "items", len(r.pods("cat-os-release")), 4)
		for _, n := range r.pods("cat-os-release") {
			if !strings.Contains(r.log(t, n), "NAME=") {
				t.Errorf("item %s printed no os-release", n.DisplayName)
			}
		}
	}},
	"loops-param-argument.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantEqual(t, "items", len(r.pods("cat-os-release")), 4)
	}},
	"loops-param-result.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// gen-number-list prints [20, ..., 30]; one step per number.
		sleeps := r.pods("sleep-n-sec")
		wantEqual(t, "sleep steps", len(sleeps), 11)
		for i := range 11 {
			n := 20 + i
			want := fmt.Sprintf("sleeping for %d seconds\ndone\n", n)
			wantEqual(t, "output of sleep item "+strconv.Itoa(n), r.logOf(t, fmt.Sprintf("sleep(%d:%d)", i, n)), want)
		}
	}},
	"loops-sequence.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// count 5 from 0: 0..4; start 100 end 105 formatted: 100..105.
		wantEqual(t, "sequence items", len(r.pods("echo")), 5+6+3+6+5)
		for i := range 5 {
			wantEqual(t, "count item", r.logOf(t, fmt.Sprintf("sequence-count(%d:%d)", i, i)), fmt.Sprintf("%d\n", i))
		}
		for i := range 6 {
			wantEqual(t, "start-end item", r.logOf(t, fmt.Sprintf("sequence-start-end(%d:%d)", i, 100+i)), fmt.Sprintf("%d\n", 100+i))
		}
		wantLogs(t, r, map[string]string{
			"sequence-param(0:200)": "200\n", "sequence-param(2:202)": "202\n",
			"sequence-negative(0:5)": "5\n", "sequence-negative(5:0)": "0\n",
			"sequence-format(0:testuser00)": "testuser00\n", "sequence-format(4:testuser04)": "testuser04\n",
		})
	}},
	"parameter-aggregation.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// The aggregated outputs of the four items, as JSON lists; the
		// even numbers 2 and 4 are halved, the odd ones skipped.
		wantLogs(t, r, map[string]string{
			"print-nums":     `["1","2","3","4"]` + "\n",
			"print-evenness": `["odd","even","odd","even"]` + "\n",
			"print(0:1)":     "1\n",
			"print(1:2)":     "2\n",
		})
		wantEqual(t, "halved items", len(r.pods("divide-by-2")), 2)
	}},
	"parameter-aggregation-dag.yaml": {phase: wfv1.WorkflowSucceeded},
	"pod-gc-strategy.yaml":           {phase: wfv1.WorkflowFailed, check: checkFailSucceed},
	"pod-gc-strategy-with-label-selector.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		wantPhases(t, r, map[string]wfv1.NodePhase{"fail": wfv1.NodeFailed, "succeed-deleted": wfv1.NodeSucceeded, "succeed-not-deleted": wfv1.NodeSucceeded})
	}},
	"loops-arbitrary-sequential-steps.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// The third item exits 1 ("will fail and stop here").
		wantEqual(t, "message", strings.Contains(r.wf.Status.Message, "exit code 1"), true)
	}},
	"scripts-python.yaml": {phase: wfv1.WorkflowSucceeded, check: checkRandomInt},
	"scripts-bash.yaml":   {phase: wfv1.WorkflowSucceeded, check: checkRandomInt},
	"scripts-javascript.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		res := *r.node(t, "generate").Outputs.Result
		if n, err := strconv.Atoi(res); err != nil || n < 0 || n > 99 {
			t.Errorf("generate result %q, want 0 to 99", res)
		}
		wantLogs(t, r, map[string]string{"print": "result was: " + res + "\n"})
	}},
	"timeouts-step.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// sleep 1d is stopped after activeDeadlineSeconds=10.
		n := r.node(t, r.name)
		wantEqual(t, "output", r.log(t, n), "123\n")
		if !strings.Contains(n.Message, "deadline") {
			t.Errorf("message %q, want the deadline", n.Message)
		}
		checkWall(t, r, 10)
	}},
	"timeouts-workflow.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// Three sleeps of a day are stopped at the workflow's
		// activeDeadlineSeconds=30.
		if !strings.Contains(r.wf.Status.Message, "activeDeadlineSeconds=30") {
			t.Errorf("message %q, want the workflow's deadline", r.wf.Status.Message)
		}
		for _, n := range r.pods("sleep") {
			wantEqual(t, "phase of "+n.DisplayName, n.Phase, wfv1.NodeFailed)
		}
		checkWall(t, r, 30)
	}},
	"dag-task-level-timeout.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// sleep 15s: within A's and C's timeout of 20s, past B's 10s.
		wantPhases(t, r, map[string]wfv1.NodePhase{"A": wfv1.NodeSucceeded, "B": wfv1.NodeFailed, "C": wfv1.NodeSucceeded})
		checkWall(t, r, 15+10)
	}},
	"step-level-timeout.yaml": {phase: wfv1.WorkflowFailed, check: func(t *testing.T, r *argoRun) {
		// Both sleeps of 30s time out after 10s, which fails them;
		// sleep1 continues on error only, so the workflow fails.
		wantPhases(t, r, map[string]wfv1.NodePhase{"sleep1": wfv1.NodeFailed, "sleep2": wfv1.NodeFailed})
		checkWall(t, r, 10)
	}},
	"parallelism-limit.yaml":          {phase: wfv1.WorkflowSucceeded, check: checkParallelism},
	"parallelism-template-limit.yaml": {phase: wfv1.WorkflowSucceeded, check: checkParallelism},
	"retry-container.yaml": {check: func(t *testing.T, r *argoRun) {
		retryInvariants(t, r, r.node(t, r.name), 10)
	}},
	"retry-script.yaml": {check: func(t *testing.T, r *argoRun) {
		retryInvariants(t, r, r.node(t, r.name), 10)
	}},
	"retry-backoff.yaml": {check: func(t *testing.T, r *argoRun) {
		retryInvariants(t, r, r.node(t, r.name), 10)
	}},
	"retry-on-error.yaml": {check: func(t *testing.T, r *argoRun) {
		retryInvariants(t, r, r.node(t, r.name), 2)
	}},
	"retry-container-to-completion.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// No limit: retried until it succeeds (0.8^100 to fail here).
		retryInvariants(t, r, r.node(t, r.name), 100)
	}},
	"retry-with-steps.yaml": {check: func(t *testing.T, r *argoRun) {
		for _, s := range []string{"hello1", "hello2a", "hello2b"} {
			ns := r.all(s)
			if s != "hello1" && len(ns) == 0 && r.phase(t, "hello1") == wfv1.NodeFailed {
				continue
			}
			retryInvariants(t, r, r.node(t, s), 10)
			// {{retries}} is the attempt's number.
			for i, id := range r.node(t, s).Children {
				wantEqual(t, "output of "+s, r.log(t, r.wf.Status.Nodes[id]), fmt.Sprintf("retries: %d\n", i))
			}
		}
	}},
	"resubmit.yaml": {check: func(t *testing.T, r *argoRun) {
		for _, p := range r.pods("random-fail") {
			code := *p.Outputs.ExitCode
			wantEqual(t, "output of "+p.Name, r.log(t, p), "exiting with code "+code+"\n")
		}
	}},
	"custom-metrics.yaml": {check: func(t *testing.T, r *argoRun) {
		// random-int prints a number from 1 to 10 and passes it on as a
		// global output; flakey fails two times in three and decides
		// the phase.
		ri := r.node(t, "random-int")
		v := r.param(t, ri, "rand-int-value")
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 10 {
			t.Errorf("rand-int-value %q, want 1 to 10", v)
		}
		wantEqual(t, "output of random-int", r.log(t, ri), v+"\n")
		if out := r.wf.Status.Outputs; out == nil || len(out.Parameters) != 1 || out.Parameters[0].Value.String() != v {
			t.Errorf("workflow outputs %+v, want rand-int-value %s", out, v)
		}
		wantEqual(t, "workflow phase", string(r.wf.Status.Phase), string(r.phase(t, "flakey")))
	}},
	"coinflip.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		flip := coinResult(t, r.node(t, "flip-coin"))
		other := map[string]string{"heads": "tails", "tails": "heads"}[flip]
		wantPhases(t, r, map[string]wfv1.NodePhase{flip: wfv1.NodeSucceeded, other: wfv1.NodeSkipped})
		wantLogs(t, r, map[string]string{flip: "it was " + flip + "\n"})
	}},
	"coinflip-recursive.yaml": {phase: wfv1.WorkflowSucceeded, check: checkRecursiveFlips},
	"dag-coinflip.yaml":       {phase: wfv1.WorkflowSucceeded, check: checkRecursiveFlips},
	"conditionals-complex.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		first, again := coinResult(t, r.node(t, "flip-coin")), coinResult(t, r.node(t, "flip-again"))
		ran := func(b bool) wfv1.NodePhase {
			if b {
				return wfv1.NodeSucceeded
			}
			return wfv1.NodeSkipped
		}
		wantPhases(t, r, map[string]wfv1.NodePhase{
			"heads": ran(first == "heads"), "tails": ran(first == "tails"),
			"complex-condition": ran(again == "tails"),
			"heads-regex":       ran(again == "heads"), "tails-regex": ran(again == "tails"),
		})
	}},
	"recursive-for-loop.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// The counter goes 1..10, then the loop stops.
		var got []string
		for _, n := range r.all("iterate-counter") {
			got = append(got, *n.Outputs.Result)
		}
		sort.Slice(got, func(i, j int) bool { a, _ := strconv.Atoi(got[i]); b, _ := strconv.Atoi(got[j]); return a < b })
		wantEqual(t, "counter values", strings.Join(got, ","), "1,2,3,4,5,6,7,8,9,10")
	}},
	"withsequence-nested-result.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// hello-a's random end (0..5) makes |end-1|+1 items of hello-b.
		end, err := strconv.Atoi(*r.node(t, "hello-a").Outputs.Result)
		if err != nil {
			t.Fatal(err)
		}
		want := end - 1
		if want < 0 {
			want = -want
		}
		n := 0
		for _, node := range r.wf.Status.Nodes {
			if node.Type == wfv1.NodeTypeSteps && node.TemplateName == "hello-hello" {
				n++
			}
		}
		wantEqual(t, "hello-hello runs", n, want+1)
	}},
	"nested-workflow.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		want := "input parameter value: my-output-parameter\ninput artifact contents:\nhello world\n"
		for _, n := range r.all("consume") {
			wantEqual(t, "output of "+n.Name, r.log(t, n), want)
		}
		wantEqual(t, "consume steps", len(r.all("consume")), 2)
	}},
	"global-outputs.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		for _, n := range r.all("consume-global-param") {
			wantEqual(t, "output of "+n.Name, r.log(t, n), hello)
		}
		for _, n := range r.all("consume-global-art") {
			wantEqual(t, "output of "+n.Name, r.log(t, n), "hello world")
		}
		wantEqual(t, "consumers (steps and exit handler)", len(r.all("consume-global-param")), 2)
	}},
	"handle-large-output-results.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{"sequence-param(0:0)": "\"a\"\n", "sequence-param(1:1)": "\"b\"\n", "sequence-param(2:2)": "\"c\"\n"})
	}},
	"input-artifact-raw.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{r.name: "this is\nthe raw file\ncontents\n"})
	}},
	"volumes-emptydir.yaml": {phase: wfv1.WorkflowSucceeded},
	"volumes-pvc.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		// print reads what generate wrote in the shared volume.
		wantLogs(t, r, map[string]string{"generate": "generating message in volume\nhello world\n"})
		if got := r.logOf(t, "print"); !strings.HasPrefix(got, "getting message from volume\n") || !strings.HasSuffix(got, "hello_world.txt\nhello world\n") {
			t.Errorf("print printed %q", got)
		}
	}},
	"forever.yaml": {stop: true, check: func(t *testing.T, r *argoRun) {
		wantEqual(t, "result", r.res.State, trial.Killed)
		got := r.logOf(t, r.name)
		if !strings.HasPrefix(got, "1\n2\n3\n") {
			t.Errorf("output %q, want 1, 2, 3, ...", got)
		}
	}},
	"colored-logs.yaml": {stop: true, check: func(t *testing.T, r *argoRun) {
		wantEqual(t, "result", r.res.State, trial.Killed)
		colors := []string{"No Color", "FG Black", "FG Green", "FG Blue", "FG Cyan", "BG Red", "BG Yellow", "BG Magenta"}
		for _, line := range strings.Split(strings.TrimSpace(r.logOf(t, r.name)), "\n") {
			if !slices.ContainsFunc(colors, func(c string) bool { return strings.Contains(line, c) }) {
				t.Errorf("line %q is none of the example's messages", line)
			}
		}
	}},
	"label-value-from-workflow.yaml": {phase: wfv1.WorkflowSucceeded, check: func(t *testing.T, r *argoRun) {
		wantLogs(t, r, map[string]string{r.name: "hello argo\n"})
	}},
}

// checkDiamond returns the check of the diamond examples: n steps ran,
// each printing its task's name (wf.B.C, in dag-nested, prints BC), and
// each task named in after is a child of the tasks it depends on.
func checkDiamond(n int, after map[string][]string) func(t *testing.T, r *argoRun) {
	return func(t *testing.T, r *argoRun) {
		t.Helper()
		pods := r.pods("")
		wantEqual(t, "steps run", len(pods), n)
		for _, p := range pods {
			want := strings.ReplaceAll(strings.TrimPrefix(p.Name, r.name+"."), ".", "")
			wantEqual(t, "output of "+p.Name, r.log(t, p), want+"\n")
		}
		for task, deps := range after {
			id := r.node(t, task).ID
			for _, d := range deps {
				if !slices.Contains(r.node(t, d).Children, id) {
					t.Errorf("%s is not a child of %s, which it depends on", task, d)
				}
			}
		}
	}
}

// checkRandomInt checks scripts-bash and scripts-python: a random number
// from 1 to 100, printed by the next step.
func checkRandomInt(t *testing.T, r *argoRun) {
	t.Helper()
	res := *r.node(t, "generate").Outputs.Result
	if n, err := strconv.Atoi(res); err != nil || n < 1 || n > 100 {
		t.Errorf("generate result %q, want 1 to 100", res)
	}
	wantLogs(t, r, map[string]string{"print": "result was: " + res + "\n"})
}

// checkRecursiveFlips checks coinflip-recursive and dag-coinflip: each
// coinflip flips until heads; tails recurse.
func checkRecursiveFlips(t *testing.T, r *argoRun) {
	t.Helper()
	flips := r.all("flip-coin")
	var heads []wfv1.NodeStatus
	for _, h := range r.all("heads") {
		if h.Phase != wfv1.NodeSkipped {
			heads = append(heads, h)
		}
	}
	tails := 0
	for _, f := range flips {
		if coinResult(t, f) == "tails" {
			tails++
		}
	}
	wantEqual(t, "flips", len(flips), tails+len(heads))
	for _, h := range heads {
		wantEqual(t, "output of "+h.Name, r.log(t, h), "it was heads\n")
	}
}

// checkWall checks a run stopped by a deadline of the given (scaled)
// seconds ended within it, plus time for a loaded machine.
func checkWall(t *testing.T, r *argoRun, seconds int) {
	t.Helper()
	limit := time.Duration(seconds)*time.Second/argoTimeScale + 20*time.Second
	if r.wall > limit {
		t.Errorf("run took %v, want the deadline to stop it well before %v", r.wall, limit)
	}
}

// checkParallelism checks the parallelism examples: ten sleeps of 10 s,
// two at a time, "should take at least 60 seconds" (five rounds here).
func checkParallelism(t *testing.T, r *argoRun) {
	t.Helper()
	wantEqual(t, "sleeps", len(r.pods("sleep")), 10)
	if min := 5 * 10 * time.Second / argoTimeScale; r.wall < min {
		t.Errorf("run took %v, want at least %v (two sleeps at a time)", r.wall, min)
	}
}

// argoEnv returns the steps' environment: this process's with the
// stand-ins' directory first on PATH, and the programs it lacks.
func argoEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	realSleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("sleep: %v", err)
	}
	awk, err := exec.LookPath("awk")
	if err != nil {
		t.Fatalf("awk: %v", err)
	}
	sleep := strings.NewReplacer("REALSLEEP", realSleep, "AWK", awk, "SCALE", strconv.Itoa(argoTimeScale)).Replace(sleepStandIn)
	files := map[string]string{"argosay": argosayStandIn, "sleep": sleep}
	if _, err := exec.LookPath("python"); err != nil {
		if p3, err := exec.LookPath("python3"); err == nil {
			files["python"] = "#!/bin/sh\nexec " + p3 + " \"$@\"\n"
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
}

// prepareArgoExample gives each step without a command its image's
// entrypoint and returns what this machine lacks to run wf: a program or
// an image entrypoint, "" when nothing.
func prepareArgoExample(wf *wfv1.Workflow, path string) string {
	for i := range wf.Spec.Templates {
		tm := &wf.Spec.Templates[i]
		c := tm.Container
		if tm.Script != nil {
			c = &tm.Script.Container
		}
		if c == nil {
			continue
		}
		if len(c.Command) == 0 {
			ep, ok := argoImageEntrypoints[c.Image]
			if !ok {
				return "the entrypoint of image " + c.Image
			}
			c.Command = slices.Clone(ep)
		}
		prog := c.Command[0]
		if strings.Contains(prog, "{{") {
			continue
		}
		if filepath.IsAbs(prog) {
			if _, err := os.Stat(prog); err != nil {
				return "program " + prog
			}
			continue
		}
		found := false
		for _, d := range filepath.SplitList(path) {
			if fi, err := os.Stat(filepath.Join(d, prog)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				found = true
				break
			}
		}
		if !found {
			return "program " + prog
		}
	}
	return ""
}

// TestArgoExamples runs Argo's own example workflows, shipped in the
// argo-workflows module, through the local executor: every Workflow is
// decoded strictly and checked; refused ones must say which template and
// field and why; accepted ones run as trials with real processes and must
// end as Argo's documentation says, with the outputs each example
// documents (argoWants).
func TestArgoExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 90 example workflows")
	}
	examples, others := argoExampleFiles(t)
	env := argoEnv(t)
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	e, err := New(Options{Env: env, KillGrace: time.Second, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e.second = time.Second / argoTimeScale

	tally := &argoTally{refused: map[string][]string{}, problems: map[string]int{}, notRun: map[string][]string{}, ran: map[string]int{}}
	sem := make(chan struct{}, 4)
	seen := map[string]bool{}
	t.Run("examples", func(t *testing.T) {
		for _, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				if err := pipeline.Check(ex.wf); err != nil {
					var keys []string
					for _, line := range strings.Split(err.Error(), "\n") {
						m := refusalShape.FindStringSubmatch(line)
						if m == nil {
							t.Errorf("refusal %q does not name the template or spec field, the field and a reason", line)
							continue
						}
						keys = append(keys, refusalKey(m[1], m[2]))
					}
					if len(keys) > 0 {
						tally.refuse(ex.name, keys)
					}
					if _, ok := argoWants[ex.name]; ok {
						t.Errorf("refused, but the suite expects it to run: %v", err)
					}
					return
				}
				tally.mu.Lock()
				tally.accepted = append(tally.accepted, ex.name)
				seen[ex.name] = true
				tally.mu.Unlock()
				wf := ex.wf.DeepCopy()
				lack := argoNeedsContainer[ex.name]
				if lack == "" {
					lack = prepareArgoExample(wf, path)
				}
				for _, prog := range argoShellPrograms[ex.name] {
					if _, err := exec.LookPath(prog); err != nil && lack == "" {
						lack = "program " + prog
					}
				}
				if lack != "" {
					tally.mu.Lock()
					tally.notRun[lack] = append(tally.notRun[lack], ex.name)
					tally.mu.Unlock()
					t.Skipf("SKIP: this machine lacks %s", lack)
				}
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				tally.ranAs(argoWantFor(ex.name))
				runArgoExample(t, e, ex.name, wf)
			})
		}
	})
	// With -run naming some examples, only they ran.
	filtered := strings.Contains(flag.Lookup("test.run").Value.String(), "/")
	for name := range argoWants {
		if filtered {
			break
		}
		if !seen[name] {
			t.Errorf("argoWants names %s, which is not an accepted example", name)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Argo's examples: %d Workflows (other documents: %v); %d accepted, %d refused\n", len(examples), others, len(tally.accepted), len(examples)-len(tally.accepted))
	var keys []string
	for k := range tally.refused {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(tally.refused[keys[i]]) != len(tally.refused[keys[j]]) {
			return len(tally.refused[keys[i]]) > len(tally.refused[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "  refused, first reason %q (%d; %d with it at all): %s\n", k, len(tally.refused[k]), tally.problems[k], strings.Join(tally.refused[k], " "))
	}
	fmt.Fprintf(&b, "  run: %v, %d of them with their documented outputs checked\n", tally.ran, tally.checked)
	for k, v := range tally.notRun {
		fmt.Fprintf(&b, "  could not run here, lacking %s: %s\n", k, strings.Join(v, " "))
	}
	t.Log(b.String())
	if filtered {
		return
	}
	wantEqual(t, "Workflows found", len(examples), argoWorkflowsFound)
	wantEqual(t, "Workflows accepted", len(tally.accepted), argoAccepted)
	wantEqual(t, "Workflows refused", len(examples)-len(tally.accepted), argoRefused)
}

// argoWantFor is the expectation of an accepted example: its argoWants
// entry, else Succeeded.
func argoWantFor(name string) argoWant {
	if w, ok := argoWants[name]; ok {
		return w
	}
	return argoWant{phase: wfv1.WorkflowSucceeded}
}

// runArgoExample runs one accepted example as a trial and checks it
// against argoWants (Succeeded when it has no entry).
func runArgoExample(t *testing.T, e *Executor, name string, wf *wfv1.Workflow) {
	want := argoWantFor(name)
	// Argo's own e2e suite requires these to succeed.
	if _, ok := wf.Labels["workflows.argoproj.io/test"]; ok && want.phase != wfv1.WorkflowSucceeded {
		t.Errorf("labelled workflows.argoproj.io/test, which Argo's e2e suite runs to Succeeded, but expected %q", want.phase)
	}
	data, err := json.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	trialName := strings.NewReplacer("/", "-", "#", "-", ".yaml", "", ".yml", "", ".json", "").Replace(name)
	spec := &trial.Spec{Experiment: "argo-examples", Name: trialName, Object: obj, Dir: t.TempDir(), PrimaryContainer: "main"}
	if err := e.Check(spec); err != nil {
		t.Fatalf("the local executor refuses what pipeline.Check accepts: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if want.stop {
		// Stop the run once its step has printed three lines.
		log := filepath.Join(spec.Dir, "steps", stepDirName(trialName), "stdout.log")
		go func() {
			for ctx.Err() == nil {
				if data, err := os.ReadFile(log); err == nil && bytes.Count(data, []byte("\n")) >= 3 {
					cancel()
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	start := time.Now()
	res, err := e.Run(ctx, spec, nil, nil)
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	data, err = os.ReadFile(filepath.Join(spec.Dir, WorkflowStatusFile))
	if err != nil {
		t.Fatalf("the finished run: %v", err)
	}
	var done wfv1.Workflow
	if err := json.Unmarshal(data, &done); err != nil {
		t.Fatal(err)
	}
	r := &argoRun{name: trialName, dir: spec.Dir, wf: &done, res: res, wall: wall}
	t.Logf("%s in %v: %s %s", done.Status.Phase, wall.Round(time.Millisecond), res.State, res.Message)
	if !want.stop {
		switch {
		case want.phase != "" && done.Status.Phase != want.phase:
			t.Errorf("phase %s (%s), want %s", done.Status.Phase, done.Status.Message, want.phase)
			want.check = nil
		case want.phase == "" && done.Status.Phase != wfv1.WorkflowSucceeded && done.Status.Phase != wfv1.WorkflowFailed:
			t.Fatalf("phase %s (%s), want Succeeded or Failed", done.Status.Phase, done.Status.Message)
		}
		// The trial's result agrees with the run's phase.
		if (res.State == trial.Succeeded) != (done.Status.Phase == wfv1.WorkflowSucceeded) {
			t.Errorf("trial %s, run %s", res.State, done.Status.Phase)
		}
	}
	defer func() {
		if t.Failed() {
			for _, n := range done.Status.Nodes {
				if n.Phase != wfv1.NodeSucceeded {
					t.Logf("node %s (%s): %s %s", n.Name, n.Type, n.Phase, n.Message)
				}
			}
		}
	}()
	if want.check != nil {
		want.check(t, r)
	}
}

// checkFailSucceed checks the pod-gc examples: one step fails, the other
// succeeds.
func checkFailSucceed(t *testing.T, r *argoRun) {
	t.Helper()
	wantPhases(t, r, map[string]wfv1.NodePhase{"fail": wfv1.NodeFailed, "succeed": wfv1.NodeSucceeded})
}
