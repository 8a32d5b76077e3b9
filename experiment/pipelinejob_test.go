package experiment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
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
		{"executor input", `'{{$.inputs.parameters[''epochs'']}}'`, `'{{$}}'`,
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
