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

func TestArgoExamplesSurvey(t *testing.T) {
	docs := argoExamples(t)
	var ok, refused []string
	for name, data := range docs {
		wf, err := decodeExample(data)
		if err == nil {
			err = Check(wf)
		}
		if err != nil {
			refused = append(refused, name+": "+strings.SplitN(err.Error(), "\n", 2)[0])
			continue
		}
		ok = append(ok, name)
	}
	t.Logf("%d example workflows: %d within the subset, %d refused", len(docs), len(ok), len(refused))
	for _, r := range refused {
		t.Log("refused ", r)
	}
	for _, o := range ok {
		t.Log("ok ", o)
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
