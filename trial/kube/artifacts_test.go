package kube

import (
	"context"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tune-hpo/tune/trial/pipeline"
)

// kfpWorkflowYAML is a KFP v1 compiled step: its metrics file is both
// uploaded as mlpipeline-metrics and, once tune declares it, an output
// parameter.
const kfpWorkflowYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: python:3.12
      command: [python, train.py]
    outputs:
      artifacts:
      - {name: mlpipeline-ui-metadata, path: /mlpipeline-ui-metadata.json}
      - {name: mlpipeline-metrics, path: /mlpipeline-metrics.json}
`

// modelWorkflowYAML also uploads a model artifact.
var modelWorkflowYAML = kfpWorkflowYAML + "      - {name: model, path: /tmp/model}\n"

func configMap(ns, name string, annotations, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations}, Data: data}
}

const s3Repo = "s3: {bucket: my-bucket, endpoint: minio:9000, insecure: true}\n"

// TestResolveArtifactRepository resolves the repository from the objects
// the workflow-controller reads, in its order.
func TestResolveArtifactRepository(t *testing.T) {
	defaultKey := map[string]string{defaultRepositoryAnnotation: "default-v1"}
	tests := map[string]struct {
		objs                []runtime.Object
		forbid              bool
		configured, certain bool
		source              string
	}{
		"nothing readable is found": {
			source: "no ConfigMap workflow-controller-configmap in namespaces [team argo kubeflow]",
		},
		"plain Argo install": {
			objs:    []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"metricsConfig": "enabled: false\n"})},
			certain: true, source: "ConfigMap argo/workflow-controller-configmap sets no artifactRepository",
		},
		"controller default": {
			objs:       []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": s3Repo})},
			configured: true, certain: true, source: "ConfigMap argo/workflow-controller-configmap",
		},
		"Kubeflow Pipelines install": {
			objs:       []runtime.Object{configMap("kubeflow", controllerConfigMap, nil, map[string]string{"artifactRepository": "archiveLogs: true\n" + s3Repo})},
			configured: true, certain: true, source: "ConfigMap kubeflow/workflow-controller-configmap",
		},
		"legacy config key": {
			objs:       []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"config": "artifactRepository:\n  " + s3Repo})},
			configured: true, certain: true, source: "ConfigMap argo/workflow-controller-configmap",
		},
		"namespaced install, first": {
			objs: []runtime.Object{
				configMap(testNS, controllerConfigMap, nil, map[string]string{}),
				configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": s3Repo}),
			},
			certain: true, source: "ConfigMap team/workflow-controller-configmap sets no artifactRepository",
		},
		"archiveLogs without a location": {
			objs:    []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": "archiveLogs: true\n"})},
			certain: true, source: "ConfigMap argo/workflow-controller-configmap sets no artifactRepository",
		},
		"namespace's repositories before the controller's": {
			objs: []runtime.Object{
				configMap(testNS, artifactRepositoriesConfigMap, defaultKey, map[string]string{"default-v1": s3Repo}),
				configMap("argo", controllerConfigMap, nil, map[string]string{}),
			},
			configured: true, certain: true, source: `ConfigMap team/artifact-repositories, key "default-v1"`,
		},
		"namespace's repositories without the default key": {
			objs: []runtime.Object{
				configMap(testNS, artifactRepositoriesConfigMap, defaultKey, map[string]string{"other": s3Repo}),
				configMap("argo", controllerConfigMap, nil, map[string]string{}),
			},
			certain: true, source: "ConfigMap argo/workflow-controller-configmap sets no artifactRepository",
		},
		"malformed": {
			objs:   []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": "s3: [\n"})},
			source: "ConfigMap argo/workflow-controller-configmap: artifactRepository:",
		},
		"forbidden": {
			forbid: true,
			source: "configmaps \"artifact-repositories\" is forbidden",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakes(tc.objs...)
			if tc.forbid {
				forbidConfigMaps(f)
			}
			e := f.executor(t, Options{Namespace: testNS})
			got := e.resolveArtifactRepository(t.Context(), testNS)
			if got.configured != tc.configured || got.certain != tc.certain || !strings.Contains(got.source, tc.source) {
				t.Errorf("resolveArtifactRepository = %+v; want configured %v, certain %v, from %q", got, tc.configured, tc.certain, tc.source)
			}
		})
	}
}

func forbidConfigMaps(f *fakes) {
	f.kube.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.GetAction).GetName()
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, name, nil)
	})
}

// submitted runs spec on e until its Workflow is created and returns it.
func submitted(t *testing.T, f *fakes, e *Executor, yaml string) *wfv1.Workflow {
	t.Helper()
	spec := newSpec(t, yaml)
	ctx, cancel := context.WithCancel(t.Context())
	r := start(ctx, spec, e.Run)
	f.waitWatch(t, "pods")
	wf, err := f.argo.ArgoprojV1alpha1().Workflows(testNS).Get(t.Context(), spec.Name, metav1.GetOptions{})
	cancel()
	_, _ = r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

func artifactNames(wf *wfv1.Workflow) []string {
	var out []string
	for _, tmpl := range wf.Spec.Templates {
		for _, a := range tmpl.Outputs.Artifacts {
			out = append(out, a.Name)
		}
	}
	return out
}

// TestArtifactRepositorySubmitted: the Workflow submitted keeps the KFP
// artifacts when the cluster has a repository and loses them when it has
// none, its metrics parameter declared either way; the resolution is
// made once per namespace.
func TestArtifactRepositorySubmitted(t *testing.T) {
	for name, tc := range map[string]struct {
		opt  ArtifactRepository
		objs []runtime.Object
		want []string
	}{
		"auto, none":       {objs: []runtime.Object{configMap("argo", controllerConfigMap, nil, nil)}},
		"auto, configured": {objs: []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": s3Repo})}, want: []string{pipeline.UIMetadataArtifact, pipeline.MetricsParameter}},
		"auto, unknown":    {},
		"none":             {opt: ArtifactRepositoryNone, objs: []runtime.Object{configMap("argo", controllerConfigMap, nil, map[string]string{"artifactRepository": s3Repo})}},
		"configured":       {opt: ArtifactRepositoryConfigured, want: []string{pipeline.UIMetadataArtifact, pipeline.MetricsParameter}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakes(tc.objs...)
			e := f.executor(t, Options{Namespace: testNS, ArtifactRepository: tc.opt})
			wf := submitted(t, f, e, kfpWorkflowYAML)
			if got := artifactNames(wf); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("artifacts submitted %v, want %v", got, tc.want)
			}
			if ps := wf.Spec.Templates[0].Outputs.Parameters; len(ps) != 1 || ps[0].Name != pipeline.MetricsParameter || ps[0].ValueFrom.Path != "/mlpipeline-metrics.json" {
				t.Errorf("parameters %+v, want mlpipeline-metrics from /mlpipeline-metrics.json", ps)
			}
			gets := len(actions(f.kube, "get", "configmaps"))
			if err := e.Check(newSpec(t, kfpWorkflowYAML)); err != nil {
				t.Fatal(err)
			}
			if again := len(actions(f.kube, "get", "configmaps")); again != gets {
				t.Errorf("a second trial read ConfigMaps again (%d gets, then %d)", gets, again)
			}
			if tc.opt != "" && gets != 0 {
				t.Errorf("--artifact-repository %s read %d ConfigMaps, want none", tc.opt, gets)
			}
		})
	}
}

// TestArtifactRepositoryOtherArtifacts: a Workflow uploading a model
// artifact is refused when the cluster certainly has no repository, and
// run (with the KFP artifacts dropped) when that is not known.
func TestArtifactRepositoryOtherArtifacts(t *testing.T) {
	f := newFakes(configMap("argo", controllerConfigMap, nil, nil))
	err := f.executor(t, Options{Namespace: testNS}).Check(newSpec(t, modelWorkflowYAML))
	if err == nil || !strings.Contains(err.Error(), "[main/model] need an artifact repository") {
		t.Errorf("Check = %v, want the model artifact refused", err)
	}
	err = f.executor(t, Options{Namespace: testNS, ArtifactRepository: ArtifactRepositoryNone}).Check(newSpec(t, modelWorkflowYAML))
	if err == nil || !strings.Contains(err.Error(), "main/model") {
		t.Errorf("Check with none = %v, want the model artifact refused", err)
	}

	f = newFakes()
	forbidConfigMaps(f)
	wf := submitted(t, f, f.executor(t, Options{Namespace: testNS}), modelWorkflowYAML)
	if got := artifactNames(wf); strings.Join(got, ",") != "model" {
		t.Errorf("artifacts submitted %v, want model only", got)
	}

	// A Workflow naming its own repository is left as it is.
	f = newFakes(configMap("argo", controllerConfigMap, nil, nil))
	own := strings.Replace(modelWorkflowYAML, "  entrypoint: main\n", "  entrypoint: main\n  artifactRepositoryRef: {configMap: my-repos, key: s3}\n", 1)
	wf = submitted(t, f, f.executor(t, Options{Namespace: testNS}), own)
	if got := artifactNames(wf); len(got) != 3 {
		t.Errorf("artifacts submitted %v, want all three kept", got)
	}
}

func TestParseArtifactRepository(t *testing.T) {
	for in, want := range map[string]ArtifactRepository{"": ArtifactRepositoryAuto, "auto": ArtifactRepositoryAuto, "none": ArtifactRepositoryNone, "configured": ArtifactRepositoryConfigured} {
		if got, err := ParseArtifactRepository(in); err != nil || got != want {
			t.Errorf("ParseArtifactRepository(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseArtifactRepository("s3"); err == nil {
		t.Error("ParseArtifactRepository(s3) succeeded")
	}
	if _, err := New(Options{Kubernetes: newFakes().kube, ArtifactRepository: "minio"}); err == nil {
		t.Error("New accepted ArtifactRepository minio")
	}
}
