package experiment_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

const preflightExperiment = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: pf, namespace: team-a}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 2
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
    - {name: layers, parameterType: int, feasibleSpace: {min: "2", max: "5"}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [adam, sgd]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: lr, reference: lr}
      - {name: layers, reference: layers}
      - {name: opt, reference: opt}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: train:1
                command: [train, "--lr=${trialParameters.lr}", "--layers=${trialParameters.layers}", "--opt=${trialParameters.opt}"]
`

// preflighter records the spec it is asked about and answers with
// warnings and err.
type preflighter struct {
	spec     *trial.Spec
	warnings []string
	err      error
}

func (p *preflighter) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, errors.New("not run")
}

func (p *preflighter) Preflight(_ context.Context, spec *trial.Spec) ([]string, error) {
	p.spec = spec
	return p.warnings, p.err
}

func TestSampleAssignment(t *testing.T) {
	exp, err := experiment.Parse([]byte(preflightExperiment), "pf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := suggest.Assignment{"lr": "0.01", "layers": "2", "opt": "adam"}
	if diff := cmp.Diff(want, exp.SampleAssignment()); diff != "" {
		t.Errorf("SampleAssignment (-want +got):\n%s", diff)
	}
}

func TestRunnerPreflight(t *testing.T) {
	exp, err := experiment.Parse([]byte(preflightExperiment), "pf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	denied := errors.Join(trial.ErrNotPermitted, errors.New("missing create batch/jobs"))
	p := &preflighter{warnings: []string{"w"}, err: denied}
	r := &experiment.Runner{Executor: p, Owner: "/store"}
	warnings, err := r.Preflight(t.Context(), exp)
	if !errors.Is(err, trial.ErrNotPermitted) || !cmp.Equal(warnings, []string{"w"}) {
		t.Errorf("Preflight = %q, %v; want the executor's warnings and error", warnings, err)
	}
	// The executor is asked about a rendered trial in the experiment's
	// namespace.
	if p.spec == nil {
		t.Fatal("the executor was not asked")
	}
	args := p.spec.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["command"]
	if want := []any{"train", "--lr=0.01", "--layers=2", "--opt=adam"}; !cmp.Equal(args, want) {
		t.Errorf("rendered command %v, want %v", args, want)
	}
	if p.spec.Namespace != "team-a" || p.spec.Experiment != "pf" || p.spec.Owner != "/store" {
		t.Errorf("spec namespace %q, experiment %q, owner %q", p.spec.Namespace, p.spec.Experiment, p.spec.Owner)
	}
	// An executor that cannot tell is not asked.
	if warnings, err := (&experiment.Runner{Executor: runOnly{}}).Preflight(t.Context(), exp); err != nil || warnings != nil {
		t.Errorf("Preflight without a Preflighter = %q, %v", warnings, err)
	}
}

type runOnly struct{}

func (runOnly) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, nil
}
