// Package kfp compiles a Kubeflow Pipelines v2 pipeline into a plain Argo
// Workflow, so that a pipeline tune tunes runs without the KFP backend,
// driver or launcher: on a cluster with Argo's workflow-controller, and
// locally through tune's DAG runner.
//
// # The trialSpec
//
// An experiment refers to a pipeline through its trialSpec, an object of
// apiVersion [APIVersion] and kind [Kind] (the name of KFP's own message
// pairing a pipeline spec with run-time values, message PipelineJob of
// api/v2alpha1/pipeline_spec.proto):
//
//	apiVersion: tune-hpo.github.io/v1alpha1
//	kind: PipelineJob
//	metadata: {labels: {...}, annotations: {...}}    # optional, copied to the Workflow
//	spec:
//	  pipelineSpec: {...}          # PipelineJob.pipeline_spec: the IR `kfp dsl compile` writes
//	  runtimeConfig:
//	    parameterValues: {lr: "${trialParameters.learningRate}"}  # RuntimeConfig.parameter_values
//	  labels: {...}                # PipelineJob.labels, copied to the Workflow
//	  displayName: ...             # PipelineJob.display_name, ignored
//	  artifactVolume: {size: 1Gi, storageClassName: fast, accessModes: [ReadWriteOnce]}  # tune's
//
// [Decode] reads it strictly: every field is a field of the proto message
// the Go type mirrors (see types.go, one comment per field naming it), and
// any other is an error naming its JSON path. [Compile] turns it into the
// Workflow; [Check] is what validation runs before the trial parameters
// are substituted.
//
// # Values
//
// The pipeline's input parameters (root.inputDefinitions.parameters)
// become the Workflow's spec.arguments.parameters and the root template's
// inputs. Each takes its value from runtimeConfig.parameterValues, else its
// defaultValue; a required input with neither, a value for an input the
// pipeline does not declare, or a value of the wrong type is an error.
// Values arrive as strings after Katib's ${trialParameters.x}
// substitution and are converted to the declared parameterType by
// [Convert], which also fixes how the container sees them (as KFP's
// launcher renders placeholders): NUMBER_DOUBLE in shortest decimal form
// ("0.001"), NUMBER_INTEGER as an integer, BOOLEAN as true/false, LIST and
// STRUCT as compact JSON, STRING as is. An input with literals (a Literal
// type) takes only those values. No value reaches a shell, and a value
// holding "{{" is refused, so that Argo cannot read it as a variable.
//
// # The Workflow
//
//   - root (message PipelineSpec.root, a DagSpec) is the DAG template
//     [Entrypoint]; every task of a DAG is a DAG task named after the KFP
//     task, running a template of its own: a DAG template for a DAG
//     component (condition groups, loops and sub-pipelines are DAG
//     components in the IR), a container template for an executor
//     component. Templates are per task, not per component, because an
//     artifact's file depends on the task.
//   - PipelineTaskSpec.dependent_tasks, and the producers of the task's
//     inputs, become `dependencies`; trigger_policy.strategy
//     ALL_UPSTREAM_TASKS_COMPLETED becomes `depends` with each upstream
//     task Succeeded, Failed or Errored.
//   - TaskInputsSpec.parameters become the task's arguments:
//     component_input_parameter as {{inputs.parameters.p}},
//     task_output_parameter as {{tasks.T.outputs.parameters.p}},
//     runtime_value.constant (and the deprecated constant_value) converted
//     to the input's type; an input the task does not give takes its
//     defaultValue, or "" when it is optional. A task input the component
//     does not declare is a pipeline channel (the SDK adds one for each
//     value an f-string constant refers to): it gets no argument, and
//     {{$.inputs.parameters['c']}} in a string constant becomes its
//     expression (the value is then known at run time and not converted).
//   - trigger_policy.condition, the CEL expression KFP writes for
//     dsl.If/Elif/Else, becomes `when`: comparisons (== != < <= > >=) of
//     inputs.parameter_values['x'], int(...) or double(...) of it, and
//     literals, combined with &&, || and ! and parentheses; STRING values
//     are compared quoted ('{{...}}' == 'heads'). Anything else is refused.
//   - parameter_iterator (dsl.ParallelFor over parameters): items.raw
//     becomes `withItems` (numbers and booleans checked against the item
//     input's type and rendered as [Convert] renders them),
//     items.input_parameter `withParam`, and the item_input argument
//     {{item}}.
//   - retry_policy becomes the container template's retryStrategy (limit,
//     backoff duration, whole factor, max duration).
//   - deploymentSpec.executors.<label>.container (PipelineContainerSpec):
//     image, command, args and env as given, with placeholders replaced;
//     resources: resource_cpu_limit/request and resource_memory_limit/
//     request (else the deprecated cpu_limit etc., memory in GB) become
//     limits and requests; accelerator resource_type (else type) and
//     resource_count (else count) become a limit on that extended
//     resource (nvidia.com/gpu, amd.com/gpu; Vertex's NVIDIA_* names mean
//     nvidia.com/gpu). The step's container is named "main", as Argo
//     names it; its template has the label [TaskLabel] with the task name.
//
// Placeholders (message ExecutorInput) in command, args and env values:
//
//	{{$.inputs.parameters['x']}}              {{inputs.parameters.x}}
//	{{$.outputs.parameters['y'].output_file}}  /tmp/tune-output-y, declared as output parameter y (valueFrom.path)
//	{{$.outputs.artifacts['m'].path}} (.uri)   /tune/<task path>.m on the run's volume
//	{{$.inputs.artifacts['m'].path}} (.uri)    the producer's file
//	{{$.pipeline_job_name}}                    {{workflow.name}} (the trial's name)
//	{{$.pipeline_task_name}}                   the task's name
//	{"Concat": [...]}, {"IfPresent": {...}}    expanded at compile time
//
// # Artifacts and metrics
//
// Artifacts are files on one volume per run: when the pipeline has an
// output artifact, the Workflow gets spec.volumeClaimTemplates [VolumeName]
// (size [DefaultVolumeSize], ReadWriteOnce and the cluster's default
// storage class unless spec.artifactVolume says otherwise) and every
// container mounts it at [MountPath]. An artifact is the file
// [ArtifactPath] names, directly under the mount so that its directory
// exists (the launcher that creates output directories is not there); a
// component may also make it a directory. A consumer gets the producer's
// path, through sub-pipelines' dag.outputs.artifacts selectors and
// component_input_artifact alike. A system.Metrics output artifact is also
// declared as the output parameter [MetricsParameter], read from its file
// with an empty default: the v2 metrics JSON, a flat object of metric name
// to number. Argo records output parameters in the Workflow's status,
// where tune reads numeric ones, and the metrics object's, as the trial's
// metrics.
//
// # What is refused
//
// Each refusal names the field and says what is allowed instead:
// importer, resolver and custom-job executors; the executor input {{$}}
// and output file placeholders (lightweight Python components need KFP's
// launcher: use container components); artifact iterators,
// iterator_policy.parallelism_limit, parameter_expression_selector,
// task_final_status and TASK_FINAL_STATUS/TASK_CONFIG parameters;
// output parameters of DAG components (sub-pipeline return values,
// dsl.OneOf, dsl.Collected) and artifact selectors over several tasks;
// lists of artifacts; output artifacts inside a loop (iterations would
// share one file); pipeline input artifacts; lifecycle hooks,
// platform-specific specs and task config passthroughs;
// runtimeConfig.parameters and gcsOutputDirectory; resources set from
// placeholders; accelerator types that are not Kubernetes resources.
// Caching options are read and ignored: every trial runs every step.
// pipelineInfo, sdkVersion, schemaVersion, defaultPipelineRoot,
// descriptions and the root DAG's outputs are read and have no effect
// (pipelineInfo.name becomes the annotation [PipelineAnnotation]).
package kfp
