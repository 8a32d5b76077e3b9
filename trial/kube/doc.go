// Package kube implements [trial.Executor] by running each trial as a
// Kubernetes object: a batch/v1 Job, an Argo Workflow
// (argoproj.io/v1alpha1) or an object of any other kind the cluster serves
// (TFJob, PyTorchJob, XGBoostJob and MPIJob of kubeflow.org/v1, TrainJob of
// trainer.kubeflow.org/v1alpha1, Tekton's PipelineRun, a custom resource).
// It also implements [trial.Checker] and
// [trial.Attacher], so that a resumed experiment picks up the trials whose
// objects are still running.
//
// # What is submitted
//
// The trial's [trial.Spec.Object] is Katib's trialTemplate.trialSpec after
// parameter substitution. A batch/v1 Job or an argoproj.io/v1alpha1
// Workflow is decoded strictly into client-go's or Argo's typed struct (by
// trial/manifest, which validation and the local executor share): a
// field the type does not have, a duplicate field or a value of the wrong
// type is an error naming its path, reported by [Executor.Check] before
// anything is submitted. A Kubeflow Pipelines v2 pipeline (kind PipelineJob
// of tune-hpo.github.io/v1alpha1) is decoded and compiled to a Workflow by
// package trial/pipeline/kfp, with the same kind of errors, and is then
// submitted and followed as any Workflow. Any other kind is submitted as given, through
// [Options.Dynamic], as the resource [Options.RESTMapper] maps it to
// (discovery, cached for the executor's life); Check fails, before any
// trial starts, when the cluster does not serve the kind (its CRD or
// operator is not installed), when it is cluster-scoped, and when the spec
// lacks success or failure conditions.
//
// The object is changed in these ways only, and [Compile] returns it as Run
// would submit it:
//
//   - its name is the trial's name ([trial.Spec.Name], "<experiment>-<NNNN>");
//     generateName is cleared;
//   - its namespace is [trial.Spec.Namespace] (the experiment's, as in
//     Katib), else [Options.Namespace], else "default". A metadata.namespace
//     in the template that differs from it is an error;
//   - it, and its pods, get the labels katib.kubeflow.org/experiment=<experiment>,
//     katib.kubeflow.org/trial=<trial> and app.kubernetes.io/managed-by=tune
//     (a Job's pod template labels; a Workflow's spec.podMetadata.labels;
//     for other kinds, the labels of every pod template found anywhere in
//     the object: a map under a "template" key whose "spec" has a
//     "containers" list, such as a training job's replica specs), on top of
//     the labels the template has. When pod templates are found, one of
//     them must have the primary container.
//
// Everything else, placement included (resources and limits such as
// nvidia.com/gpu, nodeSelector, tolerations, affinity), is kept exactly.
//
// # Following a trial
//
// Run creates the object; when one with the trial's name already exists
// and carries its trial label, Run adopts it (this is how Attach works
// too), and when it lacks the label the trial fails with reason
// AlreadyExists and the object is left alone. The object and the trial's
// pods are then followed with watches, not polling: a watch that fails
// or closes is re-established after a fresh get or list, and failing API
// calls are retried with exponential backoff for [Options.APIRetryTimeout]
// before the trial fails with reason KubernetesAPIError.
//
// The trial's pods are found by batch.kubernetes.io/job-name for a Job; by
// the trial label for a Workflow and for other kinds with a pod template;
// by jobset.sigs.k8s.io/jobset-name=<trial> for a TrainJob and
// tekton.dev/pipelineRun=<trial> for a PipelineRun without one. Pods of
// another kind without a pod template are looked for by the trial label
// (some operators copy it from the object), for scheduling problems only.
//
// The trial ends when:
//
//   - the failure condition ([trial.Spec.FailureCondition]), then the
//     success condition, a gjson path over the object's JSON, holds as in
//     Katib's trial controller: its result is an object or a non-empty
//     array. The result's (or first element's) reason and message fields
//     become the result's, the reason defaulting to <Kind>Failed or
//     <Kind>Succeeded. This judges every kind other than Job and Workflow,
//     and Jobs and Workflows whose conditions are not Katib's defaults (for
//     Workflows, those of Katib's Argo example), so that an experiment's own
//     conditions are honoured; otherwise:
//   - a Job has the condition Complete (Succeeded) or Failed (Failed, with
//     the condition's reason and message, e.g. BackoffLimitExceeded or
//     DeadlineExceeded);
//   - a Workflow's status.phase is Succeeded (Succeeded) or Failed or Error
//     (Failed, reason WorkflowFailed or WorkflowError, with status.message);
//   - the object is deleted by someone else (Failed, reason Deleted);
//   - a pod of the trial has been in trouble Kubernetes reports in its
//     status for longer than that trouble's grace (Failed, with the
//     reason Kubernetes gives and its message, naming the container and
//     pod): Unschedulable (condition PodScheduled=False, with the
//     scheduler's message such as "0/4 nodes are available: 4 Insufficient
//     nvidia.com/gpu") for [Options.UnschedulableTimeout]; a container
//     waiting with ErrImagePull or ImagePullBackOff for
//     [Options.ImagePullTimeout]; with CreateContainerConfigError,
//     CreateContainerError or RunContainerError for
//     [Options.ContainerCreateTimeout]; crash-looping (CrashLoopBackOff,
//     the clock running from the first back-off until the container has
//     run for the grace without failing; the last exit code is the
//     result's) for [Options.CrashLoopTimeout]; InvalidImageName and
//     ErrImageNeverPull fail at once;
//   - a pod of the trial is killed or lost: a container OOMKilled (exit
//     code 137, the result's), the pod Evicted, stopped by Kubernetes
//     (condition DisruptionTarget: preemption, the taint manager, the pod
//     garbage collector), its node deleted, or its node not Ready for
//     [Options.NodeLostTimeout] (reason NodeLost) — unless the workload
//     can still run another pod: a Job within its backoffLimit (or with a
//     podFailurePolicy or backoffLimitPerIndex, whose rules the Job
//     controller applies), a Workflow step under a retryStrategy, a
//     container restarted in place by the kubelet, any other kind (its
//     operator decides). Then the trial goes on, and if the workload
//     fails after all, its result takes the reason of its last pod's
//     failure, the workload's own reason and message after it.
//
// Each such trouble is told to [trial.Spec.OnStatus] when first seen (the
// oldest one still there when there are several; else the latest pod
// killed while the workload retries), and told again with an empty reason
// when it clears. The nodes of the trial's pods are watched (get and watch
// on nodes, cluster-wide); a client not allowed to is told once through
// [Options.Logger], and a lost node is then seen only when Kubernetes
// fails or deletes its pods.
//
// When the trial ends, its object is deleted (with foreground propagation,
// so that its pods go first) unless [trial.Spec.Retain] or
// [Options.Retain] is set, as Katib's trialTemplate.retain does. When the
// context of Run or Attach is done, the object is deleted regardless, Run
// waits up to [Options.DeleteTimeout] for it to be gone and returns Killed.
//
// # Metrics
//
// No sidecar is injected. What the runner parses for metrics comes from
// (besides a collector in the pod, below):
//
//   - Jobs and other kinds whose pods are found (above): the log of the
//     primary container ([trial.Spec.PrimaryContainer], or the only
//     container) of the primary pod (a trial pod with
//     [trial.Spec.PrimaryPodLabels], e.g. a training job's
//     training.kubeflow.org/job-role=master), streamed with pods/log
//     follow=true to stdout once the container runs or has terminated. Each
//     new pod (a retry after a failure, within the Job's backoffLimit)
//     starts a new stream, and [trial.Spec.OnRetry] is called before it. The
//     exit code of the primary container's last termination is the
//     result's ExitCode.
//   - Workflows: when the workflow ends, the output parameters of the
//     workflow (status.outputs) and of every node (status.nodes[*].outputs)
//     whose value is a number are written to stdout as name=value lines; a
//     parameter named mlpipeline-metrics holding Kubeflow Pipelines' JSON
//     (v1's {"metrics": [{"name": "accuracy", "numberValue": 0.9}]} or v2's
//     flat {"accuracy": 0.9}) gives one line per metric. A template
//     declaring Kubeflow Pipelines' output artifact mlpipeline-metrics (a
//     KFP v1 compiled pipeline) also gets an output parameter of that name
//     read from the same file, so tune needs no artifact store to read
//     them; whether Argo still uploads the artifact (and
//     mlpipeline-ui-metadata), which fails the step on an install without
//     an artifact repository, is [Options.ArtifactRepository]'s to decide.
//     Both are trial/pipeline's ([pipeline.WriteOutputs],
//     [pipeline.DeclareMetricsParameters]), which the local executor uses
//     for Workflows it runs itself, so a Workflow's metrics are read the
//     same way on both. When [trial.Spec.PrimaryPodLabels] is set, the
//     primary container's log of every step pod carrying those labels is
//     streamed as well, as for Jobs (Katib's Argo example labels its
//     training step katib.kubeflow.org/model-training: "true"); without
//     it, no pod log is read.
//
// # Permissions
//
// [Rules] is the one list of what a trial needs in its namespace: create,
// get, list, watch and delete on its kind's resource; get, list and watch
// on pods; get on pods/log when its metrics come from a pod's log; for
// Workflows, optionally, get on Argo's artifact repository ConfigMaps.
// [Executor.Preflight] asks the cluster for each of them with a
// SelfSubjectAccessReview before the first trial and returns an
// [*AccessError] naming those denied (an optional one denied is a
// warning); [Role] turns the list into the Role that grants exactly them.
// [NodeRules] is what a Role cannot grant (get and watch on nodes), for
// [ClusterRole].
//
// # Collectors in the pod
//
// When [trial.Spec.Collector] is set (the experiment's collector is File,
// TensorFlowEvent, PrometheusMetric or Push; the executor implements
// [trial.PodCollectors]), every pod template of the trial whose primary
// container has a command is changed before it is submitted: an init
// container [CollectorInstallContainer] from the collector's image
// ([Options.CollectorImage], else [DefaultCollectorImage]) installs tune
// into the emptyDir [CollectorVolume]; the primary container's command is
// prefixed with the collector's, which runs the original command as its
// child; each metrics directory the container's mounts do not hold gets an
// emptyDir ([MetricsVolumePrefix]). A primary container without a command,
// a Workflow, or an object without pod templates is an error of Check.
// The lines of the primary container's log that start with the collector's
// prefix go to its Line function instead of stdout.
//
// # Caveats
//
// A custom kind's pods are found only through a pod template in the object
// (or the trial label copied by its operator): a kind that makes its pods
// from something else has no log streamed, so its metrics must come another
// way. A malformed gjson condition is not detected by Check (gjson has no
// way to validate a path); it simply never holds. The conditions are judged
// by [manifest.Conditions], as the local executor judges a Workflow it
// runs.
//
// A container restarted in place (restartPolicy OnFailure) is not
// streamed again; only new pods are. Attach streams the logs of the pods
// still present from their start; the runner drops what it had recorded of
// the trial, so each value is recorded once. A pod already deleted (a
// Job's earlier attempt removed by hand) is not read again. The
// clock of each grace starts when the
// executor first sees the condition, so it restarts on Attach. Troubles
// Kubernetes reports only as events (a volume that cannot be mounted)
// are not seen.
package kube
