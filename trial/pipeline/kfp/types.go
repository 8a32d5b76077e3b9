package kfp

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Go types below mirror the messages of Kubeflow Pipelines'
// api/v2alpha1/pipeline_spec.proto (package ml_pipelines) that tune reads,
// with the JSON names protojson gives their fields (lowerCamelCase), which
// are the names `kfp dsl compile` writes. Each field's comment names the
// proto field it mirrors. A google.protobuf.Value is an any holding its JSON
// form; a field tune refuses whenever it is set is an any too.

// Job is the trialSpec object: apiVersion [APIVersion], kind [Kind],
// optional metadata, and the spec of a KFP PipelineJob.
type Job struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec       JobSpec           `json:"spec"`
}

// JobSpec mirrors message PipelineJob, less its name, plus
// [JobSpec.ArtifactVolume].
type JobSpec struct {
	// DisplayName is PipelineJob.display_name (ignored).
	DisplayName string `json:"displayName,omitempty"`
	// Labels is PipelineJob.labels; they go on the Workflow.
	Labels map[string]string `json:"labels,omitempty"`
	// PipelineSpec is PipelineJob.pipeline_spec: message PipelineSpec, the
	// IR the v2 SDK compiles.
	PipelineSpec *PipelineSpec `json:"pipelineSpec"`
	// RuntimeConfig is PipelineJob.runtime_config.
	RuntimeConfig *RuntimeConfig `json:"runtimeConfig,omitempty"`
	// ArtifactVolume is tune's own: the volume claim artifacts go through.
	ArtifactVolume *ArtifactVolume `json:"artifactVolume,omitempty"`
}

// RuntimeConfig mirrors message PipelineJob.RuntimeConfig.
type RuntimeConfig struct {
	// ParameterValues is RuntimeConfig.parameter_values: the pipeline's
	// input parameters by name.
	ParameterValues map[string]any `json:"parameterValues,omitempty"`
	// Parameters is the deprecated RuntimeConfig.parameters (refused).
	Parameters any `json:"parameters,omitempty"`
	// GCSOutputDirectory is RuntimeConfig.gcs_output_directory (refused).
	GCSOutputDirectory string `json:"gcsOutputDirectory,omitempty"`
}

// ArtifactVolume configures the PersistentVolumeClaim every run gets when
// its pipeline has artifacts (spec.volumeClaimTemplates of the Workflow).
type ArtifactVolume struct {
	// Size is the claim's storage request; empty means [DefaultVolumeSize].
	Size string `json:"size,omitempty"`
	// StorageClassName is the claim's storage class; nil means the
	// cluster's default class.
	StorageClassName *string `json:"storageClassName,omitempty"`
	// AccessModes are the claim's access modes; empty means ReadWriteOnce.
	AccessModes []string `json:"accessModes,omitempty"`
}

// PipelineSpec mirrors message PipelineSpec.
type PipelineSpec struct {
	PipelineInfo        *PipelineInfo             `json:"pipelineInfo"`        // pipeline_info
	DeploymentSpec      *DeploymentSpec           `json:"deploymentSpec"`      // deployment_spec (PipelineDeploymentConfig)
	SDKVersion          string                    `json:"sdkVersion"`          // sdk_version
	SchemaVersion       string                    `json:"schemaVersion"`       // schema_version
	Components          map[string]*ComponentSpec `json:"components"`          // components
	Root                *ComponentSpec            `json:"root"`                // root
	DefaultPipelineRoot string                    `json:"defaultPipelineRoot"` // default_pipeline_root (ignored: artifacts go to the run's volume)
}

// PipelineInfo mirrors message PipelineInfo.
type PipelineInfo struct {
	Name        string `json:"name"`        // name
	DisplayName string `json:"displayName"` // display_name
	Description string `json:"description"` // description
}

// ComponentSpec mirrors message ComponentSpec: a DAG or an executor.
type ComponentSpec struct {
	InputDefinitions       *ComponentInputsSpec  `json:"inputDefinitions"`       // input_definitions
	OutputDefinitions      *ComponentOutputsSpec `json:"outputDefinitions"`      // output_definitions
	DAG                    *DagSpec              `json:"dag"`                    // dag (oneof implementation)
	ExecutorLabel          string                `json:"executorLabel"`          // executor_label (oneof implementation)
	SinglePlatformSpecs    any                   `json:"singlePlatformSpecs"`    // single_platform_specs (refused)
	TaskConfigPassthroughs any                   `json:"taskConfigPassthroughs"` // task_config_passthroughs (refused)
}

// DagSpec mirrors message DagSpec.
type DagSpec struct {
	Tasks   map[string]*PipelineTaskSpec `json:"tasks"`   // tasks
	Outputs *DagOutputsSpec              `json:"outputs"` // outputs
}

// DagOutputsSpec mirrors message DagOutputsSpec.
type DagOutputsSpec struct {
	Artifacts  map[string]*DagOutputArtifactSpec  `json:"artifacts"`  // artifacts
	Parameters map[string]*DagOutputParameterSpec `json:"parameters"` // parameters
}

// DagOutputArtifactSpec mirrors message DagOutputsSpec.DagOutputArtifactSpec.
type DagOutputArtifactSpec struct {
	ArtifactSelectors []ArtifactSelectorSpec `json:"artifactSelectors"` // artifact_selectors
}

// ArtifactSelectorSpec mirrors message DagOutputsSpec.ArtifactSelectorSpec.
type ArtifactSelectorSpec struct {
	ProducerSubtask   string `json:"producerSubtask"`   // producer_subtask
	OutputArtifactKey string `json:"outputArtifactKey"` // output_artifact_key
}

// DagOutputParameterSpec mirrors message DagOutputsSpec.DagOutputParameterSpec.
type DagOutputParameterSpec struct {
	ValueFromParameter any `json:"valueFromParameter"` // value_from_parameter
	ValueFromOneof     any `json:"valueFromOneof"`     // value_from_oneof
}

// ComponentInputsSpec mirrors message ComponentInputsSpec.
type ComponentInputsSpec struct {
	Artifacts  map[string]*InputArtifactDefinition  `json:"artifacts"`  // artifacts
	Parameters map[string]*InputParameterDefinition `json:"parameters"` // parameters
}

// InputArtifactDefinition mirrors message ComponentInputsSpec.ArtifactSpec.
type InputArtifactDefinition struct {
	ArtifactType   *ArtifactTypeSchema `json:"artifactType"`   // artifact_type
	IsArtifactList bool                `json:"isArtifactList"` // is_artifact_list
	IsOptional     bool                `json:"isOptional"`     // is_optional
	Description    string              `json:"description"`    // description
}

// InputParameterDefinition mirrors message ComponentInputsSpec.ParameterSpec.
type InputParameterDefinition struct {
	Type          string `json:"type"`          // type (deprecated PrimitiveType: INT, DOUBLE, STRING)
	ParameterType string `json:"parameterType"` // parameter_type
	DefaultValue  any    `json:"defaultValue"`  // default_value
	IsOptional    bool   `json:"isOptional"`    // is_optional
	Description   string `json:"description"`   // description
	Literals      []any  `json:"literals"`      // literals (the values a Literal[...] input allows)
}

// ComponentOutputsSpec mirrors message ComponentOutputsSpec.
type ComponentOutputsSpec struct {
	Artifacts  map[string]*OutputArtifactDefinition  `json:"artifacts"`  // artifacts
	Parameters map[string]*OutputParameterDefinition `json:"parameters"` // parameters
}

// OutputArtifactDefinition mirrors message ComponentOutputsSpec.ArtifactSpec.
type OutputArtifactDefinition struct {
	ArtifactType     *ArtifactTypeSchema `json:"artifactType"`     // artifact_type
	Properties       any                 `json:"properties"`       // properties (deprecated, ignored)
	CustomProperties any                 `json:"customProperties"` // custom_properties (deprecated, ignored)
	Metadata         any                 `json:"metadata"`         // metadata (ignored)
	IsArtifactList   bool                `json:"isArtifactList"`   // is_artifact_list
	Description      string              `json:"description"`      // description
}

// OutputParameterDefinition mirrors message ComponentOutputsSpec.ParameterSpec.
type OutputParameterDefinition struct {
	Type          string `json:"type"`          // type (deprecated)
	ParameterType string `json:"parameterType"` // parameter_type
	Description   string `json:"description"`   // description
}

// ArtifactTypeSchema mirrors message ArtifactTypeSchema.
type ArtifactTypeSchema struct {
	SchemaTitle    string `json:"schemaTitle"`    // schema_title
	SchemaURI      string `json:"schemaUri"`      // schema_uri (deprecated)
	InstanceSchema string `json:"instanceSchema"` // instance_schema
	SchemaVersion  string `json:"schemaVersion"`  // schema_version
}

// PipelineTaskSpec mirrors message PipelineTaskSpec.
type PipelineTaskSpec struct {
	TaskInfo          *PipelineTaskInfo      `json:"taskInfo"`          // task_info
	Inputs            *TaskInputsSpec        `json:"inputs"`            // inputs
	DependentTasks    []string               `json:"dependentTasks"`    // dependent_tasks
	CachingOptions    *CachingOptions        `json:"cachingOptions"`    // caching_options (ignored: every trial runs every step)
	ComponentRef      *ComponentRef          `json:"componentRef"`      // component_ref
	TriggerPolicy     *TriggerPolicy         `json:"triggerPolicy"`     // trigger_policy
	ArtifactIterator  any                    `json:"artifactIterator"`  // artifact_iterator (refused)
	ParameterIterator *ParameterIteratorSpec `json:"parameterIterator"` // parameter_iterator
	RetryPolicy       *RetryPolicy           `json:"retryPolicy"`       // retry_policy
	IteratorPolicy    *IteratorPolicy        `json:"iteratorPolicy"`    // iterator_policy
}

// PipelineTaskInfo mirrors message PipelineTaskInfo.
type PipelineTaskInfo struct {
	Name string `json:"name"` // name
}

// CachingOptions mirrors message PipelineTaskSpec.CachingOptions.
type CachingOptions struct {
	EnableCache bool   `json:"enableCache"` // enable_cache
	CacheKey    string `json:"cacheKey"`    // cache_key (newer protos)
}

// ComponentRef mirrors message ComponentRef.
type ComponentRef struct {
	Name string `json:"name"` // name
}

// TriggerPolicy mirrors message PipelineTaskSpec.TriggerPolicy.
type TriggerPolicy struct {
	Condition string `json:"condition"` // condition (CEL)
	Strategy  string `json:"strategy"`  // strategy (TriggerStrategy)
}

// ParameterIteratorSpec mirrors message ParameterIteratorSpec.
type ParameterIteratorSpec struct {
	Items     *ParameterItemsSpec `json:"items"`     // items
	ItemInput string              `json:"itemInput"` // item_input
}

// ParameterItemsSpec mirrors message ParameterIteratorSpec.ItemsSpec.
type ParameterItemsSpec struct {
	Raw            *string `json:"raw"`            // raw (oneof kind)
	InputParameter string  `json:"inputParameter"` // input_parameter (oneof kind)
}

// RetryPolicy mirrors message PipelineTaskSpec.RetryPolicy.
type RetryPolicy struct {
	MaxRetryCount      int32   `json:"maxRetryCount"`      // max_retry_count
	BackoffDuration    string  `json:"backoffDuration"`    // backoff_duration (google.protobuf.Duration, "3s")
	BackoffFactor      float64 `json:"backoffFactor"`      // backoff_factor
	BackoffMaxDuration string  `json:"backoffMaxDuration"` // backoff_max_duration
}

// IteratorPolicy mirrors message PipelineTaskSpec.IteratorPolicy.
type IteratorPolicy struct {
	ParallelismLimit int32 `json:"parallelismLimit"` // parallelism_limit
}

// TaskInputsSpec mirrors message TaskInputsSpec.
type TaskInputsSpec struct {
	Parameters map[string]*TaskInputParameter `json:"parameters"` // parameters
	Artifacts  map[string]*TaskInputArtifact  `json:"artifacts"`  // artifacts
}

// TaskInputArtifact mirrors message TaskInputsSpec.InputArtifactSpec.
type TaskInputArtifact struct {
	TaskOutputArtifact     *TaskOutputArtifact `json:"taskOutputArtifact"`     // task_output_artifact
	ComponentInputArtifact string              `json:"componentInputArtifact"` // component_input_artifact
}

// TaskOutputArtifact mirrors message
// TaskInputsSpec.InputArtifactSpec.TaskOutputArtifactSpec.
type TaskOutputArtifact struct {
	ProducerTask      string `json:"producerTask"`      // producer_task
	OutputArtifactKey string `json:"outputArtifactKey"` // output_artifact_key
}

// TaskInputParameter mirrors message TaskInputsSpec.InputParameterSpec.
type TaskInputParameter struct {
	TaskOutputParameter         *TaskOutputParameter     `json:"taskOutputParameter"`         // task_output_parameter
	RuntimeValue                *ValueOrRuntimeParameter `json:"runtimeValue"`                // runtime_value
	ComponentInputParameter     string                   `json:"componentInputParameter"`     // component_input_parameter
	TaskFinalStatus             any                      `json:"taskFinalStatus"`             // task_final_status (refused)
	ParameterExpressionSelector string                   `json:"parameterExpressionSelector"` // parameter_expression_selector (refused)
}

// TaskOutputParameter mirrors message
// TaskInputsSpec.InputParameterSpec.TaskOutputParameterSpec.
type TaskOutputParameter struct {
	ProducerTask       string `json:"producerTask"`       // producer_task
	OutputParameterKey string `json:"outputParameterKey"` // output_parameter_key
}

// ValueOrRuntimeParameter mirrors message ValueOrRuntimeParameter.
type ValueOrRuntimeParameter struct {
	ConstantValue    any    `json:"constantValue"`    // constant_value (deprecated Value: intValue, doubleValue, stringValue)
	RuntimeParameter string `json:"runtimeParameter"` // runtime_parameter
	Constant         any    `json:"constant"`         // constant
}

// DeploymentSpec mirrors message PipelineDeploymentConfig.
type DeploymentSpec struct {
	Executors map[string]*ExecutorSpec `json:"executors"` // executors
}

// ExecutorSpec mirrors message PipelineDeploymentConfig.ExecutorSpec.
type ExecutorSpec struct {
	Container *ContainerSpec `json:"container"` // container
	Importer  any            `json:"importer"`  // importer (refused)
	Resolver  any            `json:"resolver"`  // resolver (refused)
	CustomJob any            `json:"customJob"` // custom_job (refused)
}

// ContainerSpec mirrors message PipelineDeploymentConfig.PipelineContainerSpec.
type ContainerSpec struct {
	Image     string        `json:"image"`     // image
	Command   []string      `json:"command"`   // command
	Args      []string      `json:"args"`      // args
	Lifecycle any           `json:"lifecycle"` // lifecycle (refused)
	Resources *ResourceSpec `json:"resources"` // resources
	Env       []EnvVar      `json:"env"`       // env
}

// EnvVar mirrors message PipelineContainerSpec.EnvVar.
type EnvVar struct {
	Name  string `json:"name"`  // name
	Value string `json:"value"` // value
}

// ResourceSpec mirrors message PipelineContainerSpec.ResourceSpec.
type ResourceSpec struct {
	CPULimit              float64            `json:"cpuLimit"`              // cpu_limit (deprecated, cores)
	MemoryLimit           float64            `json:"memoryLimit"`           // memory_limit (deprecated, GB)
	CPURequest            float64            `json:"cpuRequest"`            // cpu_request (deprecated)
	MemoryRequest         float64            `json:"memoryRequest"`         // memory_request (deprecated)
	ResourceCPULimit      string             `json:"resourceCpuLimit"`      // resource_cpu_limit
	ResourceMemoryLimit   string             `json:"resourceMemoryLimit"`   // resource_memory_limit
	ResourceCPURequest    string             `json:"resourceCpuRequest"`    // resource_cpu_request
	ResourceMemoryRequest string             `json:"resourceMemoryRequest"` // resource_memory_request
	Accelerator           *AcceleratorConfig `json:"accelerator"`           // accelerator
}

// AcceleratorConfig mirrors message ResourceSpec.AcceleratorConfig.
type AcceleratorConfig struct {
	Type          string `json:"type"`          // type (deprecated)
	Count         any    `json:"count"`         // count (deprecated int64: protojson writes a string)
	ResourceType  string `json:"resourceType"`  // resource_type
	ResourceCount string `json:"resourceCount"` // resource_count
}
