//go:build k8se2e

package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestConfigMapTemplateOnCluster runs an experiment whose trial template
// is a key of a ConfigMap in the cluster, as Katib's controller reads it:
// tune run --executor kubernetes reads it with the user's credentials, and
// each trial's Job is the ConfigMap's template with the trial's values.
func TestConfigMapTemplateOnCluster(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	c.fakeKubelet(t, ns)

	// The Job of jobExperiment, on CPU nodes, as the ConfigMap's key.
	template := `apiVersion: batch/v1
kind: Job
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations: {tune.test/hold: "true"}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: example.invalid/from-configmap:1
          command: [train]
          args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]
`
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trial-templates", Namespace: ns}, Data: map[string]string{"train.yaml": template}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: from-configmap
  namespace: %s
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "3"}]
  parallelTrialCount: 2
  maxTrialCount: 3
  maxFailedTrialCount: 1
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
    failureCondition: status.conditions.#(type=="Failed")#|#(status=="True")#
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    configMap: {configMapName: trial-templates, configMapNamespace: %s, templatePath: train.yaml}
`, ns, ns)
	dir := t.TempDir()
	file := writeExperiment(t, dir, y)

	if code, out, errOut := runTune(t, dir, "validate", "--executor", "kubernetes", file); code != 0 || !strings.Contains(out, "example.invalid/from-configmap:1") {
		t.Fatalf("tune validate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	ts := trials(t, dir, "from-configmap")
	if len(ts) != 3 {
		t.Fatalf("%d trials, want 3", len(ts))
	}
	for _, tr := range ts {
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		if want := (x-1)*(x-1) + (y+2)*(y+2); tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
			t.Errorf("%s: %s, loss %v; want Succeeded with loss %v from its pod's log", tr.Name, tr.Status, tr.Metrics["loss"], want)
		}
	}

	// A ConfigMap that is not in the cluster: refused, exit 2, no trial.
	missing := writeExperiment(t, t.TempDir(), strings.Replace(strings.Replace(y, "configMapName: trial-templates", "configMapName: no-such", 1), "name: from-configmap", "name: missing-configmap", 1))
	if code, _, errOut := runTune(t, dir, "run", "--executor", "kubernetes", missing); code != 2 || !strings.Contains(errOut, "ConfigMap "+ns+"/no-such not found") {
		t.Errorf("run with a missing ConfigMap: exit %d, stderr %q", code, errOut)
	}
}
