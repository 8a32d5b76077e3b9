package experiment_test

import (
	"errors"
	"fmt"

	"github.com/tune-hpo/tune/experiment"
)

func ExampleParse() {
	src := `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: quad
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: random
    algorithmSettings:
      - name: random_state
        value: "42"
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: 0.001, max: 0.1, distribution: logUniform}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - name: lr
        reference: lr
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                command: [train, "--lr=${trialParameters.lr}"]
`
	e, err := experiment.Parse([]byte(src), "quad.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	seed, _ := e.Seed()
	fmt.Println(*e.Spec.ParallelTrialCount, e.CollectorKind(), e.Strategies()["accuracy"], seed)
	fmt.Printf("%+v\n", e.Space()[0])

	_, err = experiment.Parse([]byte("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: x}\nspec:\n  maxTrialCount: 0\n  paralel: 2\n"), "bad.yaml")
	fmt.Println(errors.Is(err, experiment.ErrInvalid))
	fmt.Println(err)
	// Output:
	// 3 StdOut max 42
	// {Name:lr Type:double Min:0.001 Max:0.1 Step:0 Values:[] Distribution:logUniform}
	// true
	// bad.yaml:4:1: spec.objective: is required
	// bad.yaml:4:1: spec.algorithm: is required
	// bad.yaml:4:1: spec.parameters: at least one parameter is required (or spec.nasConfig)
	// bad.yaml:4:1: spec.trialTemplate: is required
	// bad.yaml:5:3: spec.maxTrialCount: must be at least 1, got 0
	// bad.yaml:6:3: spec.paralel: unknown field "paralel"
}
