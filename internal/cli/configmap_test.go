package cli_test

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cmExperiment is an experiment whose trial template is the ConfigMap
// trial-templates's key train.yaml, in namespace kubeflow.
const cmExperiment = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "5"}]
  parallelTrialCount: 2
  maxTrialCount: %d
  resumePolicy: LongRunning
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
    configMap:
      configMapName: trial-templates
      configMapNamespace: kubeflow
      templatePath: train.yaml
`

// cmTemplates is the ConfigMap holding train.yaml, a Job running prog
// with the trial's x and y.
func cmTemplates(prog, extraArg string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: trial-templates
  namespace: kubeflow
data:
  train.yaml: |
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: ignored-locally
              command: [%q, "--x=${trialParameters.x}", "--y", "${trialParameters.y}"%s]
  other.yaml: "kind: Job"
`, prog, extraArg)
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunConfigMapTemplate runs an experiment whose trial template is in a
// ConfigMap file next to it, and one named by --trial-template-configmap:
// the trials run the template's program with their parameters.
func TestRunConfigMapTemplate(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "cm.yaml"), fmt.Sprintf(cmExperiment, "cm", 3))
	writeFile(t, filepath.Join(dir, "trial-templates.yaml"), cmTemplates(trialBin, ""))
	r := tune(t, dir, "run", "-q", file)
	if r.code != 0 {
		t.Fatalf("tune run: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	trials := getTrials(t, dir, "cm")
	if len(trials) != 3 {
		t.Fatalf("%d trials, want 3", len(trials))
	}
	for _, tr := range trials {
		// trialprog prints loss+2, loss+1, loss for the x and y it was
		// given: the min strategy keeps the quadratic of the parameters.
		if want := quadratic(t, tr.Parameters); tr.Status != "Succeeded" || math.Abs(tr.Metrics["loss"]-want) > 1e-9 {
			t.Errorf("%s: %s, loss %v; want Succeeded with %v, the quadratic of %v", tr.Name, tr.Status, tr.Metrics["loss"], want, tr.Parameters)
		}
	}

	// The template is stored with the experiment: a changed ConfigMap is a
	// changed spec, refused with the difference.
	writeFile(t, filepath.Join(dir, "trial-templates.yaml"), cmTemplates(trialBin, `, "--epochs", "2"`))
	writeFile(t, file, fmt.Sprintf(cmExperiment, "cm", 4))
	r = tune(t, dir, "run", "-q", file)
	if r.code != 2 || !strings.Contains(r.stderr, "spec differs from the stored experiment") || !strings.Contains(r.stderr, `"--epochs"`) {
		t.Errorf("run after the ConfigMap changed: exit %d, stderr %q; want 2 with the template's difference", r.code, r.stderr)
	}

	// Elsewhere, named by the flag.
	other := t.TempDir()
	cmFile := writeFile(t, filepath.Join(other, "templates", "all.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: kubeflow}\n---\n"+cmTemplates(trialBin, ""))
	file2 := writeFile(t, filepath.Join(other, "exp.yaml"), fmt.Sprintf(cmExperiment, "cm-flag", 2))
	if r := tune(t, other, "run", "-q", file2); r.code != 2 || !strings.Contains(r.stderr, "no trial-templates.yaml next to the experiment file") || !strings.Contains(r.stderr, "--trial-template-configmap") {
		t.Errorf("run without the ConfigMap: exit %d, stderr %q; want 2 saying where it looked and the flag", r.code, r.stderr)
	}
	if r := tune(t, other, "run", "-q", "--trial-template-configmap", cmFile, file2); r.code != 0 || !strings.Contains(r.stdout, "2 trials, 2 succeeded") {
		t.Errorf("run with --trial-template-configmap: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestValidateConfigMapTemplate checks a ConfigMap's template where it can
// read it, from a file or a cluster, and says when it cannot.
func TestValidateConfigMapTemplate(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "exp.yaml"), fmt.Sprintf(cmExperiment, "cm", 3))

	// No ConfigMap file: the rest is checked, with a warning.
	r := tune(t, dir, "validate", file)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the trial template was not checked") || !strings.Contains(r.stdout, "configMapName: trial-templates") {
		t.Errorf("validate without the ConfigMap: exit %d, stdout %q, stderr %q; want 0, the file as written and a warning", r.code, r.stdout, r.stderr)
	}
	// The rest of the file is still checked.
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), strings.Replace(fmt.Sprintf(cmExperiment, "bad", 3), "algorithmName: random", "algorithmName: pbt", 1))
	if r := tune(t, dir, "validate", bad); r.code != 2 {
		t.Errorf("validate of an otherwise invalid file without its ConfigMap: exit %d, %s", r.code, r.stderr)
	}

	// With the file next to it: the template is checked and printed inline.
	writeFile(t, filepath.Join(dir, "trial-templates.yaml"), cmTemplates("train", ""))
	r = tune(t, dir, "validate", file)
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "--x=${trialParameters.x}") || strings.Contains(r.stdout, "configMapName") {
		t.Errorf("validate with the ConfigMap: exit %d, stdout %q, stderr %q; want the template inline", r.code, r.stdout, r.stderr)
	}
	// A template using an undeclared trial parameter is refused at its line.
	writeFile(t, filepath.Join(dir, "trial-templates.yaml"), cmTemplates("train", `, "--z=${trialParameters.z}"`))
	r = tune(t, dir, "validate", file)
	if want := "trial-templates.yaml[train.yaml]:10:89: spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command[4]: ${trialParameters.z} is not declared"; r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("validate of a bad template: exit %d, stderr %q; want 2 with %q", r.code, r.stderr, want)
	}

	t.Run("cluster", func(t *testing.T) {
		var served string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/kubeflow/configmaps/trial-templates" && served != "" {
				fmt.Fprint(w, served)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"configmaps \"trial-templates\" not found"}`)
		}))
		defer srv.Close()
		kc := writeKubeconfig(t, t.TempDir(), srv.URL)
		served = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"trial-templates","namespace":"kubeflow"},"data":{"train.yaml":"apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: from-the-cluster\n          command: [train, \"--x=${trialParameters.x}\", \"--y=${trialParameters.y}\"]\n"}}`
		// The cluster's ConfigMap, not the file next to the experiment.
		r := tune(t, dir, "validate", "--executor", "kubernetes", "--kubeconfig", kc, file)
		if r.code != 0 || !strings.Contains(r.stdout, "from-the-cluster") {
			t.Errorf("validate --executor kubernetes: exit %d, stdout %q, stderr %q; want the cluster's template", r.code, r.stdout, r.stderr)
		}
		served = ""
		r = tune(t, dir, "validate", "--executor", "kubernetes", "--kubeconfig", kc, file)
		if r.code != 2 || !strings.Contains(r.stderr, "spec.trialTemplate.configMap: ConfigMap kubeflow/trial-templates not found in cluster "+srv.URL) {
			t.Errorf("validate with no ConfigMap in the cluster: exit %d, stderr %q", r.code, r.stderr)
		}
		// No cluster answers: a warning.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		kc2 := writeKubeconfig(t, t.TempDir(), "http://"+addr)
		r = tune(t, dir, "validate", "--executor", "kubernetes", "--kubeconfig", kc2, file)
		if r.code != 0 || !strings.Contains(r.stderr, "warning: the trial template was not checked") {
			t.Errorf("validate with no cluster: exit %d, stderr %q; want 0 and a warning", r.code, r.stderr)
		}
	})
}

// TestRBACConfigMapTemplate: tune rbac reads the template's kind from the
// ConfigMap's file, since the kind decides the permissions.
func TestRBACConfigMapTemplate(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "exp.yaml"), strings.Replace(fmt.Sprintf(cmExperiment, "cm", 3), "  name: cm\n", "  name: cm\n  namespace: team-a\n", 1))
	if r := tune(t, dir, "rbac", file); r.code != 2 || !strings.Contains(r.stderr, "--trial-template-configmap") {
		t.Errorf("rbac without the ConfigMap: exit %d, stderr %q", r.code, r.stderr)
	}
	cmFile := writeFile(t, filepath.Join(t.TempDir(), "cms.yaml"), cmTemplates("train", ""))
	r := tune(t, dir, "rbac", "--trial-template-configmap", cmFile, file)
	if r.code != 0 || !strings.Contains(r.stdout, "the Job trials of experiment cm") || !strings.Contains(r.stdout, "- jobs") {
		t.Errorf("rbac with the ConfigMap: exit %d, stdout %q, stderr %q; want the Job trials' Role", r.code, r.stdout, r.stderr)
	}
}
