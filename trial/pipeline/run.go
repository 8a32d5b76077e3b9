package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxResultSize bounds outputs.result, as Argo bounds a step's captured
// standard output.
const maxResultSize = 256 << 10

// runner is one run of a workflow.
type runner struct {
	wf     *wfv1.Workflow
	opts   Options
	name   string
	second time.Duration
	tmpls  map[string]*wfv1.Template
	global scope
	// volumes maps the run's shared volumes (volumeClaimTemplates,
	// emptyDir volumes) to their directories.
	volumes map[string]string
	podSem  chan struct{} // spec.parallelism; nil = unbounded
	outMu   sync.Mutex    // serialises primary steps' lines

	mu       sync.Mutex
	nodes    map[string]*wfv1.NodeStatus
	hostArts map[string]map[string]string // node ID -> artifact -> host path
	failures []failure                    // failed pod nodes, in finish order
	outputs  wfv1.Outputs                 // global outputs (globalName)
	globArts artScope                     // workflow.outputs.artifacts.G -> host path
	fatal    error                        // the first Launcher error
	inExit   bool                         // the exit handler runs
}

// failure is a failed pod node, for the run's message.
type failure struct {
	id                      string // the node's ID
	name, template, message string
	exit                    bool // in the exit handler
}

func newRunner(wf *wfv1.Workflow, opts Options) (*runner, error) {
	r := &runner{
		wf:       wf,
		opts:     opts,
		second:   opts.Second,
		tmpls:    make(map[string]*wfv1.Template, len(wf.Spec.Templates)),
		volumes:  map[string]string{},
		nodes:    map[string]*wfv1.NodeStatus{},
		hostArts: map[string]map[string]string{},
		globArts: artScope{},
	}
	if r.second <= 0 {
		r.second = time.Second
	}
	r.name = opts.Name
	if r.name == "" {
		r.name = wf.Name
	}
	if r.name == "" {
		r.name = "workflow"
	}
	for i := range wf.Spec.Templates {
		r.tmpls[wf.Spec.Templates[i].Name] = &wf.Spec.Templates[i]
	}
	r.global = scope{"workflow.name": r.name, "workflow.namespace": namespaceOf(wf), "workflow.uid": r.name}
	for _, p := range wf.Spec.Arguments.Parameters {
		if v := paramValue(p); v != nil {
			r.global["workflow.parameters."+p.Name] = *v
		}
	}
	for _, name := range volumeNames(wf) {
		dir := filepath.Join(opts.Dir, "volumes", sanitize(name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("pipeline: volume %s: %w", name, err)
		}
		r.volumes[name] = dir
	}
	if p := wf.Spec.Parallelism; p != nil && *p > 0 {
		r.podSem = make(chan struct{}, *p)
	}
	return r, nil
}

func namespaceOf(wf *wfv1.Workflow) string {
	if wf.Namespace != "" {
		return wf.Namespace
	}
	return "default"
}

// volumeNames lists the run's shared volumes.
func volumeNames(wf *wfv1.Workflow) []string {
	var names []string
	for _, v := range wf.Spec.VolumeClaimTemplates {
		names = append(names, v.Name)
	}
	for _, v := range wf.Spec.Volumes {
		names = append(names, v.Name)
	}
	return names
}

func paramValue(p wfv1.Parameter) *string {
	switch {
	case p.Value != nil:
		s := p.Value.String()
		return &s
	case p.Default != nil:
		s := p.Default.String()
		return &s
	}
	return nil
}

// nodeID returns the ID Argo gives the node named name: the workflow's
// name for the root, else the name's FNV-32a hash after the workflow's.
func (r *runner) nodeID(name string) string {
	if name == r.name {
		return r.name
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return fmt.Sprintf("%s-%v", r.name, h.Sum32())
}

// StepsDir is the sub-directory of a run's directory (Options.Dir) that
// holds one directory per step, named by StepDirName.
const StepsDir = "steps"

// StepDirName is the name of a node's directory under StepsDir: the node
// name with every character other than a letter, digit, ".", "_" or "-"
// replaced by "_", cut at 200 bytes.
func StepDirName(node string) string { return sanitize(node) }

// sanitize makes a node name a file name.
func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "." || s == ".." {
		s = "_"
	}
	return s
}

// call is one template invocation.
type call struct {
	name, display string
	template      string
	args          wfv1.Arguments
	artifacts     map[string]string // argument artifact name -> host path
	parent        string            // parent node ID; "" for none
	boundary      string
	depth         int // how many dag or steps templates enclose it
}

func (r *runner) newNode(c call, typ wfv1.NodeType) *wfv1.NodeStatus {
	now := metav1.Now()
	n := &wfv1.NodeStatus{
		ID:           r.nodeID(c.name),
		Name:         c.name,
		DisplayName:  c.display,
		Type:         typ,
		TemplateName: c.template,
		Phase:        wfv1.NodeRunning,
		BoundaryID:   c.boundary,
		StartedAt:    now,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodes[n.ID] = n
	if p := r.nodes[c.parent]; p != nil && !slices.Contains(p.Children, n.ID) {
		p.Children = append(p.Children, n.ID)
	}
	return n
}

// addChild records child as a child of parent.
func (r *runner) addChild(parent, child string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.nodes[parent]; p != nil && !slices.Contains(p.Children, child) {
		p.Children = append(p.Children, child)
	}
}

func (r *runner) finish(n *wfv1.NodeStatus, phase wfv1.NodePhase, msg string) *wfv1.NodeStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	n.Phase = phase
	n.Message = msg
	n.FinishedAt = metav1.Now()
	return n
}

// errorNode records node c as an Error that fails the run with msg.
func (r *runner) errorNode(c call, typ wfv1.NodeType, msg string) *wfv1.NodeStatus {
	r.recordFailure(c, msg)
	return r.finish(r.newNode(c, typ), wfv1.NodeError, msg)
}

func (r *runner) run(ctx context.Context) (*wfv1.Workflow, error) {
	start := metav1.Now()
	mainCtx := ctx
	if s := r.wf.Spec.ActiveDeadlineSeconds; s != nil && *s > 0 {
		var cancel context.CancelFunc
		mainCtx, cancel = context.WithTimeoutCause(ctx, time.Duration(*s)*r.second, &deadlineError{seconds: *s, what: "workflow"})
		defer cancel()
	}
	entry := call{name: r.name, display: r.name, template: r.wf.Spec.Entrypoint, args: r.wf.Spec.Arguments}
	root := r.execute(mainCtx, entry)
	phase, msg := root.Phase, ""
	if phase != wfv1.NodeSucceeded {
		msg = r.message(mainCtx, false)
	}
	if r.wf.Spec.OnExit != "" && r.fatalErr() == nil && ctx.Err() == nil {
		failures := r.failuresJSON()
		r.mu.Lock()
		r.inExit = true
		// The exit handler's steps see the run's outcome.
		r.global["workflow.status"] = string(phase)
		r.global["workflow.failures"] = failures
		r.global["workflow.duration"] = fmt.Sprintf("%f", time.Since(start.Time).Seconds())
		r.mu.Unlock()
		exit := r.execute(ctx, call{name: r.name + ".onExit", display: r.name + ".onExit", template: r.wf.Spec.OnExit})
		if exit.Phase != wfv1.NodeSucceeded && phase == wfv1.NodeSucceeded {
			phase, msg = exit.Phase, r.message(ctx, true)
		}
	}
	if err := r.fatalErr(); err != nil {
		return nil, err
	}
	out := r.wf
	out.Status = wfv1.WorkflowStatus{
		Phase:      wfv1.WorkflowPhase(phase),
		Message:    msg,
		StartedAt:  start,
		FinishedAt: metav1.Now(),
		Nodes:      wfv1.Nodes{},
	}
	if phase == wfv1.NodeError {
		out.Status.Phase = wfv1.WorkflowError
	}
	r.mu.Lock()
	if len(r.outputs.Parameters) > 0 || len(r.outputs.Artifacts) > 0 {
		out.Status.Outputs = r.outputs.DeepCopy()
	}
	for id, n := range r.nodes {
		out.Status.Nodes[id] = *n.DeepCopy()
	}
	r.mu.Unlock()
	return out, nil
}

// failuresJSON is {{workflow.failures}}: Argo's quoted JSON list of the
// failed and errored nodes, of every type (the controller lists them all:
// the workflow's own node and a retried step's retry node too).
func (r *runner) failuresJSON() string {
	type failed struct {
		DisplayName  string `json:"displayName"`
		Message      string `json:"message"`
		TemplateName string `json:"templateName"`
		Phase        string `json:"phase"`
		PodName      string `json:"podName"`
		FinishedAt   string `json:"finishedAt"`
	}
	r.mu.Lock()
	var list []failed
	for _, n := range r.nodes {
		if n.Phase.FailedOrError() {
			list = append(list, failed{n.DisplayName, n.Message, n.TemplateName, string(n.Phase), n.ID, n.FinishedAt.UTC().Format(time.RFC3339)})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(list, func(a, b failed) int { return strings.Compare(a.FinishedAt+a.PodName, b.FinishedAt+b.PodName) })
	b, _ := json.Marshal(list)
	if list == nil {
		b = []byte("[]")
	}
	return strconv.Quote(string(b))
}

// globals returns a copy of the workflow-wide tags, global outputs
// included.
func (r *runner) globals() scope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.global.with(nil)
}

// export records a finished node's outputs that have a globalName.
func (r *runner) export(t *wfv1.Template, n *wfv1.NodeStatus, host map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n.Outputs == nil {
		return
	}
	for _, p := range t.Outputs.Parameters {
		if p.GlobalName == "" {
			continue
		}
		for _, o := range n.Outputs.Parameters {
			if o.Name == p.Name && o.Value != nil {
				r.global["workflow.outputs.parameters."+p.GlobalName] = o.Value.String()
				r.outputs.Parameters = slices.DeleteFunc(r.outputs.Parameters, func(x wfv1.Parameter) bool { return x.Name == p.GlobalName })
				r.outputs.Parameters = append(r.outputs.Parameters, wfv1.Parameter{Name: p.GlobalName, Value: o.Value})
			}
		}
	}
	for _, a := range t.Outputs.Artifacts {
		if h, ok := host[a.Name]; ok && a.GlobalName != "" {
			r.globArts["workflow.outputs.artifacts."+a.GlobalName] = h
			r.outputs.Artifacts = append(r.outputs.Artifacts, wfv1.Artifact{Name: a.GlobalName, Path: a.Path})
		}
	}
}

// globalArtifact returns the host path of a global output artifact.
func (r *runner) globalArtifact(ref string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.globArts[ref]
	return p, ok
}

func (r *runner) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// message says why the run failed: the step that failed it, or why it was
// stopped.
func (r *runner) message(ctx context.Context, exit bool) string {
	if ctx.Err() != nil {
		var dl *deadlineError
		if cause := context.Cause(ctx); errors.As(cause, &dl) {
			return dl.Error()
		} else if cause != nil {
			return "stopped: " + cause.Error()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	root := r.nodes[r.nodeID(r.name)]
	if exit {
		root = r.nodes[r.nodeID(r.name+".onExit")]
	}
	// Follow the "child 'ID' failed" messages down to the node that failed
	// the run, and name the last step that failed below it: not a failure
	// a continueOn or a depends expression let pass.
	culprit := root
	for culprit != nil {
		id, ok := strings.CutPrefix(culprit.Message, "child '")
		if !ok {
			break
		}
		id, _, _ = strings.Cut(id, "'")
		next := r.nodes[id]
		if next == nil {
			break
		}
		culprit = next
	}
	below := map[string]bool{}
	var mark func(n *wfv1.NodeStatus)
	mark = func(n *wfv1.NodeStatus) {
		if n == nil || below[n.ID] {
			return
		}
		below[n.ID] = true
		switch n.Type {
		case wfv1.NodeTypeRetry, wfv1.NodeTypeTaskGroup:
			// Its attempts or items; its other children are dependents.
			for _, id := range n.Children {
				if c := r.nodes[id]; c != nil && strings.HasPrefix(c.Name, n.Name+"(") {
					mark(c)
				}
			}
		case wfv1.NodeTypeDAG, wfv1.NodeTypeSteps:
			for _, m := range r.nodes {
				if m.BoundaryID == n.ID {
					mark(m)
				}
			}
		}
	}
	if culprit != nil && culprit != root {
		mark(culprit)
	}
	for _, pass := range []bool{true, false} {
		for i := len(r.failures) - 1; i >= 0; i-- {
			if f := r.failures[i]; f.exit == exit && (!pass || below[f.id]) {
				return fmt.Sprintf("step %s (template %s) failed: %s", f.name, f.template, f.message)
			}
		}
	}
	if root != nil && root.Message != "" {
		return root.Message
	}
	return "workflow failed"
}

// execute runs c's template as node c.name and returns the finished node.
func (r *runner) execute(ctx context.Context, c call) *wfv1.NodeStatus {
	t := r.tmpls[c.template]
	params, err := resolveInputs(t, &c.args)
	typ := nodeType(t)
	if err != nil {
		return r.errorNode(c, typ, err.Error())
	}
	sc := r.globals()
	for k, v := range params {
		// An input's own value or default may use the workflow's tags.
		sc["inputs.parameters."+k] = sc.replace(v)
	}
	if t.RetryStrategy == nil {
		return r.body(ctx, c, t, sc)
	}
	retry := r.newNode(c, wfv1.NodeTypeRetry)
	limit := retryLimit(t.RetryStrategy)
	var last *wfv1.NodeStatus
	for i := 0; ; i++ {
		attempt := c
		attempt.name = fmt.Sprintf("%s(%d)", c.name, i)
		attempt.display = fmt.Sprintf("%s(%d)", c.display, i)
		attempt.parent = retry.ID
		// {{retries}} is the attempt's number, from 0.
		last = r.body(ctx, attempt, t, sc.with(scope{"retries": strconv.Itoa(i)}))
		if last.Phase == wfv1.NodeSucceeded || ctx.Err() != nil || r.fatalErr() != nil ||
			i >= limit || !retryable(t.RetryStrategy.RetryPolicy, last.Phase) {
			break
		}
		if !r.backoff(ctx, t.RetryStrategy.Backoff, i) {
			break
		}
	}
	r.mu.Lock()
	retry.Outputs = last.Outputs.DeepCopy()
	r.hostArts[retry.ID] = r.hostArts[last.ID]
	r.mu.Unlock()
	msg := last.Message
	if last.Phase != wfv1.NodeSucceeded && ctx.Err() == nil && limit > 0 {
		msg = "No more retries left"
	}
	return r.finish(retry, last.Phase, msg)
}

func nodeType(t *wfv1.Template) wfv1.NodeType {
	switch {
	case t.DAG != nil:
		return wfv1.NodeTypeDAG
	case t.Steps != nil:
		return wfv1.NodeTypeSteps
	}
	return wfv1.NodeTypePod
}

// retryLimit is how many retries a retry strategy allows; no limit means
// Argo's "retry forever", capped here at 100.
func retryLimit(s *wfv1.RetryStrategy) int {
	if s.Limit == nil {
		return 100
	}
	n, err := strconv.Atoi(s.Limit.String())
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// retryable reports whether a node that ended in phase is retried under
// policy, Argo's default being OnFailure.
func retryable(policy wfv1.RetryPolicy, phase wfv1.NodePhase) bool {
	switch policy {
	case wfv1.RetryPolicyAlways:
		return phase == wfv1.NodeFailed || phase == wfv1.NodeError
	case wfv1.RetryPolicyOnError, wfv1.RetryPolicyOnTransientError:
		return phase == wfv1.NodeError
	default:
		return phase == wfv1.NodeFailed
	}
}

// backoff waits before retry i+1: duration × factor^i, at most cap.
// It returns false when ctx is done first.
func (r *runner) backoff(ctx context.Context, b *wfv1.Backoff, i int) bool {
	if b == nil || b.Duration == "" {
		return ctx.Err() == nil
	}
	d := r.duration(b.Duration)
	if b.Factor != nil {
		if f, err := strconv.ParseFloat(b.Factor.String(), 64); err == nil && f > 1 {
			for range i {
				d = time.Duration(float64(d) * f)
			}
		}
	}
	if b.Cap != "" {
		d = min(d, r.duration(b.Cap))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// duration parses Argo's duration string ("30s", "2m", or seconds) in
// units of r.second.
func (r *runner) duration(s string) time.Duration {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(r.second))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return time.Duration(float64(d) / float64(time.Second) * float64(r.second))
}

// resolveInputs returns a template's input parameters from the call's
// arguments, the template's own values and defaults.
func resolveInputs(t *wfv1.Template, args *wfv1.Arguments) (map[string]string, error) {
	params := make(map[string]string, len(t.Inputs.Parameters))
	for _, p := range t.Inputs.Parameters {
		if a := args.GetParameterByName(p.Name); a != nil && a.Value != nil {
			params[p.Name] = a.Value.String()
			continue
		}
		if p.Value != nil {
			params[p.Name] = p.Value.String()
			continue
		}
		if p.Default != nil {
			params[p.Name] = p.Default.String()
			continue
		}
		return nil, fmt.Errorf("inputs.parameters.%s was not supplied", p.Name)
	}
	return params, nil
}

// body runs one attempt of template t.
func (r *runner) body(ctx context.Context, c call, t *wfv1.Template, sc scope) *wfv1.NodeStatus {
	if s := t.ActiveDeadlineSeconds; s != nil {
		if n, err := strconv.Atoi(s.String()); err == nil && n > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, time.Duration(n)*r.second, &deadlineError{seconds: int64(n), what: "step"})
			defer cancel()
		}
	}
	if t.Timeout != "" {
		if d := r.duration(sc.replace(t.Timeout)); d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, d, &deadlineError{seconds: int64(d / r.second), what: "step"})
			defer cancel()
		}
	}
	switch {
	case t.DAG != nil:
		return r.dag(ctx, c, t, sc)
	case t.Steps != nil:
		return r.steps(ctx, c, t, sc)
	}
	return r.pod(ctx, c, t, sc)
}

// outputsScope returns the tags a finished node's outputs give under
// prefix (tasks.T or steps.S).
func outputsScope(prefix string, n *wfv1.NodeStatus) scope {
	sc := scope{prefix + ".status": string(n.Phase), prefix + ".id": n.ID}
	if n.Outputs == nil {
		return sc
	}
	for _, p := range n.Outputs.Parameters {
		if p.Value != nil {
			sc[prefix+".outputs.parameters."+p.Name] = p.Value.String()
		}
	}
	if n.Outputs.Result != nil {
		sc[prefix+".outputs.result"] = *n.Outputs.Result
	}
	if n.Outputs.ExitCode != nil {
		sc[prefix+".exitCode"] = *n.Outputs.ExitCode
	}
	return sc
}

// groupScope returns the tags of an expanded task or step, from its
// succeeded children in item order, as Argo aggregates them: outputs.result
// a JSON list of the results, outputs.parameters a JSON list of one
// name→value map per child, outputs.parameters.p a JSON list of p's values
// (decoded when every value is a JSON list or object, strings otherwise).
func groupScope(prefix string, children []*wfv1.NodeStatus) scope {
	maps := []map[string]string{}
	values := map[string][]string{}
	var results []string
	for _, n := range children {
		if n.Outputs == nil || n.Phase != wfv1.NodeSucceeded {
			continue
		}
		if len(n.Outputs.Parameters) > 0 {
			m := map[string]string{}
			for _, p := range n.Outputs.Parameters {
				if p.Value == nil {
					continue
				}
				m[p.Name] = p.Value.String()
				values[p.Name] = append(values[p.Name], p.Value.String())
			}
			maps = append(maps, m)
		}
		if n.Outputs.Result != nil {
			results = append(results, *n.Outputs.Result)
		}
	}
	sc := scope{}
	b, _ := json.Marshal(maps)
	sc[prefix+".outputs.parameters"] = string(b)
	for name, vs := range values {
		sc[prefix+".outputs.parameters."+name] = valueList(vs)
	}
	sc[prefix+".outputs.result"] = jsonList(results)
	return sc
}

// valueList is Argo's aggregatedJSONValueList.
func valueList(values []string) string {
	decoded := make([]any, 0, len(values))
	for _, v := range values {
		var x any
		if json.Unmarshal([]byte(v), &x) != nil {
			decoded = nil
			break
		}
		switch x.(type) {
		case []any, map[string]any:
			decoded = append(decoded, x)
			continue
		}
		decoded = nil
		break
	}
	var b []byte
	if decoded != nil {
		b, _ = json.Marshal(decoded)
	} else {
		b, _ = json.Marshal(values)
	}
	return string(b)
}

// jsonList writes results as a JSON list, results that are JSON themselves
// kept as such.
func jsonList(values []string) string {
	items := make([]json.RawMessage, len(values))
	for i, v := range values {
		if json.Valid([]byte(v)) && strings.TrimSpace(v) != "" {
			items[i] = json.RawMessage(v)
		} else {
			b, _ := json.Marshal(v)
			items[i] = b
		}
	}
	b, _ := json.Marshal(items)
	return string(b)
}

// expand returns the items of a task or step: withItems, withParam (a
// JSON list after substitution) or withSequence; nil, false when it has
// none.
func expandItems(items []wfv1.Item, param string, seq *wfv1.Sequence, sc scope) ([]wfv1.Item, bool, error) {
	switch {
	case len(items) > 0:
		return items, true, nil
	case param != "":
		text := sc.replace(param)
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(text), &list); err != nil {
			return nil, true, fmt.Errorf("withParam value could not be parsed as a JSON list: %s", strings.TrimSpace(text))
		}
		out := make([]wfv1.Item, len(list))
		for i, raw := range list {
			out[i] = wfv1.Item{Value: raw}
		}
		return out, true, nil
	case seq != nil:
		s, err := substitute(seq, sc)
		if err != nil {
			return nil, true, err
		}
		out, err := expandSequence(s)
		return out, true, err
	}
	return nil, false, nil
}

func expandSequence(seq *wfv1.Sequence) ([]wfv1.Item, error) {
	atoi := func(field string, v fmt.Stringer) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v.String()))
		if err != nil {
			return 0, fmt.Errorf("withSequence.%s %q is not an integer", field, v.String())
		}
		return n, nil
	}
	var start, end int
	var err error
	if seq.Start != nil {
		if start, err = atoi("start", seq.Start); err != nil {
			return nil, err
		}
	}
	switch {
	case seq.End != nil:
		if end, err = atoi("end", seq.End); err != nil {
			return nil, err
		}
	case seq.Count != nil:
		count, err := atoi("count", seq.Count)
		if err != nil {
			return nil, err
		}
		if count <= 0 {
			return nil, nil
		}
		end = start + count - 1
	default:
		return nil, errors.New("withSequence has neither end nor count")
	}
	format := seq.Format
	if format == "" {
		format = "%d"
	}
	var items []wfv1.Item
	step := 1
	if start > end {
		step = -1
	}
	for i := start; ; i += step {
		b, _ := json.Marshal(fmt.Sprintf(format, i))
		items = append(items, wfv1.Item{Value: b})
		if i == end || len(items) > 100000 {
			break
		}
	}
	return items, nil
}

// itemScope returns the tags of an item: {{item}} and, for a map,
// {{item.key}}.
func itemScope(item wfv1.Item) scope {
	sc := scope{"item": item.String()}
	var m map[string]json.RawMessage
	if json.Unmarshal(item.Value, &m) == nil {
		for k, v := range m {
			it := wfv1.Item{Value: v}
			sc["item."+k] = it.String()
		}
	}
	return sc
}

// itemName is Argo's name of an expanded node: name(i:item), without
// parentheses inside the item.
func itemName(name string, i int, item wfv1.Item) string {
	desc := strings.NewReplacer("(", "", ")", "").Replace(item.String())
	return fmt.Sprintf("%s(%d:%s)", name, i, desc)
}
