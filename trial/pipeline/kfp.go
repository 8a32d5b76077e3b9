package pipeline

import (
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// DeclareMetricsParameters makes the metrics of a Kubeflow Pipelines v1
// compiled pipeline readable without its artifact store: every template
// that declares the output artifact [MetricsParameter] (KFP writes
// /mlpipeline-metrics.json and Argo uploads it to the artifact repository)
// gets an output parameter of the same name read from the same path, with
// an empty default so a step that writes no metrics does not fail. Argo
// records output parameters in the Workflow's status, where the executor
// reads them. The artifact itself is kept for the Pipelines UI. Templates
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

func hasParameter(params []wfv1.Parameter, name string) bool {
	for _, p := range params {
		if p.Name == name {
			return true
		}
	}
	return false
}
