package pipeline

import (
	"slices"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// kfpV1Workflow is the shape of a KFP v1 compiled pipeline: evaluate
// writes the metrics and the UI metadata, train a model artifact passed
// on to evaluate; publish keeps its artifacts in its own archiveLocation,
// and export's artifact has a location of its own.
const kfpV1Workflow = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: train, template: train}
      - name: evaluate
        template: evaluate
        dependencies: [train]
        arguments:
          artifacts: [{name: model, from: "{{tasks.train.outputs.artifacts.model}}"}]
  - name: train
    container: {image: x, command: [train]}
    outputs:
      artifacts:
      - {name: model, path: /tmp/model}
      - {name: mlpipeline-ui-metadata, path: /mlpipeline-ui-metadata.json, optional: true}
  - name: evaluate
    inputs:
      artifacts: [{name: model, path: /tmp/model}]
    container: {image: x, command: [evaluate]}
    outputs:
      artifacts:
      - {name: mlpipeline-ui-metadata, path: /mlpipeline-ui-metadata.json}
      - {name: mlpipeline-metrics, path: /mlpipeline-metrics.json}
  - name: publish
    archiveLocation: {s3: {bucket: b, endpoint: s3.example.com, key: k}}
    container: {image: x, command: [publish]}
    outputs:
      artifacts:
      - {name: mlpipeline-metrics, path: /mlpipeline-metrics.json}
  - name: export
    container: {image: x, command: [export]}
    outputs:
      artifacts:
      - {name: mlpipeline-ui-metadata, path: /ui.json, s3: {bucket: b, endpoint: s3.example.com, key: ui.json}}
`

func decodeWorkflow(t *testing.T, y string) *wfv1.Workflow {
	t.Helper()
	wf := new(wfv1.Workflow)
	if err := yaml.UnmarshalStrict([]byte(y), wf); err != nil {
		t.Fatal(err)
	}
	return wf
}

// artifactNames returns each template's output artifacts and parameters.
func outputNames(wf *wfv1.Workflow) map[string][]string {
	out := map[string][]string{}
	for _, t := range wf.Spec.Templates {
		for _, a := range t.Outputs.Artifacts {
			out[t.Name] = append(out[t.Name], "artifact "+a.Name)
		}
		for _, p := range t.Outputs.Parameters {
			out[t.Name] = append(out[t.Name], "parameter "+p.Name+" from "+p.ValueFrom.Path)
		}
	}
	return out
}

func TestDropKFPArtifacts(t *testing.T) {
	wf := decodeWorkflow(t, kfpV1Workflow)
	DeclareMetricsParameters(wf)
	dropped, err := DropKFPArtifacts(wf)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"train/mlpipeline-ui-metadata", "evaluate/mlpipeline-ui-metadata", "evaluate/mlpipeline-metrics"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	want := map[string][]string{
		"train":    {"artifact model"},
		"evaluate": {"parameter mlpipeline-metrics from /mlpipeline-metrics.json"},
		"publish":  {"artifact mlpipeline-metrics", "parameter mlpipeline-metrics from /mlpipeline-metrics.json"},
		"export":   {"artifact mlpipeline-ui-metadata"},
	}
	if diff := cmp.Diff(want, outputNames(wf)); diff != "" {
		t.Errorf("outputs after DropKFPArtifacts (-want +got):\n%s", diff)
	}
	if got := RepositoryArtifacts(wf); !slices.Equal(got, []string{"train/model"}) {
		t.Errorf("RepositoryArtifacts = %v, want [train/model]", got)
	}
	// Once dropped, nothing is left to drop.
	if again, err := DropKFPArtifacts(wf); err != nil || again != nil {
		t.Errorf("second DropKFPArtifacts = %v, %v; want nothing", again, err)
	}
}

// TestDropKFPArtifactsConsumed: a workflow passing the metrics artifact on
// needs a repository; nothing is changed.
func TestDropKFPArtifactsConsumed(t *testing.T) {
	y := strings.Replace(kfpV1Workflow, "{{tasks.train.outputs.artifacts.model}}", "{{tasks.train.outputs.artifacts.mlpipeline-ui-metadata}}", 1)
	wf := decodeWorkflow(t, y)
	before := outputNames(wf)
	dropped, err := DropKFPArtifacts(wf)
	if err == nil || !strings.Contains(err.Error(), "mlpipeline-ui-metadata") || dropped != nil {
		t.Fatalf("DropKFPArtifacts = %v, %v; want an error naming mlpipeline-ui-metadata", dropped, err)
	}
	if diff := cmp.Diff(before, outputNames(wf)); diff != "" {
		t.Errorf("the workflow changed (-before +after):\n%s", diff)
	}
}
