package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
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
// line per numeric metric when name is MetricsParameter.
func writeParameter(b *strings.Builder, name, value string) {
	value = strings.TrimSpace(value)
	if name == MetricsParameter {
		var m struct {
			Metrics []struct {
				Name        string          `json:"name"`
				NumberValue json.RawMessage `json:"numberValue"`
			} `json:"metrics"`
		}
		if json.Unmarshal([]byte(value), &m) != nil {
			return
		}
		for _, x := range m.Metrics {
			// A number, or a string holding one (KFP accepts both): one
			// bad entry must not lose the document's other metrics.
			raw := strings.Trim(string(x.NumberValue), `" `)
			v, err := strconv.ParseFloat(raw, 64)
			if x.Name == "" || strings.ContainsAny(x.Name, "= \n") || err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(b, "%s=%s\n", x.Name, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(name, "= \n") {
		return
	}
	fmt.Fprintf(b, "%s=%s\n", name, value)
}
