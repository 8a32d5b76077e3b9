package pipeline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// UIMetadataArtifact is the output artifact a Kubeflow Pipelines v1 step
// writes its visualizations to (/mlpipeline-ui-metadata.json), for the
// Pipelines UI.
const UIMetadataArtifact = "mlpipeline-ui-metadata"

// DeclareMetricsParameters makes the metrics of a Kubeflow Pipelines v1
// compiled pipeline readable without its artifact store: every template
// that declares the output artifact [MetricsParameter] (KFP writes
// /mlpipeline-metrics.json and Argo uploads it to the artifact repository)
// gets an output parameter of the same name read from the same path, with
// an empty default so a step that writes no metrics does not fail. Argo
// records output parameters in the Workflow's status, where the executor
// reads them. The artifact itself is kept for the Pipelines UI (see
// [DropKFPArtifacts] for an Argo install without a repository). Templates
// that already declare such a parameter are left as they are.
func DeclareMetricsParameters(wf *wfv1.Workflow) {
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		path := ""
		for _, a := range t.Outputs.Artifacts {
			if a.Name == MetricsParameter && a.Path != "" {
				path = a.Path
			}
		}
		if path == "" || hasParameter(t.Outputs.Parameters, MetricsParameter) {
			continue
		}
		t.Outputs.Parameters = append(t.Outputs.Parameters, wfv1.Parameter{
			Name:      MetricsParameter,
			ValueFrom: &wfv1.ValueFrom{Path: path, Default: wfv1.AnyStringPtr("")},
		})
	}
}

// DropKFPArtifacts removes the Kubeflow Pipelines v1 output artifacts
// [MetricsParameter] and [UIMetadataArtifact] from every template of wf
// that would upload them to the artifact repository: those without a
// location of their own, in templates without an archiveLocation of their
// own. Argo's executor fails a step whose output artifact it cannot
// upload, and an Argo install without an artifact repository can upload
// nothing; the metrics still reach the Workflow's status through the
// parameter [DeclareMetricsParameters] declares, which must be called
// first. It returns the artifacts removed as "template/artifact".
//
// When the Workflow consumes one of them elsewhere (an expression naming
// outputs.artifacts.mlpipeline-metrics or outputs.artifacts.
// mlpipeline-ui-metadata), it changes nothing and returns an error: that
// pipeline needs a repository.
func DropKFPArtifacts(wf *wfv1.Workflow) ([]string, error) {
	drop := func(t *wfv1.Template, a wfv1.Artifact) bool {
		return (a.Name == MetricsParameter || a.Name == UIMetadataArtifact) &&
			!a.HasLocation() && !t.ArchiveLocation.HasLocation()
	}
	var names []string
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		for _, a := range t.Outputs.Artifacts {
			if drop(t, a) && !slices.Contains(names, a.Name) {
				names = append(names, a.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(wf.Spec)
	if err != nil {
		return nil, fmt.Errorf("pipeline: encoding workflow: %w", err)
	}
	for _, n := range names {
		if strings.Contains(string(data), "outputs.artifacts."+n) {
			return nil, fmt.Errorf("pipeline: the workflow consumes the output artifact %s (outputs.artifacts.%s), which needs an artifact repository", n, n)
		}
	}
	var dropped []string
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		t.Outputs.Artifacts = slices.DeleteFunc(t.Outputs.Artifacts, func(a wfv1.Artifact) bool {
			if drop(t, a) {
				dropped = append(dropped, t.Name+"/"+a.Name)
				return true
			}
			return false
		})
		if len(t.Outputs.Artifacts) == 0 {
			t.Outputs.Artifacts = nil
		}
	}
	return dropped, nil
}

// RepositoryArtifacts returns the artifacts of wf that Argo's executor
// uploads to, or downloads from, the artifact repository: output
// artifacts without a location of their own in templates without an
// archiveLocation of their own, as "template/artifact". On an install
// without a repository each fails its step.
func RepositoryArtifacts(wf *wfv1.Workflow) []string {
	var out []string
	for _, t := range wf.Spec.Templates {
		if t.ArchiveLocation.HasLocation() {
			continue
		}
		for _, a := range t.Outputs.Artifacts {
			if !a.HasLocation() {
				out = append(out, t.Name+"/"+a.Name)
			}
		}
	}
	return out
}

func hasParameter(params []wfv1.Parameter, name string) bool {
	for _, p := range params {
		if p.Name == name {
			return true
		}
	}
	return false
}
