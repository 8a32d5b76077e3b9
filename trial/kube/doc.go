// Package kube implements [trial.Executor] by running each trial as a
// Kubernetes object: a batch/v1 Job or an Argo Workflow
// (argoproj.io/v1alpha1). It also implements [trial.Checker] and
// [trial.Attacher], so that a resumed experiment picks up the trials whose
// objects are still running.
//
// # What is submitted
//
// The trial's [trial.Spec.Object] (Katib's trialTemplate.trialSpec after
// parameter substitution) must be a batch/v1 Job or an argoproj.io/v1alpha1
// Workflow. It is decoded strictly into client-go's or Argo's typed struct:
// a field the type does not have, a duplicate field or a value of the wrong
// type is an error naming its path, reported by [Executor.Check] before
// anything is submitted. Other kinds are not supported yet (a later change
// adds them through the dynamic client with Katib's success and failure
// conditions); Check says so.
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
//     (a Job's pod template labels; a Workflow's spec.podMetadata.labels),
//     on top of the labels the template has.
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
// pods (a Job's by batch.kubernetes.io/job-name, a Workflow's by the trial
// label) are then followed with watches, not polling: a watch that fails
// or closes is re-established after a fresh get or list, and failing API
// calls are retried with exponential backoff for [Options.APIRetryTimeout]
// before the trial fails with reason KubernetesAPIError.
//
// The trial ends when:
//
//   - a Job has the condition Complete (Succeeded) or Failed (Failed, with
//     the condition's reason and message, e.g. BackoffLimitExceeded or
//     DeadlineExceeded);
//   - a Workflow's status.phase is Succeeded (Succeeded) or Failed or Error
//     (Failed, reason WorkflowFailed or WorkflowError, with status.message);
//   - the object is deleted by someone else (Failed, reason Deleted);
//   - a pod of the trial has been reported Unschedulable by the scheduler
//     (condition PodScheduled=False) for [Options.UnschedulableTimeout]
//     (Failed, reason Unschedulable, with the scheduler's message such as
//     "0/4 nodes are available: 4 Insufficient nvidia.com/gpu"). While a pod
//     is unschedulable, [trial.Spec.OnStatus] is told so, and told again
//     with an empty reason when it is placed.
//
// When the trial ends, its object is deleted (with foreground propagation,
// so that its pods go first) unless [trial.Spec.Retain] or
// [Options.Retain] is set, as Katib's trialTemplate.retain does. When the
// context of Run or Attach is done, the object is deleted regardless, Run
// waits up to [Options.DeleteTimeout] for it to be gone and returns Killed.
//
// # Metrics
//
// No sidecar is injected. What the runner parses for metrics comes from:
//
//   - Jobs: the log of the primary container ([trial.Spec.PrimaryContainer],
//     or the only container) of the primary pod (the one with the trial
//     label and [trial.Spec.PrimaryPodLabels]), streamed with pods/log
//     follow=true to stdout once the container runs or has terminated. Each
//     new pod (a retry after a failure, within the Job's backoffLimit)
//     starts a new stream, and [trial.Spec.OnRetry] is called before it. The
//     exit code of the primary container's last termination is the
//     result's ExitCode.
//   - Workflows: when the workflow ends, the output parameters of the
//     workflow (status.outputs) and of every node (status.nodes[*].outputs)
//     whose value is a number are written to stdout as name=value lines; a
//     parameter named mlpipeline-metrics holding Kubeflow Pipelines' JSON
//     ({"metrics": [{"name": "accuracy", "numberValue": 0.9}]}) gives one
//     line per metric. A template declaring Kubeflow Pipelines' output
//     artifact mlpipeline-metrics (a KFP v1 compiled pipeline) also gets an
//     output parameter of that name read from the same file, so no artifact
//     store is needed. When [trial.Spec.PrimaryPodLabels] is set, the
//     primary container's log of every step pod carrying those labels is
//     streamed as well, as for Jobs (Katib's Argo example labels its
//     training step katib.kubeflow.org/model-training: "true"); without
//     it, no pod log is read.
//
// # Caveats
//
// A container restarted in place (restartPolicy OnFailure) is not
// streamed again; only new pods are. Attach streams the logs of the pods
// still present from their start; the runner drops what it had recorded of
// the trial, so each value is recorded once. A pod already deleted (a
// Job's earlier attempt removed by hand) is not read again. The
// Unschedulable clock starts when the
// executor first sees the condition, so it restarts on Attach.
package kube
