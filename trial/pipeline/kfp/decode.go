package kfp

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tune-hpo/tune/trial/manifest"
)

// The apiVersion and kind of a trialSpec that is a KFP v2 pipeline.
const (
	APIVersion = "tune-hpo.github.io/v1alpha1"
	Kind       = "PipelineJob"
)

// IsKind reports whether obj, a trialSpec in its unstructured form, has
// apiVersion [APIVersion] and kind [Kind].
func IsKind(obj map[string]any) bool {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return apiVersion == APIVersion && kind == Kind
}

// Decode decodes obj, a trialSpec of kind [Kind], strictly: a field the
// proto (or tune's additions) does not have is an error naming its JSON
// path (spec.pipelineSpec.root.dag.tasks.train.componentReff), as is a
// value of the wrong type; so are a missing spec.pipelineSpec, root or
// deploymentSpec. It does not judge what the pipeline does: [Compile] does.
func Decode(obj map[string]any) (*Job, error) {
	if !IsKind(obj) {
		return nil, fmt.Errorf("kfp: not a %s %s", APIVersion, Kind)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("kfp: encoding the trialSpec: %w", err)
	}
	job := new(Job)
	if err := manifest.Decode(data, job); err != nil {
		return nil, fmt.Errorf("kfp: not a valid %s %s: %w", APIVersion, Kind, err)
	}
	var errs []error
	ps := job.Spec.PipelineSpec
	switch {
	case ps == nil:
		errs = append(errs, errors.New("spec.pipelineSpec is required: the IR YAML `kfp dsl compile` writes"))
	default:
		if ps.Root == nil {
			errs = append(errs, errors.New("spec.pipelineSpec.root is required"))
		}
		if ps.DeploymentSpec == nil {
			errs = append(errs, errors.New("spec.pipelineSpec.deploymentSpec is required"))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("kfp: %w", errors.Join(errs...))
	}
	return job, nil
}

// Check reports whether obj, a trialSpec of kind [Kind] as it stands in
// an experiment file, decodes and compiles: every problem [Decode] and
// [Compile] find, except that a runtime value holding a
// ${trialParameters.NAME} placeholder is not converted to its type (Katib
// substitutes it per trial).
func Check(obj map[string]any) error {
	job, err := Decode(obj)
	if err != nil {
		return err
	}
	_, err = compile(job, "check", true)
	return err
}
