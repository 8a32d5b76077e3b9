// Package trial defines what a trial is ([Trial], [State]) and the interface
// between tune's runner and the backends that run trial workloads
// ([Executor], with the optional [Checker]).
//
// # Executors
//
// An executor gets a [Spec]: the rendered Katib trialSpec (a batch/v1 Job,
// an Argo Workflow, ...) plus the trial's names, directory and extra
// environment. It runs the workload, streams the primary process's output
// and reports a [Result]. Executors live in subpackages: trial/local runs a
// Job's primary container as a local process.
//
// # States
//
// States use Katib's words. Pending and Running are transient; Succeeded,
// Failed, Killed, MetricsUnavailable and EarlyStopped are final
// ([State.Final]). Failed and MetricsUnavailable trials count towards an
// experiment's maxFailedTrialCount.
package trial
