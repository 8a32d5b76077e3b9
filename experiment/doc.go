// Package experiment reads, defaults, validates and renders Katib
// kubeflow.org/v1beta1 Experiment files, and runs experiments with a
// [Runner] over a [Store].
//
// # Format
//
// An experiment file is one YAML (or JSON) document holding a Katib
// Experiment, field for field as in Katib's API ([Experiment] and the types
// it contains). A leading "---" is fine; a second document is an error.
// Decoding is strict, as kubectl's is: an unknown field, a value of the
// wrong type or a repeated key is an error. As with sigs.k8s.io/yaml, bare
// numbers and booleans are accepted where Katib expects strings, so
//
//	feasibleSpace: {min: 0.01, max: 0.1}
//
// reads min as "0.01"; numbers keep the spelling written. A status section,
// as saved by kubectl get -o yaml, is accepted and ignored. The trialSpec is
// kept as a Kubernetes unstructured object (map[string]any, with int64
// integers and float64 other numbers).
//
// [Parse] decodes from memory and [Load] from a file; both then apply
// [Experiment.Default] and [Experiment.Validate].
//
// # Defaults
//
// [Experiment.Default] sets what Katib's admission webhook sets:
// parallelTrialCount 3; resumePolicy Never; a metric strategy (min when
// minimising, max when maximising) for the objective metric and every
// additional metric without one; the collector kind StdOut; the default
// source of the File (/var/log/katib/metrics.log, kind File, format TEXT),
// TensorFlowEvent (/var/log/katib/tfevent/, kind Directory) and
// PrometheusMetric (/metrics on port 8080) collectors; the success and
// failure conditions of batch/v1 Job and Kubeflow training-job trials (and
// the latter's primary pod labels); and the distribution "uniform" for every
// parameter. maxTrialCount and maxFailedTrialCount stay nil, meaning no
// limit.
//
// # Validation
//
// [Experiment.Validate] applies Katib's webhook rules, its suggestion
// services' setting checks and a few of tune's own:
//
//   - apiVersion kubeflow.org/v1beta1, kind Experiment, and a metadata.name
//     of at most 40 lowercase letters, digits and '-' starting with a letter,
//     so that trial names fit Kubernetes' 63 characters;
//   - an objective of type minimize or maximize with an objectiveMetricName;
//     additional metric names distinct from it and from each other;
//     metricStrategies naming those metrics, with min, max or latest;
//   - an algorithm Katib knows (random, grid, bayesianoptimization, tpe,
//     multivariate-tpe, cmaes, sobol, hyperband, enas, darts, pbt) or one
//     of tune's (asha; auto, which takes only random_state) with only
//     the settings its Katib service accepts, each value checked (random
//     and grid take only random_state, a non-negative integer), and what it needs of
//     the search space and parallelTrialCount: the registry
//     [github.com/tune-hpo/tune/suggest/algorithms] decides; earlyStopping, if
//     present, is medianstop with min_trials_required and start_step;
//   - parallelTrialCount ≥ 1, maxTrialCount ≥ 1, 0 ≤ maxFailedTrialCount ≤
//     maxTrialCount, parallelTrialCount ≤ maxTrialCount (the defaulted 3
//     included, as Katib's webhook checks after its defaulting);
//     resumePolicy Never, LongRunning or FromVolume;
//   - at least one parameter (or a nasConfig, not both), with unique names
//     and types double, int, discrete or categorical. double and int need
//     numeric min ≤ max (integers for int) and no list; a step, when given,
//     must be positive and at most max − min (an integer for int); the grid
//     algorithm needs a step for double parameters. discrete needs a
//     non-empty list of numbers, categorical a non-empty list, both without
//     repeats and without min, max or step. A distribution is uniform,
//     logUniform, normal or logNormal, the log ones needing min > 0;
//   - a nasConfig only with an algorithm that searches one (enas, darts),
//     checked as Katib's NAS services check it: operations each with an
//     operationType and parameters (a darts skip_connection may have
//     none), each parameter as above and a double one with a step;
//     graphConfig.numLayers ≥ 1, positive sizes, and inputSizes and
//     outputSizes for enas; a darts operation's first parameter listing
//     its filter sizes;
//   - a trialTemplate with exactly one of trialSpec and configMap, a
//     primaryContainerName (for a batch/v1 Job, one of its containers), and
//     success and failure conditions (defaulted for Jobs). trialParameters
//     have unique names and unique references, each a parameter name, a
//     value the algorithm adds (darts: algorithm-settings, search-space,
//     num-layers), or a metadata reference: ${trialSpec.Name}, ${trialSpec.Namespace},
//     ${trialSpec.Kind}, ${trialSpec.APIVersion}, ${trialSpec.Labels[KEY]}
//     or ${trialSpec.Annotations[KEY]}, KEY being present in the trialSpec's
//     metadata. Every parameter must be referenced by a trial parameter,
//     every trial parameter used as ${trialParameters.NAME} in some string
//     of the trialSpec, and every such placeholder declared. The trialSpec
//     needs apiVersion and kind and must not set metadata.name or
//     metadata.namespace; a batch/v1 Job must decode strictly into a Job;
//   - a metrics collector of kind StdOut, File, TensorFlowEvent,
//     PrometheusMetric, Custom or Push, with Katib's source rules for each
//     (File: an absolute file path and format TEXT or JSON; TensorFlowEvent:
//     an absolute directory; Custom: a customCollector container), and
//     metricsFormat regular expressions that compile and have at least two
//     capture groups: the metric name and its value.
//
// Validate reports every problem at once, as an [*InvalidError] of
// [*FieldError]s naming each field by its path, such as
// spec.parameters[1].feasibleSpace.min. Errors from [Parse] and [Load] also
// carry the file's line and column:
//
//	exp.yaml:23:9: spec.parameters[1].feasibleSpace.min: "abc" is not a number
//
// Every such error matches [ErrInvalid] with [errors.Is].
//
// # Rendering trials
//
// [Experiment.Render] builds one trial's workload from the trialSpec,
// setting its name and namespace and substituting ${trialParameters.NAME}
// placeholders in string values. Substitution works on decoded values, never
// on serialized text, so no parameter value can alter the object's structure.
//
// # Accessors
//
// [Experiment.Space], [Experiment.Goal], [Experiment.MetricNames],
// [Experiment.Strategies], [Experiment.Seed], [Experiment.Settings],
// [Experiment.MetricsFormats] and [Experiment.CollectorKind] give the
// runner and the CLI the parsed values of a validated experiment.
//
// # Running
//
// A [Runner] drives one experiment, after Katib's experiment controller:
//
//   - It keeps min(parallelTrialCount, maxTrialCount − finished) trials
//     active, asking its [suggest.Suggester] for the difference with the whole
//     history (Katib's ReconcileTrials arithmetic; the suggester is stateless).
//   - Each trial gets a directory TrialRoot/<experiment>/<trial>, empty
//     when it starts, holding stdout.log and stderr.log; both streams are parsed line by line as they
//     arrive with the experiment's metrics formats, only for the objective
//     and additional metrics, into an observation log that is written to the
//     [Store] every FlushInterval and when the trial ends.
//   - A collector other than StdOut is built for each trial by package
//     metrics/collect, and the environment and mounts it needs are added to
//     the trial's spec; spec.earlyStopping's rule comes from package
//     earlystop, is fed each objective value and checked at each flush,
//     and a trial it stops ends EarlyStopped ([ReasonTrialEarlyStopped]).
//   - A workload that succeeds without reporting the objective is
//     MetricsUnavailable, as in Katib.
//   - Completion is checked in Katib's order: goal reached (Succeeded,
//     ExperimentGoalReached); failed + metrics-unavailable trials ≥
//     maxFailedTrialCount (Failed); finished trials ≥ maxTrialCount
//     (Succeeded); the suggester exhausted, as a finished grid is, with no
//     trial running (Succeeded, ExperimentSuggestionEndReached). Trials still
//     running when the experiment ends are stopped and recorded as Killed.
//   - Cancelling Run's context stops running trials, records them as Killed
//     and leaves the experiment Stopped (ExperimentInterrupted).
//
// All store writes happen on the goroutine that called Run; trials report to
// it over a channel. The Runner never prints: it reports through OnEvent.
package experiment
