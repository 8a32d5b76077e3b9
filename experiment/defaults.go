package experiment

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// Katib's default values, from its experiment_defaults.go and constants.go.
const (
	// DefaultParallelTrialCount is the default spec.parallelTrialCount.
	DefaultParallelTrialCount = 3
	// DefaultResumePolicy is the default spec.resumePolicy.
	DefaultResumePolicy = "Never"
	// DefaultMetricsFormat is Katib's default metrics filter (its
	// DefaultFilter): lines such as "loss=0.25" or "accuracy = 9.1e-1". The
	// first group is the metric name, the second its value.
	DefaultMetricsFormat = `([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`

	// DefaultJobSuccessCondition is the default successCondition for a
	// batch/v1 Job trial (a gjson expression over the object).
	DefaultJobSuccessCondition = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	// DefaultJobFailureCondition is the default failureCondition for a
	// batch/v1 Job trial.
	DefaultJobFailureCondition = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	// DefaultKubeflowJobSuccessCondition is the default successCondition for
	// Kubeflow training jobs (TFJob, PyTorchJob, XGBoostJob, MPIJob).
	DefaultKubeflowJobSuccessCondition = `status.conditions.#(type=="Succeeded")#|#(status=="True")#`
	// DefaultKubeflowJobFailureCondition is the default failureCondition for
	// Kubeflow training jobs.
	DefaultKubeflowJobFailureCondition = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	// DefaultTrainJobSuccessCondition is the default successCondition for a
	// Kubeflow Trainer TrainJob.
	DefaultTrainJobSuccessCondition = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	// DefaultTrainJobFailureCondition is the default failureCondition for a
	// TrainJob.
	DefaultTrainJobFailureCondition = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	// DefaultWorkflowSuccessCondition is the default successCondition for
	// a Kubeflow Pipelines v2 PipelineJob trial, which runs as an Argo
	// Workflow: the conditions of Katib's Argo Workflow example.
	DefaultWorkflowSuccessCondition = `status.[@this].#(phase=="Succeeded")#`
	// DefaultWorkflowFailureCondition is the default failureCondition for
	// a PipelineJob trial.
	DefaultWorkflowFailureCondition = `status.[@this].#(phase=="Failed")#`

	// DefaultFilePath is the default metrics file of the File collector.
	DefaultFilePath = "/var/log/katib/metrics.log"
	// DefaultTensorFlowEventDirPath is the default event directory of the
	// TensorFlowEvent collector.
	DefaultTensorFlowEventDirPath = "/var/log/katib/tfevent/"
	// DefaultPrometheusPath is the default HTTP path of the PrometheusMetric
	// collector.
	DefaultPrometheusPath = "/metrics"
	// DefaultPrometheusPort is the default port of the PrometheusMetric
	// collector.
	DefaultPrometheusPort = 8080
)

// kubeflowJobKinds are the training-operator kinds Katib gives default
// conditions and primary pod labels.
var kubeflowJobKinds = map[string]bool{"TFJob": true, "PyTorchJob": true, "XGBoostJob": true, "MPIJob": true, "TrainJob": true}

// Default fills in what Katib's admission webhook fills in:
//
//   - spec.parallelTrialCount: 3;
//   - spec.resumePolicy: Never;
//   - a metric strategy for the objective metric and for each additional
//     metric that has none: min when minimising, max when maximising;
//   - successCondition and failureCondition for batch/v1 Job and Kubeflow
//     training-job trial specs, and primaryPodLabels for the latter; for a
//     Kubeflow Pipelines v2 PipelineJob (tune's kind), the Workflow phase
//     conditions of Katib's Argo example;
//   - metricsCollectorSpec.collector.kind: StdOut, and the source defaults of
//     the File, TensorFlowEvent and PrometheusMetric collectors;
//   - each parameter's distribution: uniform.
//
// maxTrialCount and maxFailedTrialCount stay nil (unlimited) when absent.
// Default is idempotent.
func (e *Experiment) Default() {
	s := &e.Spec
	if s.ParallelTrialCount == nil {
		n := int32(DefaultParallelTrialCount)
		s.ParallelTrialCount = &n
	}
	if s.ResumePolicy == "" {
		s.ResumePolicy = DefaultResumePolicy
	}
	if o := s.Objective; o != nil {
		has := map[string]bool{}
		for _, ms := range o.MetricStrategies {
			has[ms.Name] = true
		}
		def := "latest"
		switch o.Type {
		case "minimize":
			def = "min"
		case "maximize":
			def = "max"
		}
		for _, name := range append([]string{o.ObjectiveMetricName}, o.AdditionalMetricNames...) {
			if name != "" && !has[name] {
				o.MetricStrategies = append(o.MetricStrategies, MetricStrategy{Name: name, Value: def})
				has[name] = true
			}
		}
	}
	if t := s.TrialTemplate; t != nil && t.TrialSpec != nil {
		kind, _ := t.TrialSpec["kind"].(string)
		switch {
		case kind == "Job":
			setIfEmpty(&t.SuccessCondition, DefaultJobSuccessCondition)
			setIfEmpty(&t.FailureCondition, DefaultJobFailureCondition)
		case kind == "TrainJob":
			setIfEmpty(&t.SuccessCondition, DefaultTrainJobSuccessCondition)
			setIfEmpty(&t.FailureCondition, DefaultTrainJobFailureCondition)
			if len(t.PrimaryPodLabels) == 0 {
				t.PrimaryPodLabels = map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"}
			}
		case kfp.IsKind(t.TrialSpec):
			setIfEmpty(&t.SuccessCondition, DefaultWorkflowSuccessCondition)
			setIfEmpty(&t.FailureCondition, DefaultWorkflowFailureCondition)
		case kubeflowJobKinds[kind]:
			setIfEmpty(&t.SuccessCondition, DefaultKubeflowJobSuccessCondition)
			setIfEmpty(&t.FailureCondition, DefaultKubeflowJobFailureCondition)
			if len(t.PrimaryPodLabels) == 0 {
				t.PrimaryPodLabels = map[string]string{"training.kubeflow.org/job-role": "master"}
			}
		}
	}
	if s.MetricsCollectorSpec == nil {
		s.MetricsCollectorSpec = &MetricsCollectorSpec{}
	}
	mc := s.MetricsCollectorSpec
	if mc.Collector == nil {
		mc.Collector = &CollectorSpec{}
	}
	setIfEmpty(&mc.Collector.Kind, string(collect.StdOut))
	switch collect.Kind(mc.Collector.Kind) {
	case collect.PrometheusMetric:
		if mc.Source == nil {
			mc.Source = &SourceSpec{}
		}
		if mc.Source.HTTPGet == nil {
			mc.Source.HTTPGet = new(corev1.HTTPGetAction)
		}
		setIfEmpty(&mc.Source.HTTPGet.Path, DefaultPrometheusPath)
		if mc.Source.HTTPGet.Port.String() == "0" {
			mc.Source.HTTPGet.Port = intstr.FromInt32(DefaultPrometheusPort)
		}
	case collect.File, collect.TensorFlowEvent:
		if mc.Source == nil {
			mc.Source = &SourceSpec{}
		}
		if mc.Source.FileSystemPath == nil {
			mc.Source.FileSystemPath = &FileSystemPath{}
		}
		fs := mc.Source.FileSystemPath
		if collect.Kind(mc.Collector.Kind) == collect.File {
			setIfEmpty(&fs.Kind, "File")
			setIfEmpty(&fs.Path, DefaultFilePath)
			setIfEmpty(&fs.Format, "TEXT")
		} else {
			setIfEmpty(&fs.Kind, "Directory")
			setIfEmpty(&fs.Path, DefaultTensorFlowEventDirPath)
		}
	}
	for i := range s.Parameters {
		setIfEmpty(&s.Parameters[i].FeasibleSpace.Distribution, "uniform")
	}
}

func setIfEmpty(s *string, v string) {
	if *s == "" {
		*s = v
	}
}
