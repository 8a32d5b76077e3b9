package kube

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/trial"
)

// statusLog records the OnStatus calls of a trial.
type statusLog struct {
	mu    sync.Mutex
	calls []string
}

func (s *statusLog) on(reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, reason+": "+message)
}

func (s *statusLog) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// has reports whether a call started with prefix.
func (s *statusLog) has(prefix string) bool {
	for _, c := range s.list() {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// waiting returns a pod of the trial whose primary container waits with
// reason and message, as the kubelet writes it.
func waiting(name, reason, message string) *corev1.Pod {
	p := pod(name, corev1.PodPending)
	p.Spec.NodeName = ""
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "training-container", Image: "example.invalid/train:1",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
	}}
	return p
}

// jobWithBackoff is jobYAML with backoffLimit n.
func jobWithBackoff(n string) string {
	return strings.Replace(jobYAML, "backoffLimit: 2", "backoffLimit: "+n, 1)
}

// TestWaitingContainerFailsAfterGrace: each waiting reason the kubelet
// writes is reported through OnStatus at once, with the kubelet's message
// and where it comes from, and fails the trial with that reason once its
// grace passes (the grace of that kind, not another's); hopeless ones fail
// at once.
func TestWaitingContainerFailsAfterGrace(t *testing.T) {
	const short, long = 150 * time.Millisecond, time.Hour
	crash := func() *corev1.Pod {
		p := waiting("p1", "CrashLoopBackOff", "back-off 40s restarting failed container=training-container pod=p1_team(p1)")
		p.Status.Phase = corev1.PodRunning
		cs := &p.Status.ContainerStatuses[0]
		cs.RestartCount = 3
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "CUDA error: out of memory\nat step 3"}
		return p
	}
	two := 2
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		opts    Options
		reason  string
		message string // the whole message of the result
		code    *int
	}{
		{"ImagePullBackOff", waiting("p1", "ImagePullBackOff", `Back-off pulling image "example.invalid/train:1"`),
			Options{ImagePullTimeout: short, CrashLoopTimeout: long, ContainerCreateTimeout: long},
			"ImagePullBackOff", `Back-off pulling image "example.invalid/train:1" (container training-container of pod p1); still so after 150ms`, nil},
		{"ErrImagePull", waiting("p1", "ErrImagePull", `failed to pull and unpack image "example.invalid/train:1": not found`),
			Options{ImagePullTimeout: short, CrashLoopTimeout: long, ContainerCreateTimeout: long},
			"ErrImagePull", `failed to pull and unpack image "example.invalid/train:1": not found (container training-container of pod p1); still so after 150ms`, nil},
		{"CreateContainerConfigError", waiting("p1", "CreateContainerConfigError", `secret "wandb" not found`),
			Options{ContainerCreateTimeout: short, ImagePullTimeout: long, CrashLoopTimeout: long},
			"CreateContainerConfigError", `secret "wandb" not found (container training-container of pod p1); still so after 150ms`, nil},
		{"CreateContainerError", waiting("p1", "CreateContainerError", `failed to reserve container name`),
			Options{ContainerCreateTimeout: short, ImagePullTimeout: long, CrashLoopTimeout: long},
			"CreateContainerError", `failed to reserve container name (container training-container of pod p1); still so after 150ms`, nil},
		{"CrashLoopBackOff", crash(),
			Options{CrashLoopTimeout: short, ImagePullTimeout: long, ContainerCreateTimeout: long},
			"CrashLoopBackOff", "container training-container of pod p1 keeps failing (3 restarts); it last exited with code 2 (Error): CUDA error: out of memory / at step 3; back-off 40s restarting failed container=training-container pod=p1_team(p1); still so after 150ms", &two},
		{"InvalidImageName", waiting("p1", "InvalidImageName", `Failed to apply default image tag "Train:1": couldn't parse image name`),
			Options{ImagePullTimeout: long, CrashLoopTimeout: long, ContainerCreateTimeout: long},
			"InvalidImageName", `Failed to apply default image tag "Train:1": couldn't parse image name (container training-container of pod p1)`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes(tc.pod)
			e := f.executor(t, tc.opts)
			spec := newSpec(t, jobYAML)
			var st statusLog
			spec.OnStatus = st.on
			start := time.Now()
			res, err := e.Run(t.Context(), spec, &syncBuffer{}, &syncBuffer{})
			if err != nil {
				t.Fatal(err)
			}
			want := trial.Result{State: trial.Failed, Reason: tc.reason, Message: tc.message, ExitCode: tc.code}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if tc.reason != "InvalidImageName" {
				if el := time.Since(start); el < short {
					t.Errorf("failed after %v, before the grace of %v", el, short)
				}
				// Told at once, without the grace's note.
				msg := strings.TrimSuffix(tc.message, "; still so after 150ms")
				if calls := st.list(); len(calls) == 0 || calls[0] != tc.reason+": "+msg {
					t.Errorf("OnStatus calls = %q, want first %q", calls, tc.reason+": "+msg)
				}
			}
			if n := len(actions(f.kube, "delete", "jobs")); n != 1 {
				t.Errorf("%d deletes of the Job, want 1", n)
			}
		})
	}
}

// TestImagePullReportedThenPulled: with no limit, a pull back-off is
// reported, and cleared when the image comes and the container runs; the
// trial then succeeds.
func TestImagePullReportedThenPulled(t *testing.T) {
	p := waiting("p1", "ImagePullBackOff", `Back-off pulling image "x"`)
	f := newFakes(p)
	e := f.executor(t, Options{ImagePullTimeout: -1})
	spec := newSpec(t, jobYAML)
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	waitFor(t, func() bool { return st.has("ImagePullBackOff: ") })
	if _, err := f.kube.CoreV1().Pods(testNS).UpdateStatus(t.Context(), pod("p1", corev1.PodRunning), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.has(": ") && st.list()[len(st.list())-1] == ": " })
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
}

// TestCrashLoopRecovers: a container that crash-loops, then runs for the
// grace without failing, is no longer a problem: the trial is not failed
// when the grace since the first back-off has passed.
func TestCrashLoopRecovers(t *testing.T) {
	const grace = 300 * time.Millisecond
	p := waiting("p1", "CrashLoopBackOff", "back-off 10s restarting failed container")
	p.Status.Phase = corev1.PodRunning
	f := newFakes(p)
	e := f.executor(t, Options{CrashLoopTimeout: grace})
	spec := newSpec(t, jobYAML)
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	waitFor(t, func() bool { return st.has("CrashLoopBackOff: ") })
	if _, err := f.kube.CoreV1().Pods(testNS).UpdateStatus(t.Context(), pod("p1", corev1.PodRunning), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Twice the grace since the back-off, more than the grace running.
	time.Sleep(2 * grace)
	select {
	case <-r.done:
		t.Fatalf("trial ended while its container ran: %+v", r.res)
	default:
	}
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
}

// TestCrashLoopRunsBetweenCrashes: a container that runs briefly between
// back-offs still crash-loops: the clock keeps running from the first
// back-off, and the trial fails when the grace has passed and it backs off
// again.
func TestCrashLoopRunsBetweenCrashes(t *testing.T) {
	const grace = 200 * time.Millisecond
	back := waiting("p1", "CrashLoopBackOff", "back-off 10s restarting failed container")
	back.Status.Phase = corev1.PodRunning
	f := newFakes(back)
	e := f.executor(t, Options{CrashLoopTimeout: grace})
	spec := newSpec(t, jobYAML)
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	waitFor(t, func() bool { return st.has("CrashLoopBackOff: ") })
	pods := f.kube.CoreV1().Pods(testNS)
	if _, err := pods.UpdateStatus(t.Context(), pod("p1", corev1.PodRunning), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(grace / 2)
	if _, err := pods.UpdateStatus(t.Context(), back, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	if err != nil || res.State != trial.Failed || res.Reason != "CrashLoopBackOff" {
		t.Fatalf("Run() = %+v, %v; want Failed/CrashLoopBackOff", res, err)
	}
}

// oomKilled returns a failed pod of the trial whose primary container was
// OOMKilled, with a memory limit.
func oomKilled(name string) *corev1.Pod {
	p := pod(name, corev1.PodFailed)
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name:  "training-container",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}},
	}}
	return p
}

// evicted returns a pod of the trial the kubelet evicted.
func evicted(name string) *corev1.Pod {
	p := pod(name, corev1.PodFailed)
	p.Status.Reason = "Evicted"
	p.Status.Message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi."
	return p
}

// TestPodKilledEndsTrialWithoutRetries: an OOMKilled or evicted pod of a
// Job that has no retry left (backoffLimit 0) fails the trial at once with
// that reason, without waiting for the Job controller; the OOMKilled
// container's exit code is the result's.
func TestPodKilledEndsTrialWithoutRetries(t *testing.T) {
	code := 137
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want trial.Result
	}{
		{"OOMKilled", oomKilled("p1"), trial.Result{State: trial.Failed, Reason: "OOMKilled",
			Message: "container training-container of pod p1 was killed for using more memory than it may (limit 8Gi); exit code 137", ExitCode: &code}},
		{"Evicted", evicted("p1"), trial.Result{State: trial.Failed, Reason: "Evicted",
			Message: "pod p1 was evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 12Mi."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes()
			e := f.executor(t, Options{})
			spec := newSpec(t, jobWithBackoff("0"))
			var st statusLog
			spec.OnStatus = st.on
			r := start(t.Context(), spec, e.Run)
			f.waitWatch(t, "pods")
			if _, err := f.kube.CoreV1().Pods(testNS).Create(t.Context(), tc.pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if !st.has(tc.want.Reason + ": " + tc.want.Message) {
				t.Errorf("OnStatus calls = %q, want the cause reported", st.list())
			}
		})
	}
}

// TestPodKilledJobRetries: with retries left (backoffLimit 2), an
// OOMKilled pod is reported and the trial goes on; when the next pod is
// OOMKilled too and the Job fails with BackoffLimitExceeded, the trial's
// reason is what killed the pod, with the Job's message after it.
func TestPodKilledJobRetries(t *testing.T) {
	f := newFakes()
	e := f.executor(t, Options{})
	spec := newSpec(t, jobWithBackoff("2"))
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	pods := f.kube.CoreV1().Pods(testNS)
	if _, err := pods.Create(t.Context(), oomKilled("p1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.has("OOMKilled: container training-container of pod p1") })
	// A second pod runs: the cause is no longer shown.
	if _, err := pods.Create(t.Context(), pod("p2", corev1.PodRunning), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.list()[len(st.list())-1] == ": " })
	select {
	case <-r.done:
		t.Fatalf("trial ended although the Job retries: %+v", r.res)
	default:
	}
	if _, err := pods.UpdateStatus(t.Context(), oomKilled("p2"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.has("OOMKilled: container training-container of pod p2") })
	setJobCondition(t, f, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	res, err := r.wait(t)
	code := 137
	want := trial.Result{State: trial.Failed, Reason: "OOMKilled", ExitCode: &code,
		Message: "container training-container of pod p2 was killed for using more memory than it may (limit 8Gi); exit code 137; BackoffLimitExceeded: Job has reached the specified backoff limit"}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

// TestJobFailsAfterOrdinaryFailure: a pod that fails with a non-zero exit
// code after an OOMKilled one leaves the Job's own reason.
func TestJobFailsAfterOrdinaryFailure(t *testing.T) {
	failedPod := pod("p2", corev1.PodFailed)
	failedPod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "training-container", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
	}}
	f := newFakes(oomKilled("p1"), failedPod)
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobWithBackoff("1")), e.Run)
	f.waitWatch(t, "pods")
	setJobCondition(t, f, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	res, err := r.wait(t)
	if err != nil || res.Reason != "BackoffLimitExceeded" {
		t.Errorf("Run() = %+v, %v; want the Job's reason", res, err)
	}
}

// TestOOMKilledInPlace: a container OOMKilled and restarted by the kubelet
// (restartPolicy OnFailure) is reported, and the trial goes on.
func TestOOMKilledInPlace(t *testing.T) {
	p := pod("p1", corev1.PodRunning)
	p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	p.Status.ContainerStatuses[0].RestartCount = 1
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}
	f := newFakes(p)
	e := f.executor(t, Options{})
	spec := newSpec(t, jobWithBackoff("0"))
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	waitFor(t, func() bool { return st.has("OOMKilled: container training-container of pod p1") })
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v; want Succeeded (restarted in place)", res, err)
	}
}

// node returns a node with the Ready condition status.
func node(name string, ready corev1.ConditionStatus, reason, message string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: ready, Reason: reason, Message: message,
		}}},
	}
}

// TestNodeNotReady: a pod whose node stops being ready is reported at
// once; after NodeLostTimeout, with no retry left, the trial fails with
// NodeLost.
func TestNodeNotReady(t *testing.T) {
	p := pod("p1", corev1.PodRunning)
	p.Spec.NodeName = "gpu-7"
	f := newFakes(p, node("gpu-7", corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"))
	e := f.executor(t, Options{NodeLostTimeout: 200 * time.Millisecond})
	spec := newSpec(t, jobWithBackoff("0"))
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "nodes")
	lost := node("gpu-7", corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.")
	if _, err := f.kube.CoreV1().Nodes().UpdateStatus(t.Context(), lost, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	msg := "node gpu-7, where pod p1 runs, is not ready: Ready=Unknown (NodeStatusUnknown): Kubelet stopped posting node status."
	waitFor(t, func() bool { return st.has("NodeNotReady: " + msg) })
	res, err := r.wait(t)
	want := trial.Result{State: trial.Failed, Reason: "NodeLost", Message: msg + ", for 200ms"}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

// TestNodeNotReadyJobRetries: with retries left, a node not ready past the
// grace is reported, and the trial goes on (Kubernetes evicts the pod and
// the Job runs another).
func TestNodeNotReadyJobRetries(t *testing.T) {
	p := pod("p1", corev1.PodRunning)
	p.Spec.NodeName = "gpu-7"
	f := newFakes(p, node("gpu-7", corev1.ConditionFalse, "KubeletNotReady", "PLEG is not healthy"))
	e := f.executor(t, Options{NodeLostTimeout: 50 * time.Millisecond})
	spec := newSpec(t, jobWithBackoff("2"))
	var st statusLog
	spec.OnStatus = st.on
	r := start(t.Context(), spec, e.Run)
	waitFor(t, func() bool { return st.has("NodeNotReady: node gpu-7") })
	time.Sleep(200 * time.Millisecond)
	select {
	case <-r.done:
		t.Fatalf("trial ended although the Job retries: %+v", r.res)
	default:
	}
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
}

// TestNodeDeleted: the node of a running pod is deleted; with no retry
// left the trial fails at once with NodeLost, whatever the grace.
func TestNodeDeleted(t *testing.T) {
	p := pod("p1", corev1.PodRunning)
	p.Spec.NodeName = "gpu-7"
	f := newFakes(p, node("gpu-7", corev1.ConditionTrue, "", ""))
	e := f.executor(t, Options{NodeLostTimeout: time.Hour})
	spec := newSpec(t, jobWithBackoff("0"))
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "nodes")
	if err := f.kube.CoreV1().Nodes().Delete(t.Context(), "gpu-7", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	want := trial.Result{State: trial.Failed, Reason: "NodeLost", Message: "node gpu-7, where pod p1 ran, was deleted"}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

// TestWorkflowStepOOMKilled: an OOMKilled step pod ends a Workflow trial
// at once when no retryStrategy applies, and not when its node is a
// retry's child (Argo runs it again).
func TestWorkflowStepOOMKilled(t *testing.T) {
	for _, retry := range []bool{false, true} {
		t.Run(map[bool]string{false: "no retry", true: "retryStrategy"}[retry], func(t *testing.T) {
			f := newFakes()
			e := f.executor(t, Options{})
			spec := newSpec(t, workflowYAML)
			var st statusLog
			spec.OnStatus = st.on
			r := start(t.Context(), spec, e.Run)
			f.waitWatch(t, "pods")
			wfs := f.argo.ArgoprojV1alpha1().Workflows(testNS)
			wf, err := wfs.Get(t.Context(), "mnist-0001", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wf.Status.Phase = wfv1.WorkflowRunning
			wf.Status.Nodes = wfv1.Nodes{"mnist-0001-1": {ID: "mnist-0001-1", Type: wfv1.NodeTypePod}}
			if retry {
				wf.Status.Nodes["mnist-0001"] = wfv1.NodeStatus{ID: "mnist-0001", Type: wfv1.NodeTypeRetry, Children: []string{"mnist-0001-1"}}
			}
			if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			// The object's update reaches the follower before the pod's.
			waitFor(t, func() bool { return len(actions(f.argo, "update", "workflows")) > 0 })
			time.Sleep(50 * time.Millisecond)
			p := oomKilled("mnist-0001-main-1")
			p.Labels = map[string]string{LabelTrial: "mnist-0001"}
			p.Annotations = map[string]string{argoNodeID: "mnist-0001-1"}
			if _, err := f.kube.CoreV1().Pods(testNS).Create(t.Context(), p, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return st.has("OOMKilled: ") })
			if !retry {
				res, err := r.wait(t)
				if err != nil || res.State != trial.Failed || res.Reason != "OOMKilled" || res.ExitCode == nil || *res.ExitCode != 137 {
					t.Fatalf("Run() = %+v, %v; want Failed/OOMKilled with exit code 137", res, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
			select {
			case <-r.done:
				t.Fatalf("trial ended although Argo retries: %+v", r.res)
			default:
			}
			wf, _ = wfs.Get(context.Background(), "mnist-0001", metav1.GetOptions{})
			wf.Status.Phase = wfv1.WorkflowSucceeded
			if _, err := wfs.Update(t.Context(), wf, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
				t.Fatalf("Run() = %+v, %v", res, err)
			}
		})
	}
}

// TestPodDisruptedDeleted: a pod the pod garbage collector fails after its
// node went away (condition DisruptionTarget, DeletionByPodGC) fails a
// trial with no retry left as NodeLost, with Kubernetes' message.
func TestPodDisruptedDeleted(t *testing.T) {
	p := pod("p1", corev1.PodRunning)
	f := newFakes(p)
	e := f.executor(t, Options{})
	r := start(t.Context(), newSpec(t, jobWithBackoff("0")), e.Run)
	f.waitWatch(t, "pods")
	p.Status.Phase = corev1.PodFailed
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"})
	pods := f.kube.CoreV1().Pods(testNS)
	if _, err := pods.UpdateStatus(t.Context(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.wait(t)
	want := trial.Result{State: trial.Failed, Reason: "NodeLost", Message: "pod p1 was stopped by Kubernetes: PodGC: node no longer exists"}
	if diff := cmp.Diff(want, res); err != nil || diff != "" {
		t.Errorf("Run() = %v, result (-want +got):\n%s", err, diff)
	}
}

// TestUnansweredLogDoesNotHoldEnd: a pod log that never opens (the kubelet
// of a lost node does not answer) is given up after endFailures opens cut
// at endGrace once the trial has ended, not retried until the drain's
// timeout.
func TestUnansweredLogDoesNotHoldEnd(t *testing.T) {
	f := newFakes(pod("p1", corev1.PodRunning))
	e := f.executor(t, Options{})
	e.logs = func(ctx context.Context, _, _, _ string, _ *metav1.Time) (io.ReadCloser, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r := start(t.Context(), newSpec(t, jobYAML), e.Run)
	f.waitWatch(t, "pods")
	ended := time.Now()
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if res, err := r.wait(t); err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if d := time.Since(ended); d >= logDrainTimeout-time.Second {
		t.Errorf("Run returned %v after the Job completed; want about %d×endGrace (%v), before the drain timeout (%v)", d, endFailures, endGrace, logDrainTimeout)
	}
}
