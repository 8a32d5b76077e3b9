package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

// execLauncher runs each step's command and args as a process (no shell
// of its own), in the step's directory, and records the steps it ran.
type execLauncher struct {
	mu    sync.Mutex
	steps []*Step
	// before, when set, is called before a step starts.
	before func(s *Step)
	// path is the steps' PATH; "" means /usr/bin:/bin.
	path string
}

func (l *execLauncher) Launch(ctx context.Context, s *Step, stdout, stderr io.Writer) (trial.Result, error) {
	l.mu.Lock()
	l.steps = append(l.steps, s)
	before := l.before
	l.mu.Unlock()
	if before != nil {
		before(s)
	}
	argv := slices.Concat(s.Container.Command, s.Container.Args)
	if len(argv) == 0 {
		return trial.Result{State: trial.Failed, Reason: "StartError", Message: "no command"}, nil
	}
	path := l.path
	if path == "" {
		path = "/usr/bin:/bin"
	}
	prog, err := lookIn(argv[0], path)
	if err != nil {
		return trial.Result{State: trial.Failed, Reason: "StartError", Message: err.Error()}, nil
	}
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	cmd.Dir = s.Dir
	if s.Container.WorkingDir != "" {
		cmd.Dir = s.Container.WorkingDir
	}
	cmd.Env = []string{"PATH=" + path}
	for _, e := range s.Container.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A shell's children that outlive it must not keep the step running.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return trial.Result{State: trial.Killed, Message: "stopped"}, nil
	case errors.As(err, &ee):
		code := ee.ExitCode()
		return trial.Result{State: trial.Failed, Reason: "Error", ExitCode: &code}, nil
	case err != nil:
		return trial.Result{State: trial.Failed, Reason: "StartError", Message: err.Error()}, nil
	}
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func (l *execLauncher) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.steps {
		out = append(out, s.Name)
	}
	return out
}

// parse decodes a Workflow strictly.
func parse(t *testing.T, text string) *wfv1.Workflow {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var wf wfv1.Workflow
	if err := manifest.Decode(data, &wf); err != nil {
		t.Fatalf("decode workflow: %v", err)
	}
	return &wf
}

// run runs text with an execLauncher and re-rooted paths.
func run(t *testing.T, text string, opts Options) (*wfv1.Workflow, *execLauncher) {
	t.Helper()
	l := &execLauncher{}
	if opts.Launcher == nil {
		opts.Launcher = l
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.RerootPaths = true
	wf, err := Run(t.Context(), parse(t, text), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return wf, l
}

// node returns the node of wf named name.
func node(t *testing.T, wf *wfv1.Workflow, name string) wfv1.NodeStatus {
	t.Helper()
	for _, n := range wf.Status.Nodes {
		if n.Name == name {
			return n
		}
	}
	var names []string
	for _, n := range wf.Status.Nodes {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	t.Fatalf("no node %q; nodes: %s", name, strings.Join(names, ", "))
	return wfv1.NodeStatus{}
}

func param(n wfv1.NodeStatus, name string) string {
	if n.Outputs == nil {
		return "<no outputs>"
	}
	for _, p := range n.Outputs.Parameters {
		if p.Name == name && p.Value != nil {
			return p.Value.String()
		}
	}
	return "<none>"
}

func result(n wfv1.NodeStatus) string {
	if n.Outputs == nil || n.Outputs.Result == nil {
		return "<none>"
	}
	return *n.Outputs.Result
}

// lookIn finds name in the PATH list path.
func lookIn(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable %q not found in %s", name, path)
}
