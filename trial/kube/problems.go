package kube

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tune-hpo/tune/trial"
)

// problemKind is a kind of trouble a trial's pod can be in while it does
// not run, each with its own grace ([Options]).
type problemKind int

const (
	problemUnschedulable   problemKind = iota // the scheduler cannot place the pod
	problemImagePull                          // the kubelet cannot pull an image
	problemContainerCreate                    // the kubelet cannot create a container
	problemCrashLoop                          // a container keeps failing and restarting
	problemNodeNotReady                       // the pod's node is not ready
)

// Waiting reasons the kubelet writes (pkg/kubelet/images and
// pkg/kubelet/kuberuntime), by the problem they are.
var waitingProblems = map[string]problemKind{
	"ErrImagePull":               problemImagePull,
	"ImagePullBackOff":           problemImagePull,
	"RegistryUnavailable":        problemImagePull,
	"CreateContainerConfigError": problemContainerCreate,
	"CreateContainerError":       problemContainerCreate,
	"RunContainerError":          problemContainerCreate,
	"CrashLoopBackOff":           problemCrashLoop,
}

// Waiting reasons that no wait can cure: the pod's spec must change.
var hopelessWaiting = map[string]bool{
	"InvalidImageName":  true,
	"ErrImageNeverPull": true,
}

// problemKey identifies one problem of one pod (and container).
type problemKey struct {
	pod       types.UID
	container string // "" for the pod's own problems
	kind      problemKind
}

// problem is a trouble a trial's pod is in.
type problem struct {
	reason, message string
	// since is when the problem was first seen.
	since time.Time
	// runningSince, for a crash loop only, is when its container was
	// seen running again (zero while it waits): the loop is over once it
	// has run for the grace.
	runningSince time.Time
	// exitCode is a crash loop's last exit code.
	exitCode *int
}

// grace returns how long a problem of kind may last before the trial
// fails; negative means forever.
func (e *Executor) grace(kind problemKind) time.Duration {
	switch kind {
	case problemUnschedulable:
		return e.opts.UnschedulableTimeout
	case problemImagePull:
		return e.opts.ImagePullTimeout
	case problemContainerCreate:
		return e.opts.ContainerCreateTimeout
	case problemCrashLoop:
		return e.opts.CrashLoopTimeout
	default:
		return e.opts.NodeLostTimeout
	}
}

// active reports whether p holds now (a crash loop whose container runs
// again does not).
func (p *problem) active() bool { return p.runningSince.IsZero() }

// podProblems updates the problems of pod from its status: deleted or
// finished pods have none.
func (f *follower) podProblems(pod *corev1.Pod, deleted bool, now time.Time) {
	finished := deleted || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	keep := map[problemKey]bool{}
	set := func(k problemKey, reason, message string, exitCode *int) {
		keep[k] = true
		p := f.problems[k]
		if p == nil {
			p = &problem{since: now}
			f.problems[k] = p
		}
		p.reason, p.message, p.exitCode = reason, message, exitCode
		p.runningSince = time.Time{}
	}
	if !finished {
		if pod.Status.Phase == corev1.PodPending {
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					msg := c.Message
					if msg == "" {
						msg = "the scheduler cannot place the trial's pod"
					}
					set(problemKey{pod.UID, "", problemUnschedulable}, "Unschedulable", msg, nil)
				}
			}
		}
		statuses := append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			switch {
			case cs.State.Waiting != nil && hopelessWaiting[cs.State.Waiting.Reason]:
				if f.verdict == nil {
					res := failed(cs.State.Waiting.Reason, "%s", containerMessage(pod, cs.Name, cs.State.Waiting.Message))
					f.verdict = &res
				}
			case cs.State.Waiting != nil:
				kind, ok := waitingProblems[cs.State.Waiting.Reason]
				if !ok {
					// ContainerCreating, PodInitializing, a reason this
					// version does not know: whatever was seen holds.
					for k := range f.problems {
						if k.pod == pod.UID && k.container == cs.Name {
							keep[k] = true
						}
					}
					continue
				}
				var code *int
				msg := containerMessage(pod, cs.Name, cs.State.Waiting.Message)
				if kind == problemCrashLoop {
					msg, code = crashLoopMessage(pod, cs)
				}
				set(problemKey{pod.UID, cs.Name, kind}, cs.State.Waiting.Reason, msg, code)
				// A container pulling its image again after a crash still
				// crash-loops; one whose image now fails does not.
				if k := (problemKey{pod.UID, cs.Name, problemCrashLoop}); kind != problemCrashLoop && f.problems[k] != nil {
					keep[k] = true
				}
			case cs.State.Running != nil:
				if k := (problemKey{pod.UID, cs.Name, problemCrashLoop}); f.problems[k] != nil {
					keep[k] = true
					if p := f.problems[k]; p.runningSince.IsZero() {
						p.runningSince = now
					}
				}
			case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
				// Between a crash and the back-off that follows.
				if k := (problemKey{pod.UID, cs.Name, problemCrashLoop}); f.problems[k] != nil {
					keep[k] = true
				}
			}
		}
		if node := pod.Spec.NodeName; node != "" {
			if st, ok := f.nodes[node]; ok && !st.gone && !st.ready {
				set(problemKey{pod.UID, "", problemNodeNotReady}, "NodeNotReady",
					fmt.Sprintf("node %s, where pod %s runs, is not ready: %s", node, pod.Name, st.message), nil)
			}
		}
	}
	for k := range f.problems {
		if k.pod == pod.UID && !keep[k] {
			delete(f.problems, k)
		}
	}
}

// containerMessage is the kubelet's message about container of pod, with
// where it comes from.
func containerMessage(pod *corev1.Pod, container, msg string) string {
	where := fmt.Sprintf("container %s of pod %s", container, pod.Name)
	if msg == "" {
		return where
	}
	return fmt.Sprintf("%s (%s)", msg, where)
}

// crashLoopMessage describes a container in CrashLoopBackOff: the
// kubelet's message, its restarts and how it last ended, whose exit code
// it returns.
func crashLoopMessage(pod *corev1.Pod, cs corev1.ContainerStatus) (string, *int) {
	var b strings.Builder
	fmt.Fprintf(&b, "container %s of pod %s keeps failing (%d restarts)", cs.Name, pod.Name, cs.RestartCount)
	var code *int
	if t := cs.LastTerminationState.Terminated; t != nil {
		c := int(t.ExitCode)
		code = &c
		fmt.Fprintf(&b, "; it last exited with code %d", t.ExitCode)
		if t.Reason != "" {
			fmt.Fprintf(&b, " (%s)", t.Reason)
		}
		if m := strings.TrimSpace(t.Message); m != "" {
			fmt.Fprintf(&b, ": %s", firstLines(m, 3))
		}
	}
	if m := cs.State.Waiting.Message; m != "" {
		fmt.Fprintf(&b, "; %s", m)
	}
	return b.String(), code
}

// firstLines returns the first n lines of s, joined by " / ".
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " / ")
}

// cause is why a pod of the trial was killed or failed in a way
// Kubernetes reports: OOMKilled, Evicted, its node lost, a disruption.
type cause struct {
	pod             types.UID
	reason, message string
	exitCode        *int
}

// podCause returns why pod, failed or with a container killed, was: nil
// for an ordinary failure (a non-zero exit code) or none at all.
func podCause(pod *corev1.Pod) *cause {
	for _, cs := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if t == nil || t.Reason != "OOMKilled" {
				continue
			}
			code := int(t.ExitCode)
			msg := fmt.Sprintf("container %s of pod %s was killed for using more memory than it may", cs.Name, pod.Name)
			if lim := memoryLimit(pod, cs.Name); lim != "" {
				msg += " (limit " + lim + ")"
			}
			msg += fmt.Sprintf("; exit code %d", code)
			return &cause{pod: pod.UID, reason: "OOMKilled", message: msg, exitCode: &code}
		}
	}
	if pod.Status.Phase == corev1.PodFailed && pod.Status.Reason == "Evicted" {
		return &cause{pod: pod.UID, reason: "Evicted", message: fmt.Sprintf("pod %s was evicted: %s", pod.Name, pod.Status.Message)}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			// The condition's reasons (k8s.io/api/core/v1) as the user
			// knows them: the kubelet evicting the pod under node pressure
			// (or shutting down), the pod garbage collector removing it
			// from a node that is gone.
			reason := map[string]string{"TerminationByKubelet": "Evicted", "DeletionByPodGC": "NodeLost", "": "PodDisrupted"}[c.Reason]
			if reason == "" {
				reason = c.Reason
			}
			return &cause{pod: pod.UID, reason: reason, message: fmt.Sprintf("pod %s was stopped by Kubernetes: %s", pod.Name, c.Message)}
		}
	}
	return nil
}

// memoryLimit returns container's memory limit in pod, or "".
func memoryLimit(pod *corev1.Pod, container string) string {
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		if c.Name == container {
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				return q.String()
			}
		}
	}
	return ""
}

// podFailed handles the cause of a pod that failed, was killed in place
// (restarted by the kubelet) or lost its node, once per cause: it is
// reported, and unless the workload can still run another pod (a Job's
// backoffLimit, a Workflow step's retryStrategy, the kubelet restarting
// the container in place, another kind's operator) the trial fails with
// it. c may be nil: an ordinary failure, which the workload judges.
func (f *follower) podFailed(pod *corev1.Pod, c *cause, inPlace bool) {
	if !inPlace {
		f.failedPods[pod.UID] = true
	}
	f.lastFailure = c
	if c == nil {
		return
	}
	if inPlace {
		c.message += "; the kubelet restarts it"
	}
	f.cause = c
	if inPlace || f.w.retries(f.lastObj, pod, len(f.failedPods)) {
		f.log.Debug("a pod of the trial failed; the workload may run another", "pod", pod.Name, "reason", c.reason)
		return
	}
	if f.verdict == nil {
		res := failed(c.reason, "%s", c.message)
		res.ExitCode = c.exitCode
		f.verdict = &res
	}
}

// checkCauses looks at pod for a cause not yet handled.
func (f *follower) checkCauses(pod *corev1.Pod, deleted bool) {
	c := podCause(pod)
	switch {
	case deleted:
		// Evicted through the API, by the taint manager or the pod
		// garbage collector: the pod's last state says so.
		if c != nil && !f.failedPods[pod.UID] && pod.Status.Phase != corev1.PodSucceeded {
			f.podFailed(pod, c, false)
		}
	case pod.Status.Phase == corev1.PodFailed:
		if f.failedPods[pod.UID] {
			return
		}
		f.podFailed(pod, c, false)
	case c != nil:
		// Killed in place (OOMKilled and restarted) or disrupted while
		// still running: once per restart.
		key := fmt.Sprintf("%s/%s/%d", pod.UID, c.reason, restarts(pod))
		if f.seenCauses[key] {
			return
		}
		f.seenCauses[key] = true
		f.podFailed(pod, c, c.reason == "OOMKilled" && pod.Spec.RestartPolicy != corev1.RestartPolicyNever)
	}
}

// restarts is the total restart count of pod's containers.
func restarts(pod *corev1.Pod) int32 {
	var n int32
	for _, cs := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		n += cs.RestartCount
	}
	return n
}

// evaluate updates the status the user sees, fails the trial whose
// problem outlasted its grace, forgets crash loops that ended, and sets
// the problem timer to the next deadline.
func (f *follower) evaluate(now time.Time) {
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	type shown struct {
		k problemKey
		p *problem
	}
	var act []shown
	for k, p := range f.problems {
		g := f.e.grace(k.kind)
		if !p.active() {
			if g < 0 || !now.Before(p.runningSince.Add(g)) {
				delete(f.problems, k) // ran for the grace: recovered
				continue
			}
			later(p.runningSince.Add(g))
			continue
		}
		act = append(act, shown{k, p})
		if g < 0 {
			continue
		}
		if deadline := p.since.Add(g); now.Before(deadline) {
			later(deadline)
			continue
		}
		if f.verdict != nil || f.expired[k] {
			continue
		}
		if k.kind == problemNodeNotReady {
			// As if the node were lost: the workload may run the pod
			// elsewhere once Kubernetes evicts it.
			f.expired[k] = true
			if pod := f.pods[k.pod]; pod != nil {
				f.podFailed(pod, &cause{pod: k.pod, reason: "NodeLost", message: fmt.Sprintf("%s, for %v", p.message, g)}, false)
			}
			continue
		}
		res := failed(p.reason, "%s", p.message)
		if k.kind != problemUnschedulable {
			// The scheduler's message alone, as before; the others say
			// how long the trial waited.
			res.Message += fmt.Sprintf("; still so after %v", g)
		}
		res.ExitCode = p.exitCode
		f.verdict = &res
	}
	slices.SortFunc(act, func(a, b shown) int {
		return cmp.Or(a.p.since.Compare(b.p.since), strings.Compare(string(a.k.pod), string(b.k.pod)),
			strings.Compare(a.k.container, b.k.container), cmp.Compare(a.k.kind, b.k.kind))
	})
	reason, message := "", ""
	switch {
	case len(act) > 0:
		reason, message = act[0].p.reason, act[0].p.message
	case f.cause != nil:
		reason, message = f.cause.reason, f.cause.message
	}
	if reason != f.shownReason || message != f.shownMessage {
		f.shownReason, f.shownMessage = reason, message
		f.status(reason, message)
	}
	if f.problemTimer != nil {
		f.problemTimer.Stop()
		f.problemTimer = nil
	}
	if !next.IsZero() {
		f.problemTimer = time.NewTimer(max(next.Sub(now), 0))
	}
}

// overrideFailure gives a Failed result of the workload the cause of its
// last pod failure, when that failure had one (OOMKilled, Evicted, ...):
// a Job's BackoffLimitExceeded says less than what killed its pod.
func (f *follower) overrideFailure(res trial.Result) trial.Result {
	c := f.lastFailure
	if res.State != trial.Failed || c == nil || res.Reason == c.reason {
		return res
	}
	msg := c.message
	if res.Message != "" {
		msg += "; " + res.Reason + ": " + res.Message
	}
	out := trial.Result{State: trial.Failed, Reason: c.reason, Message: msg, ExitCode: res.ExitCode}
	if out.ExitCode == nil {
		out.ExitCode = c.exitCode
	}
	return out
}
