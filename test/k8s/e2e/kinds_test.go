//go:build k8se2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

var (
	crdGVR   = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	tfjobGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "tfjobs"}
)

// installTFJobCRD installs a minimal TFJob CRD (kubeflow.org/v1, namespaced,
// any fields, status subresource) unless it is there, and waits until it
// is Established.
func (c *cluster) installTFJobCRD(t *testing.T) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "tfjobs.kubeflow.org"},
		"spec": map[string]any{
			"group": "kubeflow.org",
			"scope": "Namespaced",
			"names": map[string]any{"kind": "TFJob", "listKind": "TFJobList", "plural": "tfjobs", "singular": "tfjob"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
				"subresources": map[string]any{"status": map[string]any{}},
			}},
		},
	}}
	_, err := c.dyn.Resource(crdGVR).Create(t.Context(), crd, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the TFJob CRD: %v", err)
	}
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		u, err := c.dyn.Resource(crdGVR).Get(ctx, "tfjobs.kubeflow.org", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("the TFJob CRD never became Established: %v", err)
	}
}

// fakeTrainingOperator plays Kubeflow's training operator for the TFJobs of
// ns until the test ends: it creates each TFJob's Master pod from
// spec.tfReplicaSpecs.Master.template (labelled as the operator labels it,
// owned by the TFJob with blockOwnerDeletion so that foreground deletion
// waits for it), and when the pod has ended sets the TFJob's condition
// Succeeded or Failed through the status subresource.
func (c *cluster) fakeTrainingOperator(t *testing.T, ns string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			jobs, err := c.dyn.Resource(tfjobGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range jobs.Items {
				if err := c.reconcileTFJob(ctx, &jobs.Items[i]); err != nil && ctx.Err() == nil {
					t.Errorf("fake training operator, TFJob %s: %v", jobs.Items[i].GetName(), err)
				}
			}
		}
	})
}

// reconcileTFJob is one pass of the fake training operator over job.
func (c *cluster) reconcileTFJob(ctx context.Context, job *unstructured.Unstructured) error {
	if job.GetDeletionTimestamp() != nil {
		return nil
	}
	if conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions"); len(conds) > 0 {
		return nil // ended
	}
	name := job.GetName()
	podName := name + "-master-0"
	pods := c.kube.CoreV1().Pods(job.GetNamespace())
	pod, err := pods.Get(ctx, podName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return c.createMasterPod(ctx, job, podName)
	}
	if err != nil {
		return nil // try again
	}
	var typ, reason, msg string
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		typ, reason, msg = "Succeeded", "TFJobSucceeded", fmt.Sprintf("TFJob %s/%s successfully completed.", job.GetNamespace(), name)
	case corev1.PodFailed:
		typ, reason, msg = "Failed", "TFJobFailed", fmt.Sprintf("TFJob %s/%s has failed because 1 Master replica(s) failed.", job.GetNamespace(), name)
	default:
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339)
	job = job.DeepCopy()
	job.Object["status"] = map[string]any{"conditions": []any{
		map[string]any{"type": "Created", "status": "True", "reason": "TFJobCreated", "lastTransitionTime": now},
		map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg, "lastTransitionTime": now},
	}}
	_, err = c.dyn.Resource(tfjobGVR).Namespace(job.GetNamespace()).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // next pass
	}
	return err
}

// createMasterPod creates the Master replica's pod of job.
func (c *cluster) createMasterPod(ctx context.Context, job *unstructured.Unstructured, podName string) error {
	tmpl, found, err := unstructured.NestedMap(job.Object, "spec", "tfReplicaSpecs", "Master", "template")
	if err != nil || !found {
		return fmt.Errorf("no spec.tfReplicaSpecs.Master.template: %v", err)
	}
	var pt corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pt); err != nil {
		return fmt.Errorf("decoding the Master template: %w", err)
	}
	labels := map[string]string{}
	for k, v := range pt.Labels {
		labels[k] = v
	}
	labels["training.kubeflow.org/job-name"] = job.GetName()
	labels["training.kubeflow.org/replica-type"] = "master"
	labels["training.kubeflow.org/replica-index"] = "0"
	labels["training.kubeflow.org/job-role"] = "master"
	yes := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: podName, Namespace: job.GetNamespace(), Labels: labels, Annotations: pt.Annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "kubeflow.org/v1", Kind: "TFJob", Name: job.GetName(), UID: job.GetUID(),
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: pt.Spec,
	}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	_, err = c.kube.CoreV1().Pods(job.GetNamespace()).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// tfjobExperiment is a Katib TFJob experiment over x and y, StdOut
// metrics, whose Master pod template carries annotations.
func tfjobExperiment(name, ns string, parallel, max, maxFailed int, annotations string) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
  namespace: %s
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
    algorithmSettings:
      - {name: random_state, value: "5"}
  parallelTrialCount: %d
  maxTrialCount: %d
  maxFailedTrialCount: %d
  metricsCollectorSpec:
    collector: {kind: StdOut}
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "4"}}
    - {name: "y", parameterType: double, feasibleSpace: {min: "-5", max: "1"}}
  trialTemplate:
    primaryContainerName: tensorflow
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: TFJob
      spec:
        tfReplicaSpecs:
          Master:
            replicas: 1
            restartPolicy: Never
            template:
              metadata:
                annotations: %s
              spec:
                containers:
                  - name: tensorflow
                    image: example.invalid/tf-train:1
                    command: [python, train.py]
                    args: ["--x=${trialParameters.x}", "--y=${trialParameters.y}"]
`, name, ns, parallel, max, maxFailed, annotations)
}

// TestKinds runs Katib experiments whose trials are Kubeflow TFJobs, a kind
// the cluster serves through a CRD and a (fake) training operator: tune
// creates them through the dynamic client, streams the loss from the
// Master pod's log, judges them by Katib's default Kubeflow conditions and
// deletes them.
func TestKinds(t *testing.T) {
	c := newCluster(t)

	t.Run("unserved kind", func(t *testing.T) {
		ns := c.namespace(t)
		dir := t.TempDir()
		y := strings.NewReplacer("kind: TFJob", "kind: PyTorchJob", "tfReplicaSpecs", "pytorchReplicaSpecs").
			Replace(tfjobExperiment("no-operator", ns, 1, 1, 1, `{}`))
		code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", writeExperiment(t, dir, y))
		t.Logf("tune run: exit %d: %s", code, strings.TrimSpace(errOut))
		if code == 0 || !strings.Contains(errOut, "does not serve kind PyTorchJob of apiVersion kubeflow.org/v1") || !strings.Contains(errOut, "not installed") {
			t.Fatalf("tune run of PyTorchJob trials without the CRD: exit %d, want an error naming the kind and the missing CRD\n%s%s", code, out, errOut)
		}
		pods, err := c.kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil || len(pods.Items) != 0 {
			t.Errorf("pods after a refused experiment: %v %v", pods, err)
		}
	})

	c.installTFJobCRD(t)

	t.Run("succeeded", func(t *testing.T) {
		ns := c.namespace(t)
		c.fakeTrainingOperator(t, ns)
		c.fakeKubelet(t, ns)
		dir := t.TempDir()
		file := writeExperiment(t, dir, tfjobExperiment("tfjobs", ns, 2, 4, 1, `{tune.test/hold: "true"}`))
		start := time.Now()
		code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
		if code != 0 {
			t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
		}
		t.Logf("4 TFJob trials in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		ts := trials(t, dir, "tfjobs")
		if len(ts) != 4 {
			t.Fatalf("%d trials, want 4", len(ts))
		}
		for _, tr := range ts {
			want := trialLoss([]string{"--x=" + tr.Parameters["x"], "--y=" + tr.Parameters["y"]})
			if tr.Status != "Succeeded" || tr.Metrics["loss"] != want {
				t.Errorf("%s: %s, loss %v; want Succeeded with loss %v from the Master pod's log", tr.Name, tr.Status, tr.Metrics["loss"], want)
			}
		}
		jobs, err := c.dyn.Resource(tfjobGVR).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "katib.kubeflow.org/experiment=tfjobs"})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs.Items {
			if j.GetDeletionTimestamp() == nil {
				t.Errorf("TFJob %s was not deleted after its trial ended", j.GetName())
			}
		}
	})

	t.Run("failed", func(t *testing.T) {
		ns := c.namespace(t)
		c.fakeTrainingOperator(t, ns)
		dir := t.TempDir()
		// No hold: kwok fails the pod at once.
		file := writeExperiment(t, dir, tfjobExperiment("tfjob-fails", ns, 1, 1, 1, `{tune.test/fail: "true"}`))
		code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
		if code != 1 {
			t.Fatalf("tune run: exit %d, want 1 (experiment Failed)\n%s%s", code, out, errOut)
		}
		ts := trials(t, dir, "tfjob-fails")
		if len(ts) != 1 || ts[0].Status != "Failed" || ts[0].Reason != "TFJobFailed" || !strings.Contains(ts[0].Message, "1 Master replica(s) failed") {
			t.Errorf("trials %+v; want one Failed/TFJobFailed with the operator's message", ts)
		}
		t.Logf("trial %s: %s/%s: %s", ts[0].Name, ts[0].Status, ts[0].Reason, ts[0].Message)
	})
}
