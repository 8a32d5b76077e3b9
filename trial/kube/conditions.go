package kube

import (
	"github.com/tidwall/gjson"

	"github.com/tune-hpo/tune/trial"
)

// Katib's default conditions for the kinds that also have typed logic
// here. They must equal experiment's DefaultJobSuccessCondition and
// DefaultJobFailureCondition, and the conditions of Katib's Argo Workflow
// example (a test checks the former); trial specs carrying them are judged
// by the typed logic, which says the same more precisely.
const (
	katibJobSuccessCondition      = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	katibJobFailureCondition      = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	katibWorkflowSuccessCondition = `status.[@this].#(phase=="Succeeded")#`
	katibWorkflowFailureCondition = `status.[@this].#(phase=="Failed")#`
)

// conditions are a trial's gjson success and failure conditions, judged as
// Katib's trial controller judges them (GetDeployedJobStatus).
type conditions struct {
	kind             string
	success, failure string
}

// eval judges the JSON of a trial's object: the failure condition first,
// then the success condition. A condition holds when its result is an
// object or a non-empty array; the reason and message of the result are
// the fields reason and message of that object, or of the array's first
// element. Without a reason, it is <kind>Failed or <kind>Succeeded.
func (c conditions) eval(obj []byte) (bool, trial.Result) {
	if reason, msg, ok := holds(obj, c.failure); ok {
		if reason == "" {
			reason = c.kind + "Failed"
		}
		return true, trial.Result{State: trial.Failed, Reason: reason, Message: msg}
	}
	if reason, msg, ok := holds(obj, c.success); ok {
		if reason == "" {
			reason = c.kind + "Succeeded"
		}
		return true, trial.Result{State: trial.Succeeded, Reason: reason, Message: msg}
	}
	return false, trial.Result{}
}

// holds evaluates the gjson path cond over obj and, when it holds, returns
// the reason and message it carries.
func holds(obj []byte, cond string) (reason, message string, ok bool) {
	if cond == "" {
		return "", "", false
	}
	r := gjson.GetBytes(obj, cond)
	switch {
	case r.IsObject():
	case r.IsArray():
		elems := r.Array()
		if len(elems) == 0 {
			return "", "", false
		}
		r = elems[0]
	default:
		return "", "", false
	}
	return r.Get("reason").String(), r.Get("message").String(), true
}
