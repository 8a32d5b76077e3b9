package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// MetricsParameter is the output parameter holding Kubeflow Pipelines'
// metrics JSON, {"metrics": [{"name": ..., "numberValue": ...}]}.
const MetricsParameter = "mlpipeline-metrics"

// WriteOutputs writes the numeric output parameters of wf and of its nodes
// to out as name=value lines, the lines a StdOut collector reads: first the
// workflow's, then the nodes' in node-ID order, each node's in declaration
// order. A parameter named [MetricsParameter] gives one line per numeric
// metric it holds; a parameter whose value is not a finite number, or whose
// name could not be read back from such a line, gives none.
func WriteOutputs(wf *wfv1.Workflow, out io.Writer) error {
	var b strings.Builder
	add := func(o *wfv1.Outputs) {
		if o == nil {
			return
		}
		for _, p := range o.Parameters {
			if p.Value == nil {
				continue
			}
			writeParameter(&b, p.Name, string(*p.Value))
		}
	}
	add(wf.Status.Outputs)
	ids := make([]string, 0, len(wf.Status.Nodes))
	for id := range wf.Status.Nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		add(wf.Status.Nodes[id].Outputs)
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return fmt.Errorf("writing workflow outputs: %w", err)
	}
	return nil
}

// writeParameter writes name=value when value is a finite number, and one
// line per numeric metric when name is MetricsParameter: KFP v1's
// {"metrics": [{"name": ..., "numberValue": ...}]} in document order, or
// KFP v2's flat {"accuracy": 0.9, ...} (a system.Metrics artifact's
// metadata) in key order.
func writeParameter(b *strings.Builder, name, value string) {
	value = strings.TrimSpace(value)
	if name != MetricsParameter {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(name, "= \n") {
			return
		}
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &doc) != nil {
		return
	}
	var v1 []struct {
		Name        string          `json:"name"`
		NumberValue json.RawMessage `json:"numberValue"`
	}
	if raw, ok := doc["metrics"]; ok && json.Unmarshal(raw, &v1) == nil {
		for _, x := range v1 {
			// One bad entry must not lose the document's other metrics.
			writeMetric(b, x.Name, x.NumberValue)
		}
		return
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		writeMetric(b, k, doc[k])
	}
}

// writeMetric writes name=value when raw is a finite number, or a string
// holding one (KFP accepts both), and name could be read back from the line.
func writeMetric(b *strings.Builder, name string, raw json.RawMessage) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if name == "" || strings.ContainsAny(name, "= \n") || err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return
	}
	fmt.Fprintf(b, "%s=%s\n", name, strconv.FormatFloat(v, 'g', -1, 64))
}

// Failure is the step that failed a Workflow: its name (the node's display
// name, as Argo shows it: the task or step name), template, message
// (Argo's, such as "main: Error (exit code 3)") and exit code.
type Failure struct {
	Name, Template, Message string
	ExitCode                *int
}

// FailedStep returns the last step (Pod node) of wf to end Failed or
// Error, preferring one with an exit code, the latest finish winning and
// the greater name breaking a tie; the zero Failure when none failed.
func FailedStep(wf *wfv1.Workflow) Failure {
	if wf == nil {
		return Failure{}
	}
	var last *wfv1.NodeStatus
	hasCode := func(n *wfv1.NodeStatus) bool { return n.Outputs != nil && n.Outputs.ExitCode != nil }
	for id := range wf.Status.Nodes {
		n := wf.Status.Nodes[id]
		if n.Type != wfv1.NodeTypePod || !n.Phase.FailedOrError() {
			continue
		}
		switch {
		case last == nil,
			hasCode(&n) && !hasCode(last),
			hasCode(&n) == hasCode(last) && (n.FinishedAt.After(last.FinishedAt.Time) || n.FinishedAt.Equal(&last.FinishedAt) && n.Name > last.Name):
			last = &n
		}
	}
	if last == nil {
		return Failure{}
	}
	name := last.DisplayName
	if name == "" {
		name = last.Name
	}
	f := Failure{Name: name, Template: last.TemplateName, Message: last.Message}
	if hasCode(last) {
		var code int
		if _, err := fmt.Sscan(*last.Outputs.ExitCode, &code); err == nil {
			f.ExitCode = &code
		}
	}
	return f
}

// String says which step failed and how, as the trial's message does:
// "step NAME (template T) failed: MESSAGE".
func (f Failure) String() string {
	if f.Name == "" {
		return ""
	}
	msg := f.Message
	if msg == "" && f.ExitCode != nil {
		msg = fmt.Sprintf("exit code %d", *f.ExitCode)
	}
	return fmt.Sprintf("step %s (template %s) failed: %s", f.Name, f.Template, msg)
}
