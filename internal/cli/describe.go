package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
	"github.com/tune-hpo/tune/trial/manifest"
)

// trailingSpace matches the padding tabwriter leaves at a line's end.
var trailingSpace = regexp.MustCompile(` +\n`)

// describeTailLines is how many lines of each log tune describe shows.
const describeTailLines = 20

type describeOptions struct {
	f          *factory
	format     string
	experiment string
	trial      string
}

func newDescribeCommand(f *factory) *cobra.Command {
	o := &describeOptions{f: f}
	cmd := &cobra.Command{
		Use:   "describe EXPERIMENT TRIAL",
		Short: "Show one trial in detail: parameters, metrics, history, command, logs",
		Long: `Show one trial in detail: its parameters, each metric with its strategy
and the value it chose, its status history, reason and message, exit code,
the command line it ran, its directory and the last 20 lines of its stdout
and stderr logs. -o json and -o yaml add the trial's observation log (every
stored metric value with its step and time).

TRIAL is the trial's name (mnist-0003) or its number (3).`,
		Example: "  tune describe mnist 3\n  tune describe mnist mnist-0003 -o json",
		Args:    exactArgs(2, "EXPERIMENT and TRIAL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.experiment, o.trial = args[0], args[1]
			return runDescribe(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "output", "o", string(output.Table), "output format: "+documentFormats)
	return cmd
}

// describeView is a trial as tune describe prints it.
type describeView struct {
	Experiment string                   `json:"experiment"`
	Name       string                   `json:"name"`
	Seq        int                      `json:"seq"`
	Status     trial.State              `json:"status"`
	Reason     string                   `json:"reason,omitempty"`
	Message    string                   `json:"message,omitempty"`
	ExitCode   *int                     `json:"exitCode,omitempty"`
	Parameters []paramView              `json:"parameters"`
	Metrics    []metricView             `json:"metrics"`
	History    []historyEntry           `json:"history"`
	Created    time.Time                `json:"created"`
	Started    time.Time                `json:"started,omitzero"`
	Finished   time.Time                `json:"finished,omitzero"`
	Duration   *float64                 `json:"durationSeconds,omitempty"`
	Command    []string                 `json:"command,omitempty"`
	Dir        string                   `json:"dir,omitempty"`
	Logs       []logTailView            `json:"logs"`
	Steps      []stepView               `json:"steps,omitempty"`
	Observe    []metrics.Log            `json:"observations"`
	Curves     map[string]results.Curve `json:"curves"`
}

// stepView is one step of a pipeline trial run locally, from the
// finished Workflow its directory keeps.
type stepView struct {
	Name     string   `json:"name"`
	Template string   `json:"template"`
	Phase    string   `json:"phase"`
	Message  string   `json:"message,omitempty"`
	ExitCode *int     `json:"exitCode,omitempty"`
	Duration *float64 `json:"durationSeconds,omitempty"`
}

// readSteps returns the steps (the Pod nodes, in the order they started,
// a step before the steps it leads to when the recorded times, which have
// whole seconds, tie) of the finished Workflow in a pipeline trial's directory; none when the
// trial is not a pipeline or has not finished.
func readSteps(dir string) []stepView {
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, local.WorkflowStatusFile))
	if err != nil {
		return nil
	}
	var wf wfv1.Workflow
	if json.Unmarshal(data, &wf) != nil {
		return nil
	}
	nodes := make([]wfv1.NodeStatus, 0, len(wf.Status.Nodes))
	for _, n := range wf.Status.Nodes {
		if n.Type == wfv1.NodeTypePod {
			nodes = append(nodes, n)
		}
	}
	depth := nodeDepths(wf.Status.Nodes)
	slices.SortFunc(nodes, func(a, b wfv1.NodeStatus) int {
		if c := a.StartedAt.Time.Compare(b.StartedAt.Time); c != 0 {
			return c
		}
		if c := depth[a.ID] - depth[b.ID]; c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	steps := make([]stepView, 0, len(nodes))
	for _, n := range nodes {
		sv := stepView{Name: n.Name, Template: n.TemplateName, Phase: string(n.Phase), Message: n.Message}
		if n.Outputs != nil && n.Outputs.ExitCode != nil {
			if c, err := strconv.Atoi(*n.Outputs.ExitCode); err == nil {
				sv.ExitCode = &c
			}
		}
		if !n.StartedAt.IsZero() && !n.FinishedAt.IsZero() {
			d := n.FinishedAt.Sub(n.StartedAt.Time).Seconds()
			sv.Duration = &d
		}
		steps = append(steps, sv)
	}
	return steps
}

// nodeDepths returns each node's longest distance from a node no other
// lists as a child, following the nodes' Children (a DAG task's children
// are the tasks that depend on it, as Argo records them).
func nodeDepths(nodes wfv1.Nodes) map[string]int {
	depth := make(map[string]int, len(nodes))
	// At most len(nodes) rounds settle every depth of an acyclic graph;
	// the bound keeps a malformed file from looping.
	for range len(nodes) {
		changed := false
		for id, n := range nodes {
			for _, c := range n.Children {
				if _, ok := nodes[c]; ok && depth[c] < depth[id]+1 {
					depth[c] = depth[id] + 1
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	return depth
}

// paramView is one parameter's value; Number is set for numeric ones.
type paramView struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Value  string   `json:"value"`
	Number *float64 `json:"number,omitempty"`
}

// metricView is one metric of a trial: the value its strategy chose
// (absent when never reported) and its summary.
type metricView struct {
	Name      string           `json:"name"`
	Objective bool             `json:"objective,omitempty"`
	Strategy  metrics.Strategy `json:"strategy"`
	Value     *float64         `json:"value,omitempty"`
	Min       *float64         `json:"min,omitempty"`
	Max       *float64         `json:"max,omitempty"`
	Latest    *float64         `json:"latest,omitempty"`
	Count     int              `json:"count"`
	// Text is the latest value reported as text (as DARTS's Best-Genotype).
	Text string `json:"text,omitempty"`
}

// historyEntry is one step of a trial's life.
type historyEntry struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
}

// logTailView is the end of one of a trial's log files.
type logTailView struct {
	Stream string `json:"stream"`
	Path   string `json:"path,omitempty"`
	// Tail holds the last lines; Omitted says earlier lines were left out.
	Tail    []string `json:"tail"`
	Omitted bool     `json:"omitted,omitempty"`
	// Capped says the runner cut the log at its size limit.
	Capped bool `json:"capped,omitempty"`
	// Error says why the log could not be read.
	Error string `json:"error,omitempty"`
}

func runDescribe(ctx context.Context, o *describeOptions) error {
	format, err := documentFormat(o.format)
	if err != nil {
		return err
	}
	st, err := o.f.readStore()
	if err != nil {
		return err
	}
	defer st.Close()
	rec, t, err := readTrial(ctx, st, o.experiment, o.trial)
	if err != nil {
		return err
	}
	logs, err := st.Logs(ctx, o.experiment, t.Name)
	if err != nil {
		return fmt.Errorf("trial %s: read observation log: %w", t.Name, err)
	}
	v := newDescribeView(rec, t, trialDir(st, t), logs)
	if format != output.Table {
		return writeData(o.f.io.Out, format, v, false)
	}
	return writeDescribe(o.f.io, &v)
}

func newDescribeView(rec *experiment.Record, t *trial.Trial, dir string, logs []metrics.Log) describeView {
	tab := results.New(rec, []trial.Trial{*t})
	row := &tab.Rows[0]
	v := describeView{
		Experiment: rec.Name, Name: t.Name, Seq: t.Seq, Status: t.State, Reason: t.Reason, Message: t.Message,
		ExitCode: t.ExitCode, Created: t.Created, Started: t.Started, Finished: t.Finished, Dir: dir,
		Parameters: []paramView{}, Metrics: []metricView{}, History: []historyEntry{}, Observe: logs,
		Curves: tab.Curves(logs),
	}
	for i, p := range tab.Space {
		pv := paramView{Name: p.Name, Type: string(p.Type), Value: row.Params[i].Text}
		if row.Params[i].Numeric {
			pv.Number = &row.Params[i].Num
		}
		v.Parameters = append(v.Parameters, pv)
	}
	for _, out := range rec.Spec.Outputs() { // the values a NAS algorithm adds
		if val, ok := t.Parameters[out.Name]; ok {
			v.Parameters = append(v.Parameters, paramView{Name: out.Name, Value: val})
		}
	}
	for _, m := range tab.Metrics {
		mv := metricView{Name: m, Objective: m == tab.Objective, Strategy: tab.Strategies[m]}
		if x, ok := row.Metrics[m]; ok {
			mv.Value = &x
		}
		if s, ok := t.Metrics[m]; ok && s.Count > 0 {
			mv.Min, mv.Max, mv.Latest, mv.Count = &s.Min, &s.Max, &s.Latest, s.Count
		}
		mv.Text = t.Metrics[m].Text
		v.Metrics = append(v.Metrics, mv)
	}
	for _, h := range []historyEntry{{"Created", t.Created}, {"Started", t.Started}, {string(t.State), t.Finished}} {
		if !h.Time.IsZero() {
			v.History = append(v.History, h)
		}
	}
	if !t.Started.IsZero() && !t.Finished.IsZero() {
		d := t.Finished.Sub(t.Started).Seconds()
		v.Duration = &d
	}
	v.Command = trialCommand(&rec.Spec, t)
	v.Steps = readSteps(dir)
	for _, stream := range []string{stdoutLog, stderrLog} {
		lt := logTailView{Stream: strings.TrimSuffix(stream, ".log"), Tail: []string{}}
		if dir == "" {
			lt.Error = "the trial has no directory"
			v.Logs = append(v.Logs, lt)
			continue
		}
		lt.Path = filepath.Join(dir, stream)
		lines, omitted, err := tailLines(lt.Path, describeTailLines)
		if err != nil {
			lt.Error = missingLogError(t, lt.Path, err).Error()
		} else {
			lt.Tail, lt.Omitted = lines, omitted
			lt.Capped = len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], truncatedNote)
		}
		v.Logs = append(v.Logs, lt)
	}
	return v
}

// trialCommand returns the argv of the primary container of trial t's
// rendered Job, as in the template after parameter substitution ($(VAR)
// references unexpanded); nil when the template is not a Job or cannot
// be rendered.
func trialCommand(e *experiment.Experiment, t *trial.Trial) []string {
	spec, err := e.TrialSpec(t.Name, t.Parameters, t.Dir)
	if err != nil || !manifest.IsKind(spec.Object, manifest.JobGVK) {
		return nil
	}
	data, err := json.Marshal(spec.Object)
	if err != nil {
		return nil
	}
	var job batchv1.Job
	if err := json.Unmarshal(data, &job); err != nil {
		return nil
	}
	c := manifest.PrimaryContainer(job.Spec.Template.Spec.Containers, spec.PrimaryContainer)
	if c == nil {
		return nil
	}
	return append(append([]string{}, c.Command...), c.Args...)
}

// shellQuote returns argv as one line a POSIX shell would split back
// into argv; for display only.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		safe := a != ""
		for _, r := range a {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
				safe = false
				break
			}
		}
		if safe {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// writeDescribe prints v in the manner of kubectl describe.
func writeDescribe(io IOStreams, v *describeView) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		fmt.Fprintf(tw, "%s:\t%s\n", name, escapeControl(value, false))
	}
	field("Name", v.Name)
	field("Experiment", v.Experiment)
	field("Status", string(v.Status))
	if v.Reason != "" {
		field("Reason", v.Reason)
	}
	if v.ExitCode != nil {
		field("Exit code", fmt.Sprint(*v.ExitCode))
	}
	if v.Duration != nil {
		field("Duration", (time.Duration(*v.Duration * float64(time.Second))).Round(time.Millisecond).String())
	}
	if v.Command != nil {
		field("Command", shellQuote(v.Command))
	}
	field("Directory", orDash(v.Dir))
	tw.Flush()
	if v.Message != "" {
		fmt.Fprintf(&b, "Message:\n%s\n", indent(escapeControl(v.Message, true)))
	}

	fmt.Fprintln(&b, "Parameters:")
	for _, p := range v.Parameters {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", escapeControl(p.Name, false), escapeControl(p.Value, false), p.Type)
	}
	tw.Flush()

	fmt.Fprintln(&b, "Metrics:")
	fmt.Fprintf(tw, "  NAME\tSTRATEGY\tVALUE\tMIN\tMAX\tLATEST\tCOUNT\tFIRST\tBEST\tLAST\tSTEPS\n")
	for _, m := range v.Metrics {
		name := escapeControl(m.Name, false)
		if m.Objective {
			name += " (objective)"
		}
		c, ok := v.Curves[m.Name]
		curve := []string{"-", "-", "-", "0"}
		if ok {
			curve = []string{formatValue(c.First), formatValue(c.Best), formatValue(c.Last), fmt.Sprint(c.Steps)}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", name, m.Strategy, optValue(m.Value), optValue(m.Min), optValue(m.Max), optValue(m.Latest), m.Count, strings.Join(curve, "\t"))
	}
	tw.Flush()
	for _, m := range v.Metrics {
		if m.Text != "" {
			fmt.Fprintf(&b, "  %s (text): %s\n", escapeControl(m.Name, false), escapeControl(m.Text, false))
		}
	}

	fmt.Fprintln(&b, "History:")
	var prev time.Time
	for _, h := range v.History {
		since := ""
		if !prev.IsZero() {
			since = "+" + h.Time.Sub(prev).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", h.Type, h.Time.UTC().Format(time.RFC3339Nano), since)
		prev = h.Time
	}
	tw.Flush()

	if len(v.Steps) > 0 {
		fmt.Fprintf(&b, "Steps (tune logs %s %d --step NAME):\n", v.Experiment, v.Seq)
		fmt.Fprintf(tw, "  NAME\tTEMPLATE\tPHASE\tDURATION\tEXIT\tMESSAGE\n")
		for _, st := range v.Steps {
			dur, code := "", ""
			if st.Duration != nil {
				dur = (time.Duration(*st.Duration * float64(time.Second))).Round(time.Millisecond).String()
			}
			if st.ExitCode != nil {
				code = strconv.Itoa(*st.ExitCode)
			}
			msg, _, _ := strings.Cut(st.Message, "\n")
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", escapeControl(st.Name, false), escapeControl(st.Template, false), st.Phase, dur, code, escapeControl(msg, false))
		}
		tw.Flush()
	}

	for _, l := range v.Logs {
		switch {
		case l.Error != "":
			fmt.Fprintf(&b, "%s: %s\n", strings.ToUpper(l.Stream[:1])+l.Stream[1:], escapeControl(l.Error, false))
			continue
		case len(l.Tail) == 0:
			fmt.Fprintf(&b, "%s (%s): empty\n", strings.ToUpper(l.Stream[:1])+l.Stream[1:], escapeControl(l.Path, false))
			continue
		}
		what := "whole log"
		if l.Omitted {
			what = fmt.Sprintf("last %d lines", len(l.Tail))
		}
		fmt.Fprintf(&b, "%s (%s, %s; tune logs %s %d%s):\n", strings.ToUpper(l.Stream[:1])+l.Stream[1:], escapeControl(l.Path, false), what,
			escapeControl(v.Experiment, false), v.Seq, map[bool]string{true: " --stderr"}[l.Stream == "stderr"])
		for _, line := range l.Tail {
			fmt.Fprintf(&b, "  %s\n", escapeControl(line, false))
		}
	}
	_, err := io.Out.Write(trailingSpace.ReplaceAll(b.Bytes(), []byte("\n")))
	return err
}

func optValue(p *float64) string {
	if p == nil {
		return "-"
	}
	return formatValue(*p)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// indent prefixes every line of s with two spaces.
func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
