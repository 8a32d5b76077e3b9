package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tune-hpo/tune/trial"
)

// pbtJobYAML is a Job whose primary container mounts a shared volume at
// Katib's suggestion_trial_dir of simple-pbt.yaml, under subPath runs.
const pbtJobYAML = `
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      restartPolicy: Never
      volumes:
        - name: ckpt
          persistentVolumeClaim: {claimName: shared}
      containers:
        - name: training-container
          image: ghcr.io/kubeflow/katib/simple-pbt:latest
          command: [python3, /opt/pbt/pbt_test.py, --checkpoint=/var/log/katib/checkpoints/]
          volumeMounts:
            - {name: ckpt, mountPath: /var/log/katib/checkpoints/, subPath: runs}
`

// TestCompileJobWithCheckpoint: the trial sees its own directory of the
// volume at the checkpoint path (Katib's <experiment>/<trial> layout), and
// with a parent an init container of the trial's image copies the
// parent's directory there first; without a parent there is nothing to
// copy.
func TestCompileJobWithCheckpoint(t *testing.T) {
	spec := newSpec(t, pbtJobYAML)
	spec.Checkpoint = &trial.Checkpoint{Path: "/var/log/katib/checkpoints/", Dir: "mnist/mnist-0001", Parent: "mnist/mnist-0007"}
	objs, err := Compile(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	pod := objs[0].(*batchv1.Job).Spec.Template.Spec
	if got := pod.Containers[0].VolumeMounts[0].SubPath; got != "runs/mnist/mnist-0001" {
		t.Errorf("subPath %q, want runs/mnist/mnist-0001", got)
	}
	want := []corev1.Container{{
		Name:         CheckpointCopyContainer,
		Image:        "ghcr.io/kubeflow/katib/simple-pbt:latest",
		Command:      []string{"cp", "-a", "/tune-checkpoints/mnist/mnist-0007/.", "/tune-checkpoints/mnist/mnist-0001"},
		VolumeMounts: []corev1.VolumeMount{{Name: "ckpt", MountPath: "/tune-checkpoints", SubPath: "runs"}},
	}}
	if diff := cmp.Diff(want, pod.InitContainers, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Resources" }, cmp.Ignore())); diff != "" {
		t.Errorf("init containers (-want +got):\n%s", diff)
	}

	spec = newSpec(t, pbtJobYAML)
	spec.Checkpoint = &trial.Checkpoint{Path: "/var/log/katib/checkpoints", Dir: "mnist/mnist-0001"}
	objs, err = Compile(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	if pod := objs[0].(*batchv1.Job).Spec.Template.Spec; len(pod.InitContainers) != 0 || pod.Containers[0].VolumeMounts[0].SubPath != "runs/mnist/mnist-0001" {
		t.Errorf("generation 0: init containers %v, mounts %v", pod.InitContainers, pod.Containers[0].VolumeMounts)
	}
}

// TestCheckpointRefused: a template that mounts nothing at the checkpoint
// path (the checkpoints would die with the pod), and a Workflow, are
// refused, saying what to do.
func TestCheckpointRefused(t *testing.T) {
	spec := newSpec(t, jobYAML)
	spec.Checkpoint = &trial.Checkpoint{Path: "/var/log/katib/checkpoints/", Dir: "mnist/mnist-0001"}
	if _, err := Compile(spec, ""); err == nil || !strings.Contains(err.Error(), "mounts no volume at /var/log/katib/checkpoints/") {
		t.Errorf("no volume at the checkpoint path: %v", err)
	}
	spec = newSpec(t, workflowYAML)
	spec.Checkpoint = &trial.Checkpoint{Path: "/ckpt", Dir: "mnist/mnist-0001"}
	if _, err := Compile(spec, ""); err == nil || !strings.Contains(err.Error(), "not to Workflow steps") {
		t.Errorf("Workflow: %v", err)
	}
}

// TestCompileTFJobWithCheckpoint: a kind with pod templates gets the
// checkpoint directory in the templates that hold the primary container.
func TestCompileTFJobWithCheckpoint(t *testing.T) {
	spec := tfjobSpec(t)
	for _, role := range []string{"Master", "Worker"} {
		tmpl, _, _ := unstructured.NestedMap(spec.Object, "spec", "tfReplicaSpecs", role, "template", "spec")
		cs := tmpl["containers"].([]any)
		cs[0].(map[string]any)["volumeMounts"] = []any{map[string]any{"name": "ckpt", "mountPath": "/ckpt"}}
		tmpl["volumes"] = []any{map[string]any{"name": "ckpt", "persistentVolumeClaim": map[string]any{"claimName": "shared"}}}
		unstructured.SetNestedMap(spec.Object, tmpl, "spec", "tfReplicaSpecs", role, "template", "spec")
	}
	spec.Checkpoint = &trial.Checkpoint{Path: "/ckpt", Dir: "mnist/mnist-0001", Parent: "mnist/mnist-0002"}
	objs, err := Compile(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	u := objs[0].(*unstructured.Unstructured)
	for _, role := range []string{"Master", "Worker"} {
		raw, _, _ := unstructured.NestedMap(u.Object, "spec", "tfReplicaSpecs", role, "template", "spec")
		var pod corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &pod); err != nil {
			t.Fatal(err)
		}
		if pod.Containers[0].VolumeMounts[0].SubPath != "mnist/mnist-0001" || len(pod.InitContainers) != 1 {
			t.Errorf("%s: mounts %v, init containers %v", role, pod.Containers[0].VolumeMounts, pod.InitContainers)
		}
	}
}
