//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// faultExperiment is a Katib Job experiment with one trial per fault, a
// grid over the categorical parameter fault; each trial's pod goes to the
// node of its fault (faultNodes) and carries its fault in the annotation
// tune.test/fault, for the test's kubelet.
func faultExperiment(name, ns, restartPolicy string, backoffLimit int, faults []string) string {
	return fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  parallelTrialCount: %[5]d
  maxTrialCount: %[5]d
  maxFailedTrialCount: %[5]d
  parameters:
    - {name: fault, parameterType: categorical, feasibleSpace: {list: [%[6]s]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: fault, reference: fault}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        backoffLimit: %[4]d
        template:
          metadata:
            annotations: {tune.test/fault: "${trialParameters.fault}"}
          spec:
            restartPolicy: %[3]s
            nodeSelector: {tune.test/fault-node: "%[2]s-${trialParameters.fault}"}
            tolerations: [{key: tune.test/fault, operator: Exists, effect: NoSchedule}]
            containers:
              - name: main
                image: example.invalid/train:1
                command: [train]
                resources:
                  limits: {memory: 2Gi}
`, name, ns, restartPolicy, backoffLimit, len(faults), strings.Join(faults, ", "))
}

// faultNodes creates one node per fault, labelled for it and tainted so
// that no other test's pod lands there, Ready, with no kubelet (kwok does
// not manage it): the test's kubelet (faultKubelet) sets the status of
// its pods. They are deleted when the test ends.
func (c *cluster) faultNodes(t *testing.T, ns string, faults []string) {
	t.Helper()
	for _, fault := range faults {
		name := ns + "-" + fault
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tune.test/fault-node": name, "kubernetes.io/hostname": name}},
			Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "tune.test/fault", Value: fault, Effect: corev1.TaintEffectNoSchedule}}},
		}
		if _, err := c.kube.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.kube.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
		res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("10")}
		// The node lifecycle controller taints a new node meanwhile.
		if err := retry(t.Context(), func() error {
			n, err := c.kube.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Status = corev1.NodeStatus{
				Capacity: res, Allocatable: res,
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
					LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
			}
			_, err = c.kube.CoreV1().Nodes().UpdateStatus(t.Context(), n, metav1.UpdateOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// podStatus sets the status of pod as fn changes it, on its latest
// version.
func (c *cluster) podStatus(ctx context.Context, pod *corev1.Pod, fn func(*corev1.Pod)) error {
	return retry(ctx, func() error {
		p, err := c.kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		fn(p)
		_, err = c.kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
}

// started gives pod the status the kubelet writes once its sandbox is up:
// scheduled and initialized, a pod IP, phase Pending until main runs.
func started(p *corev1.Pod) {
	now := metav1.Now()
	p.Status.Phase = corev1.PodPending
	p.Status.HostIP, p.Status.PodIP, p.Status.StartTime = "127.0.0.1", "10.244.9.9", &now
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: "containers with unready status: [main]", LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: "containers with unready status: [main]", LastTransitionTime: now},
	}
}

// mainStatus sets the status of pod's container main.
func mainStatus(p *corev1.Pod, st corev1.ContainerStatus) {
	st.Name, st.Image, st.ImageID = "main", "example.invalid/train:1", ""
	p.Status.ContainerStatuses = []corev1.ContainerStatus{st}
}

// running is main running, the pod Running and Ready.
func running(p *corev1.Pod) {
	started(p)
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions[2] = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
	p.Status.Conditions[3] = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
	mainStatus(p, corev1.ContainerStatus{Ready: true, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}})
}

// faultKubelet plays the kubelet of the fault nodes for the trial pods of
// ns: once a pod is bound to its node, it writes the status the kubelet
// writes for the pod's fault (annotation tune.test/fault), and does what
// the fault needs to the node; pods being deleted are removed at once,
// as the kubelet confirms a deletion. It runs until the test ends.
func (c *cluster) faultKubelet(t *testing.T, ns string, fault func(ctx context.Context, pod *corev1.Pod) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	done := map[string]bool{}
	wg.Go(func() {
		for ctx.Err() == nil {
			w, err := c.kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tune"})
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				pod, ok := ev.Object.(*corev1.Pod)
				if !ok || ev.Type == watch.Deleted || !strings.HasPrefix(pod.Spec.NodeName, ns+"-") {
					continue
				}
				if pod.DeletionTimestamp != nil {
					_ = c.kube.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)})
					continue
				}
				if done[pod.Name] {
					continue
				}
				done[pod.Name] = true
				wg.Go(func() {
					if err := fault(ctx, pod); err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
						t.Errorf("fault kubelet, pod %s: %v", pod.Name, err)
					}
				})
			}
			w.Stop()
		}
	})
}

// faultCase is what a trial with a fault must end with.
type faultCase struct {
	// exitCode is the trial's exit code (0: none).
	exitCode int
	reason   string
	// message must match the trial's message, and status the line tune
	// run prints when the condition is first seen (empty: a cause that
	// ends the trial at once, whose Failed line says it all).
	message, status string
}

// TestPodFailuresReported puts each trial's pod into a state Kubernetes
// reports (image pull back-off, missing Secret, OOMKilled, evicted, node
// not ready, node deleted; and, with restartPolicy OnFailure, a crash loop
// and an OOM kill restarted in place that then crash-loops), with the
// status the kubelet writes: each trial ends Failed with that reason and
// the kubelet's message, within the grace given on the command line, and
// tune run prints the condition when it is first seen.
func TestPodFailuresReported(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	never := []string{"imagepull", "secret", "oomkilled", "evicted", "notready", "nodedeleted"}
	onFailure := []string{"crashloop", "oomloop"}
	c.faultNodes(t, ns, append(never, onFailure...))
	dirNever, dirOnFailure := t.TempDir(), t.TempDir()

	c.faultKubelet(t, ns, func(ctx context.Context, pod *corev1.Pod) error {
		node := pod.Spec.NodeName
		switch pod.Annotations["tune.test/fault"] {
		case "imagepull":
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				started(p)
				mainStatus(p, corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason: "ImagePullBackOff", Message: `Back-off pulling image "example.invalid/train:1": ErrImagePull: failed to resolve reference "example.invalid/train:1": not found`}}})
			})
		case "secret":
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				started(p)
				mainStatus(p, corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason: "CreateContainerConfigError", Message: `secret "wandb-key" not found`}}})
			})
		case "oomkilled":
			if err := c.podStatus(ctx, pod, running); err != nil {
				return err
			}
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodFailed
				p.Status.Conditions[2].Status, p.Status.Conditions[3].Status = corev1.ConditionFalse, corev1.ConditionFalse
				mainStatus(p, corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}})
			})
		case "evicted":
			if err := c.podStatus(ctx, pod, running); err != nil {
				return err
			}
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				p.Status.Phase, p.Status.Reason = corev1.PodFailed, "Evicted"
				p.Status.Message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 61Mi. Container main was using 1900Mi, request is 0, has larger consumption of memory."
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
					Reason: "TerminationByKubelet", Message: "The node was low on resource: memory.", LastTransitionTime: metav1.Now()})
				mainStatus(p, corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode: 137, Reason: "Error", StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}})
			})
		case "notready":
			if err := c.podStatus(ctx, pod, running); err != nil {
				return err
			}
			return retry(ctx, func() error {
				n, err := c.kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
				if err != nil {
					return err
				}
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady",
					Message: "container runtime network not ready: NetworkReady=false", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
				_, err = c.kube.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
				return err
			})
		case "nodedeleted":
			if err := c.podStatus(ctx, pod, running); err != nil {
				return err
			}
			return c.kube.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{})
		case "crashloop":
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				running(p)
				p.Status.Conditions[2].Status, p.Status.Conditions[3].Status = corev1.ConditionFalse, corev1.ConditionFalse
				mainStatus(p, corev1.ContainerStatus{RestartCount: 2,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
						Message: fmt.Sprintf("back-off 20s restarting failed container=main pod=%s_%s(%s)", p.Name, p.Namespace, p.UID)}},
					LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error",
						Message: "ValueError: learning rate must be positive", StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}})
			})
		case "oomloop":
			// OOMKilled and restarted in place: reported, the trial goes
			// on; once tune has stored it, the container crash-loops.
			if err := c.podStatus(ctx, pod, func(p *corev1.Pod) {
				running(p)
				p.Status.ContainerStatuses[0].RestartCount = 1
				p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
					ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.Now(), FinishedAt: metav1.Now()}
			}); err != nil {
				return err
			}
			if err := waitTrialReason(ctx, dirOnFailure, "onfailure", pod.Labels["katib.kubeflow.org/trial"], "OOMKilled"); err != nil {
				return err
			}
			return c.podStatus(ctx, pod, func(p *corev1.Pod) {
				cs := &p.Status.ContainerStatuses[0]
				cs.RestartCount, cs.Ready, cs.Started = 2, false, ptr(false)
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
					Message: fmt.Sprintf("back-off 10s restarting failed container=main pod=%s_%s(%s)", p.Name, p.Namespace, p.UID)}}
			})
		}
		return fmt.Errorf("no fault %q", pod.Annotations["tune.test/fault"])
	})

	const grace = "3s"
	flags := []string{"run", "--executor", "kubernetes", "--image-pull-timeout", grace, "--container-create-timeout", grace,
		"--crash-loop-timeout", grace, "--node-lost-timeout", grace}
	var wg sync.WaitGroup
	var codeOnFailure int
	var outOnFailure, errOnFailure string
	wg.Go(func() {
		file := writeExperiment(t, dirOnFailure, faultExperiment("onfailure", ns, "OnFailure", 6, onFailure))
		codeOnFailure, outOnFailure, errOnFailure = runTune(t, dirOnFailure, append(flags, file)...)
	})
	file := writeExperiment(t, dirNever, faultExperiment("never", ns, "Never", 0, never))
	start := time.Now()
	code, out, errOut := runTune(t, dirNever, append(flags, file)...)
	wg.Wait()
	t.Logf("both experiments in %s", time.Since(start).Round(time.Millisecond))
	if code != 1 || codeOnFailure != 1 {
		t.Fatalf("tune run: exit %d and %d, want 1 (every trial Failed)\n%s%s\n%s%s", code, codeOnFailure, out, errOut, outOnFailure, errOnFailure)
	}

	pod := `[a-z0-9-]+` // the Job's pod
	// When the Job controller fails the Job (backoffLimit 0) before tune
	// has read the pod, the Job's word follows the pod's.
	jobFailed := `(; BackoffLimitExceeded: Job has reached the specified backoff limit)?$`
	cases := map[string]faultCase{
		"imagepull": {0, "ImagePullBackOff",
			`^Back-off pulling image "example.invalid/train:1": ErrImagePull: failed to resolve reference "example.invalid/train:1": not found \(container main of pod ` + pod + `\); still so after 3s$`,
			`ImagePullBackOff: Back-off pulling image "example.invalid/train:1": ErrImagePull: .* \(container main of pod ` + pod + `\)$`},
		"secret": {0, "CreateContainerConfigError",
			`^secret "wandb-key" not found \(container main of pod ` + pod + `\); still so after 3s$`,
			`CreateContainerConfigError: secret "wandb-key" not found \(container main of pod ` + pod + `\)$`},
		"oomkilled": {137, "OOMKilled",
			`^container main of pod ` + pod + ` was killed for using more memory than it may \(limit 2Gi\); exit code 137` + jobFailed, ""},
		"evicted": {137, "Evicted",
			`^pod ` + pod + ` was evicted: The node was low on resource: memory\. Threshold quantity: 100Mi, available: 61Mi\. Container main was using 1900Mi, request is 0, has larger consumption of memory\.` + jobFailed, ""},
		"notready": {0, "NodeLost",
			`^node ` + ns + `-notready, where pod ` + pod + ` runs, is not ready: Ready=False \(KubeletNotReady\): container runtime network not ready: NetworkReady=false since \S+, for 3s$`,
			`NodeNotReady: node ` + ns + `-notready, where pod ` + pod + ` runs, is not ready: Ready=False \(KubeletNotReady\)`},
		"nodedeleted": {0, "NodeLost", `^node ` + ns + `-nodedeleted, where pod ` + pod + ` ran, was deleted$`, ""},
		"crashloop": {3, "CrashLoopBackOff",
			`^container main of pod ` + pod + ` keeps failing \(2 restarts\); it last exited with code 3 \(Error\): ValueError: learning rate must be positive; back-off 20s restarting failed container=main pod=.*; still so after 3s$`,
			`CrashLoopBackOff: container main of pod ` + pod + ` keeps failing \(2 restarts\)`},
		"oomloop": {137, "CrashLoopBackOff",
			`^container main of pod ` + pod + ` keeps failing \(2 restarts\); it last exited with code 137 \(OOMKilled\); back-off 10s .*; still so after 3s$`,
			`OOMKilled: container main of pod ` + pod + ` was killed for using more memory than it may \(limit 2Gi\); exit code 137; the kubelet restarts it$`},
	}
	check := func(dir, exp, output string, faults []string) {
		ts := trials(t, dir, exp)
		codes := exitCodes(t, dir, exp)
		if len(ts) != len(faults) {
			t.Fatalf("%s: %d trials, want %d", exp, len(ts), len(faults))
		}
		for _, tr := range ts {
			fault := tr.Parameters["fault"]
			want, ok := cases[fault]
			if !ok {
				t.Errorf("%s: unknown fault %q", tr.Name, fault)
				continue
			}
			if tr.Status != "Failed" || tr.Reason != want.reason || !regexp.MustCompile(want.message).MatchString(tr.Message) {
				t.Errorf("%s (%s): %s/%s %q; want Failed/%s matching %s", tr.Name, fault, tr.Status, tr.Reason, tr.Message, want.reason, want.message)
			}
			if codes[tr.Name] != want.exitCode {
				t.Errorf("%s (%s): exit code %d, want %d", tr.Name, fault, codes[tr.Name], want.exitCode)
			}
			// The line tune run printed when the trial ended, and, for a
			// condition with a grace, the one when it was first seen,
			// before that.
			end := regexp.MustCompile(`(?m)^\S+ \[\d+/\d+\] trial ` + tr.Name + ` Failed: (.*); ETA .*$`).FindStringSubmatchIndex(output)
			if end == nil || !strings.HasPrefix(tr.Message, output[end[2]:end[3]]) {
				t.Errorf("%s (%s): no line saying it Failed with its message in tune run's output", tr.Name, fault)
				continue
			}
			if want.status == "" {
				continue
			}
			seen := regexp.MustCompile(`(?m)^\S+ \[\d+/\d+\] trial ` + tr.Name + ` ` + want.status).FindStringIndex(output)
			if seen == nil || seen[0] > end[0] {
				t.Errorf("%s (%s): no line matching %q before the trial Failed", tr.Name, fault, want.status)
			}
		}
	}
	check(dirNever, "never", errOut, never)
	check(dirOnFailure, "onfailure", errOnFailure, onFailure)
	t.Logf("tune run (never):\n%s%s\ntune run (onfailure):\n%s%s", out, errOut, outOnFailure, errOnFailure)
}

// waitTrialReason waits until tune get trials shows trial of exp in dir
// with reason.
func waitTrialReason(ctx context.Context, dir, exp, trial, reason string) error {
	for deadline := time.Now().Add(60 * time.Second); ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
		cmd := exec.CommandContext(ctx, tuneBin, "--store", filepath.Join(dir, "tune.db"), "get", "trials", exp, "-o", "json")
		out, err := cmd.Output()
		var ts []jsonTrial
		if err == nil {
			err = json.Unmarshal(out, &ts)
		}
		for _, tr := range ts {
			if tr.Name == trial && tr.Reason == reason {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("trial %s never showed reason %s: %s %v", trial, reason, out, err)
		}
	}
	return ctx.Err()
}

// exitCodes returns the exit code of each trial of exp in dir (0 for
// none), from tune get trials -o json.
func exitCodes(t *testing.T, dir, exp string) map[string]int {
	t.Helper()
	code, out, errOut := runTune(t, dir, "get", "trials", exp, "-o", "json")
	if code != 0 {
		t.Fatalf("tune get trials: exit %d: %s", code, errOut)
	}
	var ts []struct {
		Name     string `json:"name"`
		ExitCode *int   `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(out), &ts); err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for _, tr := range ts {
		if tr.ExitCode != nil {
			codes[tr.Name] = *tr.ExitCode
		}
	}
	return codes
}
