package experiment_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
)

func TestDefaultMetricStrategies(t *testing.T) {
	tests := map[string]struct {
		objective experiment.ObjectiveSpec
		want      []experiment.MetricStrategy
	}{
		"minimize": {
			objective: experiment.ObjectiveSpec{Type: "minimize", ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"acc"}},
			want:      []experiment.MetricStrategy{{Name: "loss", Value: "min"}, {Name: "acc", Value: "min"}},
		},
		"maximize": {
			objective: experiment.ObjectiveSpec{Type: "maximize", ObjectiveMetricName: "acc", AdditionalMetricNames: []string{"loss"}},
			want:      []experiment.MetricStrategy{{Name: "acc", Value: "max"}, {Name: "loss", Value: "max"}},
		},
		"explicit strategies are kept": {
			objective: experiment.ObjectiveSpec{
				Type: "minimize", ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"acc", "f1"},
				MetricStrategies: []experiment.MetricStrategy{{Name: "acc", Value: "latest"}, {Name: "loss", Value: "latest"}},
			},
			want: []experiment.MetricStrategy{{Name: "acc", Value: "latest"}, {Name: "loss", Value: "latest"}, {Name: "f1", Value: "min"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := &experiment.Experiment{Spec: experiment.Spec{Objective: &tc.objective}}
			e.Default()
			if diff := cmp.Diff(tc.want, e.Spec.Objective.MetricStrategies); diff != "" {
				t.Errorf("strategies (-want +got):\n%s", diff)
			}
			e.Default()
			if diff := cmp.Diff(tc.want, e.Spec.Objective.MetricStrategies); diff != "" {
				t.Errorf("second Default changed strategies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml")
	s := e.Spec
	if got := *s.ParallelTrialCount; got != 3 {
		t.Errorf("parallelTrialCount = %d, want 3", got)
	}
	if s.MaxFailedTrialCount != nil {
		t.Errorf("maxFailedTrialCount = %d, want nil", *s.MaxFailedTrialCount)
	}
	if s.ResumePolicy != "Never" {
		t.Errorf("resumePolicy = %q, want Never", s.ResumePolicy)
	}
	if got := e.CollectorKind(); got != "StdOut" {
		t.Errorf("collector kind = %q, want StdOut", got)
	}
	tt := s.TrialTemplate
	if tt.SuccessCondition != experiment.DefaultJobSuccessCondition || tt.FailureCondition != experiment.DefaultJobFailureCondition {
		t.Errorf("conditions = %q, %q; want the Job defaults", tt.SuccessCondition, tt.FailureCondition)
	}
	for _, p := range s.Parameters {
		if p.FeasibleSpace.Distribution != "uniform" {
			t.Errorf("parameter %s: distribution %q, want uniform", p.Name, p.FeasibleSpace.Distribution)
		}
	}
	if diff := cmp.Diff(map[string]metrics.Strategy{"loss": metrics.Min}, e.Strategies()); diff != "" {
		t.Errorf("Strategies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{experiment.DefaultMetricsFormat}, e.MetricsFormats()); diff != "" {
		t.Errorf("MetricsFormats (-want +got):\n%s", diff)
	}
}

func TestDefaultKinds(t *testing.T) {
	tf := mustLoad(t, "testdata/katib/tfjob-mnist-with-summaries.yaml")
	tt := tf.Spec.TrialTemplate
	if tt.SuccessCondition != experiment.DefaultKubeflowJobSuccessCondition {
		t.Errorf("TFJob successCondition = %q", tt.SuccessCondition)
	}
	if diff := cmp.Diff(map[string]string{"training.kubeflow.org/replica-type": "worker"}, tt.PrimaryPodLabels); diff != "" {
		t.Errorf("TFJob primaryPodLabels, set in the file (-want +got):\n%s", diff)
	}
	tt.PrimaryPodLabels = nil
	tf.Default()
	if diff := cmp.Diff(map[string]string{"training.kubeflow.org/job-role": "master"}, tt.PrimaryPodLabels); diff != "" {
		t.Errorf("TFJob default primaryPodLabels (-want +got):\n%s", diff)
	}
	fs := tf.Spec.MetricsCollectorSpec.Source.FileSystemPath
	if fs.Kind != "Directory" || fs.Format != "" {
		t.Errorf("TensorFlowEvent fileSystemPath = %+v", fs)
	}

	file := mustLoad(t, "testdata/katib/file-metrics-collector.yaml")
	if got := file.Spec.MetricsCollectorSpec.Source.FileSystemPath.Format; got != "TEXT" {
		t.Errorf("File collector format = %q, want TEXT", got)
	}
	if diff := cmp.Diff([]string{`{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}`}, file.MetricsFormats()); diff != "" {
		t.Errorf("MetricsFormats (-want +got):\n%s", diff)
	}

	argo := mustLoad(t, "testdata/katib/argo-workflow.yaml")
	if got := argo.Spec.TrialTemplate.SuccessCondition; got != `status.[@this].#(phase=="Succeeded")#` {
		t.Errorf("Workflow successCondition = %q, want the file's", got)
	}
}
