package manifest

import (
	"github.com/tidwall/gjson"

	"github.com/tune-hpo/tune/trial"
)

// Katib's Argo Workflow example's conditions, which judge a Workflow by
// its phase alone; executors treat a Workflow trial carrying them (or none)
// by its phase.
const (
	WorkflowSuccessCondition = `status.[@this].#(phase=="Succeeded")#`
	WorkflowFailureCondition = `status.[@this].#(phase=="Failed")#`
)

// Conditions are a trial's gjson success and failure conditions
// (trialTemplate.successCondition and failureCondition), judged as Katib's
// trial controller judges them (GetDeployedJobStatus). Kind is the
// workload's kind, used in the default reasons.
type Conditions struct {
	Kind             string
	Success, Failure string
}

// Eval judges the JSON of a trial's object: the failure condition first,
// then the success condition; an empty condition never holds. A condition
// holds when its result is an object or a non-empty array; the reason and
// message of the result are the fields reason and message of that object,
// or of the array's first element. Without a reason, it is <Kind>Failed or
// <Kind>Succeeded. Eval returns false when neither holds.
func (c Conditions) Eval(obj []byte) (bool, trial.Result) {
	if reason, msg, ok := holds(obj, c.Failure); ok {
		if reason == "" {
			reason = c.Kind + "Failed"
		}
		return true, trial.Result{State: trial.Failed, Reason: reason, Message: msg}
	}
	if reason, msg, ok := holds(obj, c.Success); ok {
		if reason == "" {
			reason = c.Kind + "Succeeded"
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
