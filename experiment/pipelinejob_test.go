package experiment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// TestPipelineJobExperiment: an experiment whose trialSpec is a Kubeflow
// Pipelines v2 PipelineJob loads with the Workflow phase conditions as
// its defaults, and what keeps the pipeline from compiling is reported at
// its field, with its line.
func TestPipelineJobExperiment(t *testing.T) {
	path := filepath.Join("..", "examples", "kfp-v2-pipeline", "experiment.yaml")
	exp, data, err := experiment.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tt := exp.Spec.TrialTemplate
	if tt.SuccessCondition != experiment.DefaultWorkflowSuccessCondition || tt.FailureCondition != experiment.DefaultWorkflowFailureCondition {
		t.Errorf("conditions %q, %q; want the Workflow phase ones", tt.SuccessCondition, tt.FailureCondition)
	}

	for _, tc := range []struct {
		name, old, new string
		path, msg      string
	}{
		{"unknown field", "componentRef:\n                    name: comp-train", "componentReff:\n                    name: comp-train",
			"spec.trialTemplate.trialSpec.spec.pipelineSpec.root.dag.tasks.train.componentReff", `unknown field "componentReff"`},
		{"executor input", `--export-split={{$.outputs.artifacts['dataset'].path}}`, `'{{$}}'`,
			"spec.trialTemplate.trialSpec.spec.pipelineSpec.deploymentSpec.executors.exec-prepare.container.args[0]", "executor input placeholder is not supported"},
		{"undeclared input", `lr: "${trialParameters.learningRate}"`, `lr: "${trialParameters.learningRate}"` + "\n            momentum: \"0.9\"",
			"spec.trialTemplate.trialSpec.spec.runtimeConfig.parameterValues.momentum", "is not an input of the pipeline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := string(data)
			if !strings.Contains(text, tc.old) {
				t.Fatalf("the example lacks %q", tc.old)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(bad, []byte(strings.Replace(text, tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := experiment.Load(bad)
			var ie *experiment.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Load: %v; want an InvalidError", err)
			}
			for _, fe := range ie.Errs {
				if fe.Path == tc.path && strings.Contains(fe.Msg, tc.msg) && fe.Line > 0 {
					return
				}
			}
			t.Errorf("errors %v lack %s: %s with a line", err, tc.path, tc.msg)
		})
	}
}

// TestPipelinesDocExample: the complete experiment in docs/pipelines.md
// loads, and its trial compiles to a Workflow whose step writes the
// metrics artifact where the metrics parameter reads it.
func TestPipelinesDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "pipelines.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Kubeflow Pipelines v2")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/pipelines.md has no yaml example under ## Kubeflow Pipelines v2")
	}
	exp, err := experiment.Parse([]byte(block), "pipelines.md")
	if err != nil {
		t.Fatalf("the documented experiment: %v", err)
	}
	spec, err := exp.TrialSpec("kfp-v2-quick-0001", suggest.Assignment{"lr": "0.02"}, "")
	if err != nil {
		t.Fatal(err)
	}
	job, err := kfp.Decode(spec.Object)
	if err != nil {
		t.Fatal(err)
	}
	wf, err := kfp.Compile(job, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := wf.Spec.Arguments.Parameters; len(got) != 1 || got[0].Value.String() != "0.02" {
		t.Errorf("arguments %+v", got)
	}
	for _, tmpl := range wf.Spec.Templates {
		if tmpl.Name != "train" {
			continue
		}
		path := tmpl.Container.Args[len(tmpl.Container.Args)-1]
		if len(tmpl.Outputs.Parameters) != 1 || tmpl.Outputs.Parameters[0].Name != kfp.MetricsParameter || tmpl.Outputs.Parameters[0].ValueFrom.Path != path {
			t.Errorf("train writes %s, outputs %+v", path, tmpl.Outputs.Parameters)
		}
		return
	}
	t.Error("no train template")
}
