package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// task is a DAG task or a step: what both have in common.
type task struct {
	name, template string
	args           wfv1.Arguments
	items          []wfv1.Item
	param          string
	seq            *wfv1.Sequence
	when           string
	continueOn     *wfv1.ContinueOn
}

func dagTask(t *wfv1.DAGTask) task {
	return task{name: t.Name, template: t.Template, args: t.Arguments, items: t.WithItems, param: t.WithParam, seq: t.WithSequence, when: t.When, continueOn: t.ContinueOn}
}

func stepTask(s *wfv1.WorkflowStep) task {
	return task{name: s.Name, template: s.Template, args: s.Arguments, items: s.WithItems, param: s.WithParam, seq: s.WithSequence, when: s.When, continueOn: s.ContinueOn}
}

// maxDepth bounds how deep templates nest, so that a recursion whose when
// never turns false ends.
const maxDepth = 100

// continues reports whether a task's failure in phase is allowed.
func continues(c *wfv1.ContinueOn, phase wfv1.NodePhase) bool {
	return c != nil && (phase == wfv1.NodeFailed && c.Failed || phase == wfv1.NodeError && c.Error)
}

// artScope maps artifact references (tasks.T.outputs.artifacts.a,
// inputs.artifacts.a) to host paths.
type artScope map[string]string

// nodeArtifacts returns the artifact references of a finished node under
// prefix.
func (r *runner) nodeArtifacts(prefix string, n *wfv1.NodeStatus) artScope {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := artScope{}
	for name, p := range r.hostArts[n.ID] {
		out[prefix+".outputs.artifacts."+name] = p
	}
	return out
}

// limiter bounds how many children of a template run at once (its
// parallelism); nil means no bound.
type limiter chan struct{}

func newLimiter(p *int64) limiter {
	if p == nil || *p <= 0 {
		return nil
	}
	return make(limiter, *p)
}

func (l limiter) acquire(ctx context.Context) bool {
	if l == nil {
		return true
	}
	select {
	case l <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (l limiter) release() {
	if l != nil {
		<-l
	}
}

// runTask runs a task or step named name (display its display name) under
// parent. An expanded DAG task gets a TaskGroup node (group true); an
// expanded step's children go straight under parent. It returns the task's
// node (nil for an expanded step) and its children when expanded.
func (r *runner) runTask(ctx context.Context, depth int, tk task, name, display, parent, boundary string, sc scope, arts artScope, group bool, lim limiter) (*wfv1.NodeStatus, []*wfv1.NodeStatus) {
	items, expanded, err := expandItems(tk.items, tk.param, tk.seq, sc)
	if err != nil {
		n := r.newNode(call{name: name, display: display, template: tk.template, parent: parent, boundary: boundary}, wfv1.NodeTypeSkipped)
		return r.finish(n, wfv1.NodeError, err.Error()), nil
	}
	if !expanded {
		return r.runOne(ctx, depth, tk, name, display, parent, boundary, sc, arts, lim), nil
	}
	groupParent := parent
	var g *wfv1.NodeStatus
	if group {
		g = r.newNode(call{name: name, display: display, template: tk.template, parent: parent, boundary: boundary}, wfv1.NodeTypeTaskGroup)
		groupParent = g.ID
		if len(items) == 0 {
			return r.finish(g, wfv1.NodeSkipped, "Skipped, empty params"), nil
		}
	}
	children := make([]*wfv1.NodeStatus, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Go(func() {
			isc := sc.with(itemScope(item))
			children[i] = r.runOne(ctx, depth, tk, itemName(name, i, item), itemName(tk.name, i, item), groupParent, boundary, isc, arts, lim)
		})
	}
	wg.Wait()
	if g == nil {
		return nil, children
	}
	phase, msg := wfv1.NodeSucceeded, ""
	for _, c := range children {
		if c.Phase.FailedOrError() && !continues(tk.continueOn, c.Phase) {
			phase, msg = wfv1.NodeFailed, fmt.Sprintf("child '%s' failed", c.ID)
			break
		}
	}
	return r.finish(g, phase, msg), children
}

// runOne runs one (possibly expanded) task: its when, its arguments,
// then its template.
func (r *runner) runOne(ctx context.Context, depth int, tk task, name, display, parent, boundary string, sc scope, arts artScope, lim limiter) *wfv1.NodeStatus {
	c := call{name: name, display: display, template: tk.template, parent: parent, boundary: boundary, depth: depth}
	if depth > maxDepth {
		return r.errorNode(c, wfv1.NodeTypeSkipped, fmt.Sprintf("templates nested more than %d deep (a recursion that does not end?)", maxDepth))
	}
	if tk.when != "" {
		when := sc.replace(tk.when)
		ok, err := evalWhen(when)
		if err != nil {
			return r.errorNode(c, wfv1.NodeTypeSkipped, err.Error())
		}
		if !ok {
			return r.finish(r.newNode(c, wfv1.NodeTypeSkipped), wfv1.NodeSkipped, fmt.Sprintf("when '%s' evaluated false", when))
		}
	}
	args, err := substitute(&tk.args, sc)
	if err != nil {
		return r.errorNode(c, wfv1.NodeTypeSkipped, err.Error())
	}
	for _, p := range args.Parameters {
		if p.Value != nil {
			if tag := unresolved(p.Value.String()); tag != "" {
				return r.errorNode(c, nodeType(r.tmpls[tk.template]), fmt.Sprintf("failed to resolve %s in argument %s", tag, p.Name))
			}
		}
	}
	c.args = *args
	c.artifacts = map[string]string{}
	for _, a := range args.Artifacts {
		if a.From == "" {
			continue
		}
		ref := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a.From), "{{"), "}}"))
		p, ok := arts[ref]
		if !ok {
			p, ok = r.globalArtifact(ref)
		}
		if !ok {
			return r.errorNode(c, nodeType(r.tmpls[tk.template]), fmt.Sprintf("artifact %s: %s is not an artifact of a finished task", a.Name, a.From))
		}
		if a.SubPath != "" {
			p = filepath.Join(p, filepath.FromSlash(a.SubPath))
		}
		c.artifacts[a.Name] = p
	}
	if !lim.acquire(ctx) {
		return r.finish(r.newNode(c, nodeType(r.tmpls[tk.template])), wfv1.NodeFailed, "stopped before start")
	}
	defer lim.release()
	return r.execute(ctx, c)
}

// dag runs a dag template: each task once its dependencies are fulfilled
// and its depends expression holds (Omitted otherwise), as Argo's DAG
// does.
func (r *runner) dag(ctx context.Context, c call, t *wfv1.Template, sc scope) *wfv1.NodeStatus {
	node := r.newNode(c, wfv1.NodeTypeDAG)
	arts := r.inputArtifacts(c)
	tasks := t.DAG.Tasks
	byName := make(map[string]*wfv1.DAGTask, len(tasks))
	for i := range tasks {
		byName[tasks[i].Name] = &tasks[i]
	}
	continueOn := func(name string) *wfv1.ContinueOn {
		if tk := byName[name]; tk != nil {
			return tk.ContinueOn
		}
		return nil
	}
	logic := make(map[string]string, len(tasks))
	deps := make(map[string][]string, len(tasks))
	dependents := map[string]bool{}
	for _, tk := range tasks {
		logic[tk.Name], deps[tk.Name] = dependsLogic(tk.Depends, tk.Dependencies, continueOn)
		for _, d := range deps[tk.Name] {
			dependents[d] = true
		}
	}
	targets := strings.Fields(strings.ReplaceAll(sc.replace(t.DAG.Target), ",", " "))
	// With targets, only they and what they depend on run, as in Argo
	// (the dag-targets example: target E of A -> C -> E skips B and D).
	needed := map[string]bool{}
	var need func(string)
	need = func(n string) {
		if needed[n] {
			return
		}
		needed[n] = true
		for _, d := range deps[n] {
			need(d)
		}
	}
	for _, tg := range targets {
		need(tg)
	}
	if len(targets) == 0 {
		for _, tk := range tasks {
			if !dependents[tk.Name] {
				targets = append(targets, tk.Name)
			}
		}
	}
	failFast := t.DAG.FailFast == nil || *t.DAG.FailFast
	lim := newLimiter(t.Parallelism)

	var mu sync.Mutex // guards done, taskScope, arts below
	done := map[string]*wfv1.NodeStatus{}
	children := map[string][]*wfv1.NodeStatus{}
	taskScope := scope{}
	finished := make(chan string)
	running := 0
	stop := false
	started := map[string]bool{}

	start := func(tk *wfv1.DAGTask) {
		// Root tasks are children of the DAG node, the others of each of
		// their dependencies, as in Argo's node tree.
		pid := node.ID
		if len(deps[tk.Name]) > 0 {
			pid = ""
		}
		name := c.name + "." + tk.Name
		mu.Lock()
		var depIDs []string
		for _, d := range deps[tk.Name] {
			depIDs = append(depIDs, done[d].ID)
		}
		tsc := sc.with(taskScope)
		tarts := artScope{}
		for k, v := range arts {
			tarts[k] = v
		}
		mu.Unlock()
		running++
		go func() {
			n, kids := r.runTask(ctx, c.depth+1, dagTask(tk), name, tk.Name, pid, node.ID, tsc, tarts, true, lim)
			for _, id := range depIDs {
				r.addChild(id, n.ID)
			}
			mu.Lock()
			done[tk.Name] = n
			children[tk.Name] = kids
			prefix := "tasks." + tk.Name
			for k, v := range outputsScope(prefix, n) {
				taskScope[k] = v
			}
			if kids != nil {
				for k, v := range groupScope(prefix, kids) {
					taskScope[k] = v
				}
			}
			for k, v := range r.nodeArtifacts(prefix, n) {
				arts[k] = v
			}
			mu.Unlock()
			finished <- tk.Name
		}()
	}

	for {
		progress := true
		for progress && !stop && ctx.Err() == nil && r.fatalErr() == nil {
			progress = false
			for i := range tasks {
				tk := &tasks[i]
				if started[tk.Name] || len(needed) > 0 && !needed[tk.Name] {
					continue
				}
				mu.Lock()
				ready := true
				results := map[string]taskResults{}
				for _, d := range deps[tk.Name] {
					n := done[d]
					if n == nil {
						ready = false
						break
					}
					results[d] = resultsOf(n, children[d])
				}
				mu.Unlock()
				if !ready {
					continue
				}
				started[tk.Name] = true
				progress = true
				ok, err := evalDepends(logic[tk.Name], results)
				if err != nil || !ok {
					phase, msg := wfv1.NodeOmitted, "omitted: depends condition not met"
					if err != nil {
						phase, msg = wfv1.NodeError, err.Error()
					}
					n := r.newNode(call{name: c.name + "." + tk.Name, display: tk.Name, template: tk.Template, boundary: node.ID}, wfv1.NodeTypeSkipped)
					r.finish(n, phase, msg)
					mu.Lock()
					for _, d := range deps[tk.Name] {
						r.addChild(done[d].ID, n.ID)
					}
					done[tk.Name] = n
					mu.Unlock()
					continue
				}
				start(tk)
			}
		}
		if running == 0 {
			break
		}
		<-finished
		running--
		if failFast {
			mu.Lock()
			phase, _ := assessDAG(tasks, targets, deps, done)
			mu.Unlock()
			if phase.FailedOrError() {
				stop = true
			}
		}
	}
	phase, failed := assessDAG(tasks, targets, deps, done)
	if phase == wfv1.NodeRunning || ctx.Err() != nil && phase == wfv1.NodeSucceeded {
		// Tasks never started: the run was stopped.
		phase = wfv1.NodeFailed
	}
	msg := ""
	if failed != nil {
		msg = fmt.Sprintf("child '%s' failed", failed.ID)
	} else if phase != wfv1.NodeSucceeded {
		msg = "stopped"
	}
	if phase == wfv1.NodeSucceeded {
		if err := r.templateOutputs(node, t, sc.with(taskScope), arts); err != nil {
			phase, msg = wfv1.NodeError, err.Error()
		}
	}
	return r.finish(node, phase, msg)
}

// resultsOf is what a depends expression sees of a finished task.
func resultsOf(n *wfv1.NodeStatus, children []*wfv1.NodeStatus) taskResults {
	res := taskResults{
		Succeeded: n.Phase == wfv1.NodeSucceeded,
		Failed:    n.Phase == wfv1.NodeFailed,
		Errored:   n.Phase == wfv1.NodeError,
		Skipped:   n.Phase == wfv1.NodeSkipped,
		Omitted:   n.Phase == wfv1.NodeOmitted,
	}
	if n.Type == wfv1.NodeTypeTaskGroup {
		res.AllFailed = len(children) > 0
		for _, c := range children {
			res.AnySucceeded = res.AnySucceeded || c.Phase == wfv1.NodeSucceeded
			res.AllFailed = res.AllFailed && c.Phase == wfv1.NodeFailed
		}
	}
	return res
}

// assessDAG is Argo's DAG phase: each target task's branch phase (its own
// when it completed, else the worst of its dependencies', Failed and Error
// winning over Succeeded) decides; a target whose failure its continueOn
// allows does not fail the DAG. A target not yet decided keeps the DAG
// Running. It also returns the first failed node that decided.
func assessDAG(tasks []wfv1.DAGTask, targets []string, deps map[string][]string, done map[string]*wfv1.NodeStatus) (wfv1.NodePhase, *wfv1.NodeStatus) {
	byName := map[string]*wfv1.DAGTask{}
	for i := range tasks {
		byName[tasks[i].Name] = &tasks[i]
	}
	memo := map[string]wfv1.NodePhase{}
	culprit := map[string]*wfv1.NodeStatus{}
	var branch func(name string, depth int) wfv1.NodePhase
	branch = func(name string, depth int) wfv1.NodePhase {
		if p, ok := memo[name]; ok {
			return p
		}
		n := done[name]
		if n == nil {
			return ""
		}
		if n.Phase.Completed() || depth > len(tasks) {
			memo[name] = n.Phase
			culprit[name] = n
			return n.Phase
		}
		phase := wfv1.NodeSucceeded
		for _, d := range deps[name] {
			p := branch(d, depth+1)
			if p.FailedOrError() && !phase.FailedOrError() {
				phase = p
				culprit[name] = culprit[d]
			}
		}
		memo[name] = phase
		return phase
	}
	result := wfv1.NodeSucceeded
	var failed *wfv1.NodeStatus
	for _, name := range targets {
		p := branch(name, 0)
		switch {
		case p == "":
			if !result.FailedOrError() {
				result = wfv1.NodeRunning
			}
		case p.FailedOrError():
			if tk := byName[name]; tk != nil && continues(tk.ContinueOn, p) {
				continue
			}
			if !result.FailedOrError() {
				result, failed = p, culprit[name]
			}
		}
	}
	return result, failed
}

// steps runs a steps template: each group after the one before, the steps
// of a group in parallel.
func (r *runner) steps(ctx context.Context, c call, t *wfv1.Template, sc scope) *wfv1.NodeStatus {
	node := r.newNode(c, wfv1.NodeTypeSteps)
	arts := r.inputArtifacts(c)
	stepScope := scope{}
	lim := newLimiter(t.Parallelism)
	prev := node.ID
	for i, group := range t.Steps {
		gname := fmt.Sprintf("%s[%d]", c.name, i)
		g := r.newNode(call{name: gname, display: fmt.Sprintf("[%d]", i), template: c.template, parent: prev, boundary: node.ID}, wfv1.NodeTypeStepGroup)
		prev = g.ID
		gsc := sc.with(stepScope)
		garts := artScope{}
		for k, v := range arts {
			garts[k] = v
		}
		type outcome struct {
			n    *wfv1.NodeStatus
			kids []*wfv1.NodeStatus
		}
		outs := make([]outcome, len(group.Steps))
		var wg sync.WaitGroup
		for j := range group.Steps {
			st := &group.Steps[j]
			wg.Go(func() {
				n, kids := r.runTask(ctx, c.depth+1, stepTask(st), gname+"."+st.Name, st.Name, g.ID, node.ID, gsc, garts, false, lim)
				outs[j] = outcome{n, kids}
			})
		}
		wg.Wait()
		var failed *wfv1.NodeStatus
		for j, o := range outs {
			st := &group.Steps[j]
			prefix := "steps." + st.Name
			nodes := o.kids
			if o.n != nil {
				nodes = []*wfv1.NodeStatus{o.n}
				for k, v := range outputsScope(prefix, o.n) {
					stepScope[k] = v
				}
				for k, v := range r.nodeArtifacts(prefix, o.n) {
					arts[k] = v
				}
			} else {
				for k, v := range groupScope(prefix, o.kids) {
					stepScope[k] = v
				}
			}
			for _, n := range nodes {
				if failed == nil && n.Phase.FailedOrError() && !continues(st.ContinueOn, n.Phase) {
					failed = n
				}
			}
		}
		if failed != nil {
			msg := fmt.Sprintf("child '%s' failed", failed.ID)
			r.finish(g, wfv1.NodeFailed, msg)
			return r.finish(node, wfv1.NodeFailed, msg)
		}
		r.finish(g, wfv1.NodeSucceeded, "")
		if ctx.Err() != nil {
			return r.finish(node, wfv1.NodeFailed, "stopped")
		}
	}
	if err := r.templateOutputs(node, t, sc.with(stepScope), arts); err != nil {
		return r.finish(node, wfv1.NodeError, err.Error())
	}
	return r.finish(node, wfv1.NodeSucceeded, "")
}

// inputArtifacts returns the artifact references a dag or steps template
// passes on: {{inputs.artifacts.a}}.
func (r *runner) inputArtifacts(c call) artScope {
	out := artScope{}
	for name, p := range c.artifacts {
		out["inputs.artifacts."+name] = p
	}
	return out
}

// templateOutputs sets a dag or steps node's outputs: parameters from
// valueFrom.parameter (or a value), artifacts from a task's (from).
func (r *runner) templateOutputs(n *wfv1.NodeStatus, t *wfv1.Template, sc scope, arts artScope) error {
	if len(t.Outputs.Parameters) == 0 && len(t.Outputs.Artifacts) == 0 {
		return nil
	}
	out := &wfv1.Outputs{}
	host := map[string]string{}
	for _, p := range t.Outputs.Parameters {
		var v string
		switch {
		case p.ValueFrom != nil && p.ValueFrom.Parameter != "":
			v = sc.replace(p.ValueFrom.Parameter)
		case p.Value != nil:
			v = sc.replace(p.Value.String())
		}
		if tag := unresolved(v); tag != "" {
			if p.ValueFrom != nil && p.ValueFrom.Default != nil {
				v = p.ValueFrom.Default.String()
			} else {
				return fmt.Errorf("outputs.parameters.%s: failed to resolve %s", p.Name, tag)
			}
		}
		out.Parameters = append(out.Parameters, wfv1.Parameter{Name: p.Name, Value: wfv1.AnyStringPtr(v)})
	}
	for _, a := range t.Outputs.Artifacts {
		ref := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a.From), "{{"), "}}"))
		p, ok := arts[ref]
		if !ok {
			if a.Optional {
				continue
			}
			return fmt.Errorf("outputs.artifacts.%s: %s is not an artifact of a finished step", a.Name, a.From)
		}
		host[a.Name] = p
		out.Artifacts = append(out.Artifacts, wfv1.Artifact{Name: a.Name, From: a.From})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n.Outputs = out
	r.hostArts[n.ID] = host
	return nil
}
