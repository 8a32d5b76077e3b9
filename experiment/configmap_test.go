package experiment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
)

// katibConfigMapExample is Katib's trial-configmap-source.yaml with its
// trial parameters fixed to match the ConfigMap's defaultTrialTemplate.yaml
// (learningRate and momentum).
func katibConfigMapExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/configmap/trial-configmap-source.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"    - name: num-layers\n      parameterType: int\n      feasibleSpace:\n        min: \"2\"\n        max: \"5\"\n",
		"    - name: momentum\n      parameterType: double\n      feasibleSpace:\n        min: \"0.5\"\n        max: \"0.9\"\n",
		"      - name: numberLayers\n        description: Number of training model layers\n        reference: num-layers\n      - name: optimizer\n        description: Training model optimizer (sdg, adam or ftrl)\n        reference: optimizer\n",
		"      - name: momentum\n        reference: momentum\n",
		"    - name: optimizer\n      parameterType: categorical\n      feasibleSpace:\n        list:\n          - sgd\n          - adam\n          - ftrl\n",
		"",
	).Replace(string(b))
	if s == string(b) || strings.Contains(s, "numberLayers") || strings.Contains(s, "optimizer") {
		t.Fatal("the example changed: update the replacements")
	}
	return s
}

// TestConfigMapTemplate reads a trial template from a ConfigMap file as
// Katib's controller reads it from the cluster, and checks it as an
// inline trialSpec.
func TestConfigMapTemplate(t *testing.T) {
	t.Run("Katib's example as shipped is refused as Katib's webhook refuses it", func(t *testing.T) {
		// The ConfigMap is found next to the experiment as trial-templates.yaml.
		_, _, err := experiment.LoadWith("testdata/configmap/trial-configmap-source.yaml", experiment.ConfigMapFiles("testdata/configmap"))
		if !errors.Is(err, experiment.ErrInvalid) {
			t.Fatalf("LoadWith = %v, want invalid", err)
		}
		for _, want := range []string{
			"testdata/configmap/trial-templates.yaml[defaultTrialTemplate.yaml]:15:15: spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command[5]: ${trialParameters.momentum} is not declared",
			`trial-configmap-source.yaml:45:9: spec.trialTemplate.trialParameters[1].name: trial parameter "numberLayers" is not used`,
			`trial-configmap-source.yaml:48:9: spec.trialTemplate.trialParameters[2].name: trial parameter "optimizer" is not used`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})

	t.Run("fixed example", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "exp.yaml")
		if err := os.WriteFile(file, []byte(katibConfigMapExample(t)), 0o644); err != nil {
			t.Fatal(err)
		}
		e, src, err := experiment.LoadWith(file, experiment.ConfigMapFiles(dir, "testdata/configmap/trial-templates.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "configMapName: trial-templates") {
			t.Error("the source returned is not the file as written")
		}
		tt := e.Spec.TrialTemplate
		if tt.ConfigMap != nil || tt.TrialSpec == nil {
			t.Fatalf("template not inlined: configMap %+v, trialSpec %v", tt.ConfigMap, tt.TrialSpec)
		}
		// Katib defaults no conditions for a ConfigMap's template: the
		// file's own are kept.
		if tt.SuccessCondition != `status.conditions.#(type=="Complete")#|#(status=="True")#` {
			t.Errorf("successCondition %q", tt.SuccessCondition)
		}
		if err := experiment.CheckRunnable(e); err != nil {
			t.Errorf("CheckRunnable: %v", err)
		}
		obj, err := e.Render("trial-configmap-source-0001", suggest.Assignment{"lr": "0.02", "momentum": "0.7"})
		if err != nil {
			t.Fatal(err)
		}
		c := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		want := []any{"python3", "/opt/pytorch-mnist/mnist.py", "--epochs=1", "--batch-size=16", "--lr=0.02", "--momentum=0.7"}
		if diff := cmp.Diff(want, c["command"]); diff != "" {
			t.Errorf("rendered command (-want +got):\n%s", diff)
		}
		if c["image"] != "ghcr.io/kubeflow/katib/pytorch-mnist-cpu:latest" {
			t.Errorf("image %v", c["image"])
		}
		// Without a lookup the experiment parses as written and cannot run.
		plain, _, err := experiment.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := experiment.CheckRunnable(plain); !errors.Is(err, experiment.ErrUnsupported) || !strings.Contains(err.Error(), "kubeflow/trial-templates") {
			t.Errorf("CheckRunnable of an unread ConfigMap template = %v", err)
		}
	})

	lookupOf := func(cm *corev1.ConfigMap) experiment.ConfigMapLookup {
		return func(experiment.ConfigMapSource) (*corev1.ConfigMap, string, error) { return cm, "cluster", nil }
	}
	cm := func(ns, name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	}
	fixed := func(t *testing.T) []byte { return []byte(katibConfigMapExample(t)) }
	for name, tc := range map[string]struct {
		lookup experiment.ConfigMapLookup
		want   string
	}{
		"missing key": {lookupOf(cm("kubeflow", "trial-templates", map[string]string{"other.yaml": "kind: Job", "b": "x"})),
			`exp.yaml:43:7: spec.trialTemplate.configMap.templatePath: ConfigMap kubeflow/trial-templates (cluster) has no key "defaultTrialTemplate.yaml" (it has: b, other.yaml)`},
		"another namespace": {lookupOf(cm("team-a", "trial-templates", nil)),
			"spec.trialTemplate.configMap: cluster holds ConfigMap team-a/trial-templates, not kubeflow/trial-templates"},
		"not YAML": {lookupOf(cm("kubeflow", "trial-templates", map[string]string{"defaultTrialTemplate.yaml": "a: [1"})),
			`ConfigMap kubeflow/trial-templates key "defaultTrialTemplate.yaml" is not YAML`},
		"not an object": {lookupOf(cm("kubeflow", "trial-templates", map[string]string{"defaultTrialTemplate.yaml": "- 1\n"})),
			"does not hold a trial template"},
		"a Job field of the wrong type, at its line in the template": {lookupOf(cm("kubeflow", "trial-templates", map[string]string{"defaultTrialTemplate.yaml": "apiVersion: batch/v1\nkind: Job\nspec:\n  backoffLimit: many\n  template:\n    spec:\n      containers:\n        - name: training-container\n          command: [\"--lr=${trialParameters.learningRate}\", \"${trialParameters.momentum}\"]\n"})),
			"cluster[defaultTrialTemplate.yaml]:4:17: spec.trialTemplate.trialSpec.spec.backoffLimit:"},
		"missing ConfigMap": {func(experiment.ConfigMapSource) (*corev1.ConfigMap, string, error) {
			return nil, "", errors.New(`configmaps "trial-templates" not found`)
		}, `exp.yaml:40:5: spec.trialTemplate.configMap: configmaps "trial-templates" not found`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := experiment.ParseWith(fixed(t), "exp.yaml", tc.lookup)
			if !errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseWith = %v\nwant invalid, with %q", err, tc.want)
			}
		})
	}

	t.Run("unavailable", func(t *testing.T) {
		_, err := experiment.ParseWith(fixed(t), "exp.yaml", experiment.ConfigMapFiles(t.TempDir()))
		if !errors.Is(err, experiment.ErrTemplateUnavailable) || errors.Is(err, experiment.ErrInvalid) || !strings.Contains(err.Error(), "trial-templates.yaml") {
			t.Errorf("ParseWith with no ConfigMap file = %v, want ErrTemplateUnavailable naming the file looked for", err)
		}
	})
}

// TestConfigMapFiles finds a ConfigMap among the documents and Lists of
// files, by name and namespace.
func TestConfigMapFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	multi := write("multi.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: kubeflow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: trial-templates, namespace: other}
data: {t.yaml: "wrong namespace"}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: trial-templates, namespace: kubeflow}
    data: {t.yaml: "right one"}
`)
	bad := write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\nbogus: true\n")
	src := experiment.ConfigMapSource{ConfigMapName: "trial-templates", ConfigMapNamespace: "kubeflow", TemplatePath: "t.yaml"}

	cm, where, err := experiment.ConfigMapFiles(dir, multi)(src)
	if err != nil || cm.Data["t.yaml"] != "right one" || where != multi {
		t.Errorf("lookup = %v from %q, %v; want the List's ConfigMap", cm, where, err)
	}
	if _, _, err := experiment.ConfigMapFiles(dir, multi)(experiment.ConfigMapSource{ConfigMapName: "nope", ConfigMapNamespace: "kubeflow"}); err == nil || errors.Is(err, experiment.ErrTemplateUnavailable) || !strings.Contains(err.Error(), "kubeflow/nope is not in "+multi) {
		t.Errorf("absent ConfigMap: %v", err)
	}
	if _, _, err := experiment.ConfigMapFiles(dir, bad)(src); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("a ConfigMap with an unknown field: %v", err)
	}
	if _, _, err := experiment.ConfigMapFiles(dir, filepath.Join(dir, "absent.yaml"))(src); err == nil || errors.Is(err, experiment.ErrTemplateUnavailable) {
		t.Errorf("a named file that does not exist: %v, want an error that is not ErrTemplateUnavailable", err)
	}
	// Next to the experiment: NAME.yml when there is no NAME.yaml.
	write("trial-templates.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: trial-templates}\ndata: {t.yaml: beside}\n")
	if cm, _, err := experiment.ConfigMapFiles(dir)(src); err != nil || cm.Data["t.yaml"] != "beside" {
		t.Errorf("lookup next to the experiment = %v, %v", cm, err)
	}
}
