// Package pipeline runs an Argo Workflow as a DAG of steps on this
// machine, with Argo's semantics for a documented subset ([Check]), and
// reads a finished Workflow's metrics the same way for both executors
// ([WriteOutputs], [DeclareMetricsParameters]).
//
// The engine is independent of how a step's container is started: [Run]
// hands each step to a [Launcher] and fills the Workflow's status as
// Argo's controller would, so that the trial's gjson conditions and the
// outputs code judge and read a local run exactly as a cluster run.
package pipeline
