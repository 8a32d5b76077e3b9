package experiment_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
)

func mustLoad(t *testing.T, path string) *experiment.Experiment {
	t.Helper()
	e, _, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// container returns the first container of a rendered Job.
func container(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	spec := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	return spec["containers"].([]any)[0].(map[string]any)
}

func TestRenderMetadataSubstitution(t *testing.T) {
	e := mustLoad(t, "testdata/katib/trial-metadata-substitution.yaml")
	obj, err := e.Render("trial-metadata-substitution-0007", suggest.Assignment{"lr": "0.02", "momentum": "0.7"})
	if err != nil {
		t.Fatal(err)
	}
	c := container(t, obj)
	env := map[string]any{}
	for _, item := range c["env"].([]any) {
		m := item.(map[string]any)
		env[m["name"].(string)] = m["value"]
	}
	wantEnv := map[string]any{
		"TRIAL_NAME":              "trial-metadata-substitution-0007",
		"TRIAL_NAMESPACE":         "kubeflow",
		"TRIAL_KIND":              "Job",
		"TRIAL_API_VERSION":       "batch/v1",
		"TRIAL_LABEL_CUSTOM":      "custom-label",
		"TRIAL_ANNOTATION_CUSTOM": "custom-annotation",
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantCmd := []any{"python3", "/opt/pytorch-mnist/mnist.py", "--epochs=1", "--batch-size=16", "--lr=0.02", "--momentum=0.7"}
	if diff := cmp.Diff(wantCmd, c["command"]); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	wantMeta := map[string]any{
		"name":        "trial-metadata-substitution-0007",
		"namespace":   "kubeflow",
		"labels":      map[string]any{"custom-key": "custom-label"},
		"annotations": map[string]any{"custom-key": "custom-annotation"},
	}
	if diff := cmp.Diff(wantMeta, obj["metadata"]); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if _, ok := e.Spec.TrialTemplate.TrialSpec["metadata"].(map[string]any)["name"]; ok {
		t.Error("Render modified the experiment's trialSpec")
	}
}

func TestRender(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml")
	tests := map[string]struct {
		a       suggest.Assignment
		wantCmd []any
		wantErr string
	}{
		"plain": {
			a:       suggest.Assignment{"lr": "0.05", "layers": "3"},
			wantCmd: []any{"train", "--lr=0.05", "--layers=3"},
		},
		"hostile values are inserted verbatim, once": {
			a: suggest.Assignment{
				"lr":     "\"; rm -rf / $(reboot) `id`\nkind: Pod\n${trialParameters.layers}",
				"layers": "${trialParameters.lr}'\"",
			},
			wantCmd: []any{
				"train",
				"--lr=\"; rm -rf / $(reboot) `id`\nkind: Pod\n${trialParameters.layers}",
				"--layers=${trialParameters.lr}'\"",
			},
		},
		"missing assignment": {
			a:       suggest.Assignment{"lr": "0.05"},
			wantErr: `no value for parameter "layers"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			obj, err := e.Render("quad-0001", tc.a)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantCmd, container(t, obj)["command"]); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if obj["kind"] != "Job" || obj["apiVersion"] != "batch/v1" {
				t.Errorf("kind/apiVersion changed: %v %v", obj["kind"], obj["apiVersion"])
			}
			wantMeta := map[string]any{"name": "quad-0001", "namespace": "default"}
			if diff := cmp.Diff(wantMeta, obj["metadata"]); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderConfigMap(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml")
	e.Spec.TrialTemplate.TrialSpec = nil
	e.Spec.TrialTemplate.ConfigMap = &experiment.ConfigMapSource{ConfigMapName: "t", ConfigMapNamespace: "ns", TemplatePath: "p"}
	if _, err := e.Render("quad-0001", suggest.Assignment{"lr": "1", "layers": "1"}); err == nil {
		t.Error("Render of a ConfigMap template succeeded")
	}
}
