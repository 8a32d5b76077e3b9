package kube

import "github.com/tune-hpo/tune/trial/manifest"

// Katib's default conditions for the kinds that also have typed logic
// here. They must equal experiment's DefaultJobSuccessCondition and
// DefaultJobFailureCondition, and the conditions of Katib's Argo Workflow
// example (a test checks the former); trial specs carrying them are judged
// by the typed logic, which says the same more precisely.
const (
	katibJobSuccessCondition      = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	katibJobFailureCondition      = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	katibWorkflowSuccessCondition = manifest.WorkflowSuccessCondition
	katibWorkflowFailureCondition = manifest.WorkflowFailureCondition
)
