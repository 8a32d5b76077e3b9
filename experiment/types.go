package experiment

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Experiment is Katib's kubeflow.org/v1beta1 Experiment, field for field, so
// that Katib experiment files decode unchanged. Status, when present in a
// file (for example one saved with kubectl get -o yaml), is accepted and
// ignored.
type Experiment struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       Spec              `json:"spec"`
	Status     map[string]any    `json:"status,omitempty"`
}

// Spec is Katib's ExperimentSpec.
type Spec struct {
	Parameters           []ParameterSpec       `json:"parameters,omitempty"`
	Objective            *ObjectiveSpec        `json:"objective,omitempty"`
	Algorithm            *AlgorithmSpec        `json:"algorithm,omitempty"`
	EarlyStopping        *EarlyStoppingSpec    `json:"earlyStopping,omitempty"`
	TrialTemplate        *TrialTemplate        `json:"trialTemplate,omitempty"`
	ParallelTrialCount   *int32                `json:"parallelTrialCount,omitempty"`
	MaxTrialCount        *int32                `json:"maxTrialCount,omitempty"`
	MaxFailedTrialCount  *int32                `json:"maxFailedTrialCount,omitempty"`
	MetricsCollectorSpec *MetricsCollectorSpec `json:"metricsCollectorSpec,omitempty"`
	NasConfig            *NasConfig            `json:"nasConfig,omitempty"`
	ResumePolicy         string                `json:"resumePolicy,omitempty"`
}

// ParameterSpec is one search-space dimension, as Katib writes it.
type ParameterSpec struct {
	Name          string        `json:"name,omitempty"`
	ParameterType string        `json:"parameterType,omitempty"`
	FeasibleSpace FeasibleSpace `json:"feasibleSpace,omitempty"`
}

// FeasibleSpace bounds a parameter. Min, Max and Step are decimal strings, as
// in Katib; bare YAML numbers are accepted too.
type FeasibleSpace struct {
	Max          string   `json:"max,omitempty"`
	Min          string   `json:"min,omitempty"`
	List         []string `json:"list,omitempty"`
	Step         string   `json:"step,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
}

// ObjectiveSpec says what to optimise.
type ObjectiveSpec struct {
	Type                  string           `json:"type,omitempty"`
	Goal                  *float64         `json:"goal,omitempty"`
	ObjectiveMetricName   string           `json:"objectiveMetricName,omitempty"`
	AdditionalMetricNames []string         `json:"additionalMetricNames,omitempty"`
	MetricStrategies      []MetricStrategy `json:"metricStrategies,omitempty"`
}

// MetricStrategy chooses a metric's value among its reports: min, max or latest.
type MetricStrategy struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// AlgorithmSpec names the search algorithm and its settings.
type AlgorithmSpec struct {
	AlgorithmName     string             `json:"algorithmName,omitempty"`
	AlgorithmSettings []AlgorithmSetting `json:"algorithmSettings,omitempty"`
}

// AlgorithmSetting is one name/value setting of an algorithm.
type AlgorithmSetting struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// EarlyStoppingSpec names the early-stopping algorithm and its settings.
type EarlyStoppingSpec struct {
	AlgorithmName     string                 `json:"algorithmName,omitempty"`
	AlgorithmSettings []EarlyStoppingSetting `json:"algorithmSettings,omitempty"`
}

// EarlyStoppingSetting is one name/value setting of an early-stopping algorithm.
type EarlyStoppingSetting struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// TrialTemplate describes how each trial's workload is built.
type TrialTemplate struct {
	Retain               bool                 `json:"retain,omitempty"`
	TrialSpec            map[string]any       `json:"trialSpec,omitempty"`
	ConfigMap            *ConfigMapSource     `json:"configMap,omitempty"`
	TrialParameters      []TrialParameterSpec `json:"trialParameters,omitempty"`
	PrimaryPodLabels     map[string]string    `json:"primaryPodLabels,omitempty"`
	PrimaryContainerName string               `json:"primaryContainerName,omitempty"`
	SuccessCondition     string               `json:"successCondition,omitempty"`
	FailureCondition     string               `json:"failureCondition,omitempty"`
}

// ConfigMapSource points at a trial template stored in a ConfigMap.
type ConfigMapSource struct {
	ConfigMapName      string `json:"configMapName,omitempty"`
	ConfigMapNamespace string `json:"configMapNamespace,omitempty"`
	TemplatePath       string `json:"templatePath,omitempty"`
}

// TrialParameterSpec names a value substituted into the trial template as
// ${trialParameters.NAME}. Reference is a parameter name or a trial metadata
// reference such as ${trialSpec.Name}.
type TrialParameterSpec struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Reference   string `json:"reference,omitempty"`
}

// MetricsCollectorSpec says how metrics are collected from a trial.
type MetricsCollectorSpec struct {
	Source    *SourceSpec    `json:"source,omitempty"`
	Collector *CollectorSpec `json:"collector,omitempty"`
}

// SourceSpec says where metrics come from and how they are recognised.
type SourceSpec struct {
	HTTPGet        *corev1.HTTPGetAction `json:"httpGet,omitempty"`
	FileSystemPath *FileSystemPath       `json:"fileSystemPath,omitempty"`
	Filter         *FilterSpec           `json:"filter,omitempty"`
}

// FilterSpec holds the regular expressions that extract metrics from text.
// Each must have two capture groups: the metric name and its value.
type FilterSpec struct {
	MetricsFormat []string `json:"metricsFormat,omitempty"`
}

// FileSystemPath is a file or directory metrics are read from.
type FileSystemPath struct {
	Path   string `json:"path,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Format string `json:"format,omitempty"`
}

// CollectorSpec names the metrics collector kind.
type CollectorSpec struct {
	Kind            string            `json:"kind"`
	CustomCollector *corev1.Container `json:"customCollector,omitempty"`
}

// NasConfig is Katib's neural-architecture-search configuration. tune parses
// it so that Katib files decode, and refuses to run it.
type NasConfig struct {
	GraphConfig GraphConfig `json:"graphConfig,omitempty"`
	Operations  []Operation `json:"operations,omitempty"`
}

// GraphConfig is part of [NasConfig].
type GraphConfig struct {
	NumLayers   *int32  `json:"numLayers,omitempty"`
	InputSizes  []int32 `json:"inputSizes,omitempty"`
	OutputSizes []int32 `json:"outputSizes,omitempty"`
}

// Operation is part of [NasConfig].
type Operation struct {
	OperationType string          `json:"operationType,omitempty"`
	Parameters    []ParameterSpec `json:"parameters,omitempty"`
}
