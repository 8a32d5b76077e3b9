package pipeline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial/manifest"
)

// argoExamples returns the example Workflows shipped in the
// argo-workflows module, by file name (a file's several documents are
// name#i), or skips when the module is not in the module cache.
func argoExamples(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/argoproj/argo-workflows/v3").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("argo-workflows module not found: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "*.yaml"))
	docs := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			var head struct{ Kind string }
			if yaml.Unmarshal(doc, &head) != nil || head.Kind != "Workflow" {
				continue
			}
			name := filepath.Base(f)
			if i > 0 {
				name += "#" + string(rune('0'+i))
			}
			docs[name] = doc
		}
	}
	if len(docs) == 0 {
		t.Skip("no example workflows")
	}
	return docs
}

func decodeExample(data []byte) (*wfv1.Workflow, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var wf wfv1.Workflow
	if err := manifest.Decode(j, &wf); err != nil {
		return nil, err
	}
	return &wf, nil
}

// Every example workflow shipped with argo-workflows v3.7.3 decodes
// strictly; each is either within the local subset or refused with a
// reason naming a template or a field of the spec, and the split is the
// one docs/pipelines.md reports.
func TestArgoExamplesSurvey(t *testing.T) {
	docs := argoExamples(t)
	var ok, refused []string
	for name, data := range docs {
		wf, err := decodeExample(data)
		if err != nil {
			t.Errorf("%s does not decode: %v", name, err)
			continue
		}
		if err := Check(wf); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "template \"") && !strings.HasPrefix(line, "spec.") {
					t.Errorf("%s: problem %q names neither a template nor a spec field", name, line)
				}
			}
			refused = append(refused, name+": "+strings.SplitN(err.Error(), "\n", 2)[0])
			continue
		}
		ok = append(ok, name)
	}
	slices.Sort(refused)
	for _, r := range refused {
		t.Log("refused ", r)
	}
	t.Logf("%d example workflows: %d within the subset, %d refused", len(docs), len(ok), len(refused))
	if len(docs) == 177 && (len(ok) != 86 || len(refused) != 91) {
		t.Errorf("%d within the subset and %d refused; docs/pipelines.md says 86 and 91", len(ok), len(refused))
	}
}

// stubPath returns a PATH with cowsay (docker/whalesay's program, which
// prints its arguments in a speech balloon) standing in as echo, before
// the system's.
func stubPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cowsay"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + ":" + os.Getenv("PATH")
}

// TestArgoExamplesRunAll runs every example within the subset and logs how
// each ended; set TUNE_ARGO_EXAMPLES=1 (it takes minutes: the examples
// sleep).
func TestArgoExamplesRunAll(t *testing.T) {
	pattern := os.Getenv("TUNE_ARGO_EXAMPLES")
	if pattern == "" {
		t.Skip("set TUNE_ARGO_EXAMPLES to a glob (* for all) to run the Argo examples it matches")
	}
	path := stubPath(t)
	docs := argoExamples(t)
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	slices.Sort(names)
	counts := map[wfv1.WorkflowPhase]int{}
	for _, name := range names {
		if ok, _ := filepath.Match(pattern, name); !ok {
			continue
		}
		wf, err := decodeExample(docs[name])
		if err != nil || Check(wf) != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		l := &execLauncher{path: path}
		done, err := Run(ctx, wf, Options{Launcher: l, Dir: t.TempDir(), RerootPaths: true, Second: 100 * time.Millisecond})
		cancel()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		counts[done.Status.Phase]++
		t.Logf("%-45s %-9s %s", name, done.Status.Phase, done.Status.Message)
	}
	t.Logf("phases: %v", counts)
}

// runExample runs one of Argo's example workflows with cowsay stubbed.
func runExample(t *testing.T, name string) *wfv1.Workflow {
	t.Helper()
	data, ok := argoExamples(t)[name]
	if !ok {
		t.Skipf("example %s not shipped", name)
	}
	wf, err := decodeExample(data)
	if err != nil {
		t.Fatal(err)
	}
	wf.Name = "ex"
	done, err := Run(t.Context(), wf, Options{Launcher: &execLauncher{path: stubPath(t)}, Dir: t.TempDir(), RerootPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// Argo's examples give what their comments and Argo's documentation say.
func TestArgoExamplesOutcomes(t *testing.T) {
	t.Run("exit-handlers", func(t *testing.T) {
		wf := runExample(t, "exit-handlers.yaml")
		if wf.Status.Phase != wfv1.WorkflowFailed {
			t.Errorf("phase %s, want Failed (intentional-fail)", wf.Status.Phase)
		}
		if got := result(node(t, wf, "ex.onExit[0].cry")); got != "boohoo!" {
			t.Errorf("cry said %q", got)
		}
		if n := node(t, wf, "ex.onExit[0].celebrate"); n.Phase != wfv1.NodeSkipped {
			t.Errorf("celebrate %s, want Skipped", n.Phase)
		}
		n := node(t, wf, "ex.onExit[0].notify")
		if got := result(n); !strings.HasPrefix(got, "send e-mail: ex Failed ") || !strings.Contains(got, `"displayName":"ex"`) {
			t.Errorf("notify said %q", got)
		}
	})
	t.Run("dag-enhanced-depends", func(t *testing.T) {
		wf := runExample(t, "dag-enhanced-depends.yaml")
		want := map[string]wfv1.NodePhase{
			"ex.A": wfv1.NodeSucceeded, "ex.B": wfv1.NodeSucceeded, "ex.C": wfv1.NodeFailed,
			"ex.should-execute-1": wfv1.NodeSucceeded, "ex.should-execute-2": wfv1.NodeSucceeded,
			"ex.should-execute-3": wfv1.NodeSucceeded, "ex.should-not-execute": wfv1.NodeOmitted,
		}
		for name, phase := range want {
			if got := node(t, wf, name).Phase; got != phase {
				t.Errorf("%s %s, want %s", name, got, phase)
			}
		}
		if wf.Status.Phase != wfv1.WorkflowSucceeded {
			t.Errorf("phase %s (%s), want Succeeded: C's failure is handled", wf.Status.Phase, wf.Status.Message)
		}
	})
	t.Run("parameter-aggregation", func(t *testing.T) {
		wf := runExample(t, "parameter-aggregation.yaml")
		if wf.Status.Phase != wfv1.WorkflowSucceeded {
			t.Fatalf("phase %s (%s)", wf.Status.Phase, wf.Status.Message)
		}
		for name, want := range map[string]string{
			"ex[1].print-nums":     `["1","2","3","4"]`,
			"ex[2].print-evenness": `["odd","even","odd","even"]`,
			"ex[4].print(0:1)":     "1",
			"ex[4].print(1:2)":     "2",
		} {
			if got := result(node(t, wf, name)); got != want {
				t.Errorf("%s said %q, want %q", name, got, want)
			}
		}
		if n := node(t, wf, `ex[3].divide-by-2(0:{"evenness":"odd","num":"1"})`); n.Phase != wfv1.NodeSkipped {
			t.Errorf("odd item %s, want Skipped", n.Phase)
		}
	})
}
