package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/trial"
)

// ScriptPath is where Argo puts a script template's source in the step's
// container; Argo appends it to the container's args.
const ScriptPath = "/argo/staging/script"

// stderrTailLines is how many last lines of a failed step's standard error
// go into the run's message.
const stderrTailLines = 10

// pathMap is one declared container path and where it lives on this
// machine.
type pathMap struct {
	container, host string
	file            bool // a file whose parent is "/": mounted itself
}

// pod runs a container or script template as node c.name.
func (r *runner) pod(ctx context.Context, c call, t *wfv1.Template, sc scope) *wfv1.NodeStatus {
	node := r.newNode(c, wfv1.NodeTypePod)
	fail := func(phase wfv1.NodePhase, msg string) *wfv1.NodeStatus {
		r.recordFailure(c, msg)
		return r.finish(node, phase, msg)
	}
	dir := filepath.Join(r.opts.Dir, StepsDir, StepDirName(c.name))
	root := filepath.Join(dir, "fs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fail(wfv1.NodeError, fmt.Sprintf("step directory: %v", err))
	}
	psc := sc.with(nil)
	for _, a := range t.Inputs.Artifacts {
		psc["inputs.artifacts."+a.Name+".path"] = a.Path
	}
	for _, p := range t.Outputs.Parameters {
		if p.ValueFrom != nil && p.ValueFrom.Path != "" {
			psc["outputs.parameters."+p.Name+".path"] = p.ValueFrom.Path
		}
	}
	for _, a := range t.Outputs.Artifacts {
		psc["outputs.artifacts."+a.Name+".path"] = a.Path
	}
	psc["pod.name"] = node.ID
	psc["node.name"] = c.name
	st, err := substitute(t, psc)
	if err != nil {
		return fail(wfv1.NodeError, err.Error())
	}

	var ctr corev1.Container
	var source string
	if st.Script != nil {
		ctr = st.Script.Container
		ctr.Args = append(ctr.Args, ScriptPath)
		source = st.Script.Source
	} else {
		ctr = *st.Container
	}
	for _, s := range slices.Concat(ctr.Command, ctr.Args) {
		if tag := unresolved(s); tag != "" {
			return fail(wfv1.NodeError, fmt.Sprintf("failed to resolve %s", tag))
		}
	}
	// Argo names a step's container main, whatever the template says.
	ctr.Name = "main"

	// Every declared container path, and where it lives here.
	var paths []pathMap
	declare := func(p string) {
		p = path.Clean(p)
		host := filepath.Join(root, filepath.FromSlash(p))
		paths = append(paths, pathMap{container: p, host: host, file: path.Dir(p) == "/"})
	}
	for _, a := range st.Inputs.Artifacts {
		declare(a.Path)
	}
	for _, p := range st.Outputs.Parameters {
		if p.ValueFrom != nil && p.ValueFrom.Path != "" {
			declare(p.ValueFrom.Path)
		}
	}
	for _, a := range st.Outputs.Artifacts {
		declare(a.Path)
	}
	if st.Script != nil {
		declare(ScriptPath)
	}
	var volumes []pathMap
	for _, m := range ctr.VolumeMounts {
		host := filepath.Join(r.volumes[m.Name], filepath.FromSlash(m.SubPath))
		if err := os.MkdirAll(host, 0o755); err != nil {
			return fail(wfv1.NodeError, fmt.Sprintf("volume %s: %v", m.Name, err))
		}
		volumes = append(volumes, pathMap{container: path.Clean(m.MountPath), host: host})
	}
	hostOf := func(p string) string {
		p = path.Clean(p)
		for _, m := range slices.Concat(volumes, paths) {
			if rel, ok := under(p, m.container); ok {
				return filepath.Join(m.host, filepath.FromSlash(rel))
			}
		}
		return filepath.Join(root, filepath.FromSlash(p))
	}
	// Parent directories exist, as in a container whose image has them;
	// so does an output artifact's path that is a directory of every
	// system (/tmp), which programs write into.
	for _, m := range paths {
		if err := os.MkdirAll(filepath.Dir(hostOf(m.container)), 0o755); err != nil {
			return fail(wfv1.NodeError, fmt.Sprintf("step directory: %v", err))
		}
	}
	for _, a := range st.Outputs.Artifacts {
		if systemDir(a.Path) {
			if err := os.MkdirAll(hostOf(a.Path), 0o755); err != nil {
				return fail(wfv1.NodeError, fmt.Sprintf("step directory: %v", err))
			}
		}
	}

	// Input artifacts: copied in, so that a step cannot change another's.
	for _, a := range st.Inputs.Artifacts {
		dst := hostOf(a.Path)
		switch src, ok := c.artifacts[a.Name]; {
		case ok:
			if err := copyPath(src, dst); err != nil {
				if a.Optional && errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return fail(wfv1.NodeError, fmt.Sprintf("inputs.artifacts.%s: %v", a.Name, err))
			}
		case a.Raw != nil:
			if err := os.WriteFile(dst, []byte(a.Raw.Data), 0o644); err != nil {
				return fail(wfv1.NodeError, fmt.Sprintf("inputs.artifacts.%s: %v", a.Name, err))
			}
		case !a.Optional:
			return fail(wfv1.NodeError, fmt.Sprintf("inputs.artifacts.%s was not supplied", a.Name))
		}
	}

	step := &Step{Name: c.name, Template: t.Name, Dir: dir}
	if r.opts.RerootPaths {
		rw := newRewriter(slices.Concat(volumes, paths), hostOf)
		for i := range ctr.Command {
			ctr.Command[i] = rw.rewrite(ctr.Command[i])
		}
		for i := range ctr.Args {
			ctr.Args[i] = rw.rewrite(ctr.Args[i])
		}
		for i := range ctr.Env {
			ctr.Env[i].Value = rw.rewrite(ctr.Env[i].Value)
		}
		ctr.WorkingDir = rw.rewrite(ctr.WorkingDir)
		source = rw.rewrite(source)
		ctr.VolumeMounts = nil
	} else {
		step.Mounts = mounts(volumes, paths, hostOf)
	}
	if st.Script != nil {
		if err := os.WriteFile(hostOf(ScriptPath), []byte(source), 0o755); err != nil {
			return fail(wfv1.NodeError, fmt.Sprintf("script source: %v", err))
		}
	}
	step.Container = &ctr
	step.Primary = r.primary(t, &ctr)

	res, stdout, tail, err := r.launch(ctx, step)
	if err != nil {
		r.mu.Lock()
		if r.fatal == nil {
			r.fatal = err
		}
		r.mu.Unlock()
		return r.finish(node, wfv1.NodeError, err.Error())
	}
	out := &wfv1.Outputs{}
	if res.ExitCode != nil {
		out.ExitCode = new(strconv.Itoa(*res.ExitCode))
	}
	result := strings.TrimSuffix(stdout, "\n")
	out.Result = &result
	host, oerr := collectOutputs(st, hostOf, out)
	r.mu.Lock()
	node.Outputs = out
	r.hostArts[node.ID] = host
	r.mu.Unlock()
	if oerr == nil && res.State == trial.Succeeded {
		r.export(st, node, host)
	}
	writeJSON(filepath.Join(dir, "outputs.json"), out)

	switch {
	case res.State == trial.Killed || ctx.Err() != nil:
		msg := "stopped"
		var dl *deadlineError
		if errors.As(context.Cause(ctx), &dl) && dl.what == "step" {
			msg = "Pod was active on the node longer than the specified deadline"
		} else if res.Message != "" {
			msg = res.Message
		}
		return fail(wfv1.NodeFailed, withTail(msg, tail))
	case res.State != trial.Succeeded && res.Reason == "StartError":
		return fail(wfv1.NodeError, res.Message)
	case res.State != trial.Succeeded:
		msg := res.Message
		if res.ExitCode != nil {
			msg = fmt.Sprintf("Error (exit code %d)", *res.ExitCode)
		}
		r.recordFailure(c, withTail(exitText(res), tail))
		return r.finish(node, wfv1.NodeFailed, msg)
	case oerr != nil:
		return fail(wfv1.NodeError, oerr.Error())
	}
	return r.finish(node, wfv1.NodeSucceeded, "")
}

func exitText(res trial.Result) string {
	if res.ExitCode != nil {
		return fmt.Sprintf("exit code %d", *res.ExitCode)
	}
	if res.Message != "" {
		return res.Message
	}
	return string(res.State)
}

func withTail(msg, tail string) string {
	if tail == "" {
		return msg
	}
	return msg + ": " + tail
}

func (r *runner) recordFailure(c call, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, failure{id: r.nodeID(c.name), name: c.display, template: c.template, message: msg, exit: r.inExit})
}

// primary reports whether a step of template t with container ctr is a
// primary step.
func (r *runner) primary(t *wfv1.Template, ctr *corev1.Container) bool {
	if len(r.opts.PrimaryPodLabels) == 0 {
		return false
	}
	for k, v := range r.opts.PrimaryPodLabels {
		if got, ok := t.Metadata.Labels[k]; !ok || got != v {
			return false
		}
	}
	want := r.opts.PrimaryContainer
	if want == "" {
		want = "main"
	}
	return ctr.Name == want
}

// launch runs step with its logs in its directory, its standard output
// kept for outputs.result and its standard error's tail kept, and a
// primary step's output copied to the run's writers.
func (r *runner) launch(ctx context.Context, step *Step) (trial.Result, string, string, error) {
	stdoutLog, err := os.Create(filepath.Join(step.Dir, "stdout.log"))
	if err != nil {
		return trial.Result{}, "", "", fmt.Errorf("step %s: %w", step.Name, err)
	}
	defer stdoutLog.Close()
	stderrLog, err := os.Create(filepath.Join(step.Dir, "stderr.log"))
	if err != nil {
		return trial.Result{}, "", "", fmt.Errorf("step %s: %w", step.Name, err)
	}
	defer stderrLog.Close()
	result := &capped{max: maxResultSize}
	tail := &capped{max: 8 << 10, keepTail: true}
	outs := []io.Writer{stdoutLog, result}
	errs := []io.Writer{stderrLog, tail}
	var pout, perr *lineWriter
	if step.Primary {
		if r.opts.Stdout != nil {
			pout = &lineWriter{mu: &r.outMu, w: r.opts.Stdout}
			outs = append(outs, pout)
		}
		if r.opts.Stderr != nil {
			perr = &lineWriter{mu: &r.outMu, w: r.opts.Stderr}
			errs = append(errs, perr)
		}
	}
	if r.podSem != nil {
		select {
		case r.podSem <- struct{}{}:
			defer func() { <-r.podSem }()
		case <-ctx.Done():
			return trial.Result{State: trial.Killed, Message: "stopped before start"}, "", "", nil
		}
	}
	res, err := r.opts.Launcher.Launch(ctx, step, io.MultiWriter(outs...), io.MultiWriter(errs...))
	pout.flush()
	perr.flush()
	return res, result.String(), lastLines(tail.String(), stderrTailLines), err
}

// collectOutputs reads a finished step's output parameters and finds its
// output artifacts, into out. It returns the artifacts' host paths, and an
// error for a missing output without a default (or not optional).
func collectOutputs(t *wfv1.Template, hostOf func(string) string, out *wfv1.Outputs) (map[string]string, error) {
	var errs []error
	for _, p := range t.Outputs.Parameters {
		if p.ValueFrom == nil || p.ValueFrom.Path == "" {
			if p.Value != nil {
				out.Parameters = append(out.Parameters, wfv1.Parameter{Name: p.Name, Value: p.Value})
			}
			continue
		}
		data, err := os.ReadFile(hostOf(p.ValueFrom.Path))
		switch {
		case err == nil:
			out.Parameters = append(out.Parameters, wfv1.Parameter{Name: p.Name, Value: wfv1.AnyStringPtr(strings.TrimRight(string(data), "\n")), ValueFrom: p.ValueFrom})
		case p.ValueFrom.Default != nil:
			out.Parameters = append(out.Parameters, wfv1.Parameter{Name: p.Name, Value: p.ValueFrom.Default, ValueFrom: p.ValueFrom})
		default:
			errs = append(errs, fmt.Errorf("outputs.parameters.%s: %w", p.Name, unwrapPathError(err)))
		}
	}
	host := map[string]string{}
	for _, a := range t.Outputs.Artifacts {
		p := hostOf(a.Path)
		if _, err := os.Stat(p); err != nil {
			if !a.Optional {
				errs = append(errs, fmt.Errorf("outputs.artifacts.%s: %s: %w", a.Name, a.Path, unwrapPathError(err)))
			}
			continue
		}
		host[a.Name] = p
		out.Artifacts = append(out.Artifacts, wfv1.Artifact{Name: a.Name, Path: a.Path})
	}
	return host, errors.Join(errs...)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func writeJSON(name string, v any) {
	if data, err := json.MarshalIndent(v, "", "  "); err == nil {
		_ = os.WriteFile(name, append(data, '\n'), 0o644)
	}
}

// systemDir reports whether p is one of the directories every Linux image
// has and programs write files into.
func systemDir(p string) bool {
	switch path.Clean(p) {
	case "/tmp", "/var/tmp", "/mnt", "/opt", "/srv", "/home", "/data", "/output", "/outputs", "/workspace":
		return true
	}
	return false
}

// under reports whether p is base or below it, and the rest of p.
func under(p, base string) (string, bool) {
	if p == base {
		return ".", true
	}
	if base == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	if strings.HasPrefix(p, base+"/") {
		return p[len(base)+1:], true
	}
	return "", false
}

// mounts are the mounts that make the declared paths appear: each volume
// at its mount path, each other path's parent directory (or, for a file
// directly under "/", the file itself, created empty), leaving out those
// inside another mount.
func mounts(volumes, paths []pathMap, hostOf func(string) string) []trial.Mount {
	var ms []trial.Mount
	for _, v := range volumes {
		ms = append(ms, trial.Mount{Source: v.host, Target: v.container})
	}
	for _, p := range paths {
		if p.file {
			if _, err := os.Stat(p.host); errors.Is(err, fs.ErrNotExist) {
				if f, err := os.Create(p.host); err == nil {
					f.Close()
				}
			}
			ms = append(ms, trial.Mount{Source: p.host, Target: p.container})
			continue
		}
		dir := path.Dir(p.container)
		ms = append(ms, trial.Mount{Source: hostOf(dir), Target: dir})
	}
	sort.Slice(ms, func(i, j int) bool { return len(ms[i].Target) < len(ms[j].Target) })
	var out []trial.Mount
next:
	for _, m := range ms {
		for _, o := range out {
			if _, ok := under(m.Target, o.Target); ok && m.Target != o.Target {
				continue next
			}
			if m.Target == o.Target {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// copyPath copies the file or directory src to dst.
func copyPath(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		return os.CopyFS(dst, os.DirFS(src))
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fi.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// capped keeps at most max bytes written to it: the first ones, or the
// last ones with keepTail.
type capped struct {
	mu       sync.Mutex
	max      int
	keepTail bool
	buf      []byte
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if c.keepTail {
		c.buf = append(c.buf, p...)
		if len(c.buf) > c.max {
			c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max:]...)
		}
		return n, nil
	}
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return n, nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.ToValidUTF8(string(c.buf), "\uFFFD")
}

// lastLines returns the last n lines of s, trimmed.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, " \t\r\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lineWriter copies whole lines to w under mu, so that concurrent steps'
// lines do not interleave; flush writes what is left.
type lineWriter struct {
	mu  *sync.Mutex
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	l.mu.Lock()
	_, err := l.w.Write(l.buf[:i+1])
	l.mu.Unlock()
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	if err != nil {
		return len(p), fmt.Errorf("copy step output: %w", err)
	}
	return len(p), nil
}

func (l *lineWriter) flush() {
	if l == nil || len(l.buf) == 0 {
		return
	}
	l.mu.Lock()
	_, _ = l.w.Write(append(l.buf, '\n'))
	l.mu.Unlock()
	l.buf = nil
}
