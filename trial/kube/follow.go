package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tune-hpo/tune/trial"
)

// follower follows one trial's object and pods. Its methods run on the
// goroutine of Run or Attach, except the log streams.
type follower struct {
	e      *Executor
	w      workload
	spec   *trial.Spec
	stdout *lineWriter
	stderr io.Writer

	// Pods.
	streamed    map[types.UID]bool // primary pods whose log is streamed
	attempts    int                // primary pods seen running
	streams     sync.WaitGroup
	streamCtx   context.Context
	stopStreams context.CancelFunc
	exitCode    *int

	// Scheduling.
	unsched      map[types.UID]string // pods reported Unschedulable: message
	unschedMsg   string
	unschedTimer *time.Timer
}

func (e *Executor) newFollower(w workload, spec *trial.Spec, stdout, stderr io.Writer) *follower {
	return &follower{
		e:        e,
		w:        w,
		spec:     spec,
		stdout:   &lineWriter{w: stdout},
		stderr:   stderr,
		streamed: map[types.UID]bool{},
		unsched:  map[types.UID]string{},
	}
}

// failed returns a Failed result.
func failed(reason, format string, args ...any) trial.Result {
	return trial.Result{State: trial.Failed, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// retriable reports whether err from the API may pass when tried again.
func retriable(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	// An expired resource version (410) is retried too: the callers get or
	// list afresh before they watch again.
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// retry calls fn until it succeeds, fails in a way that will not pass, or
// the executor's APIRetryTimeout passes, waiting with exponential backoff
// between calls. It returns fn's last error, or ctx's.
func (f *follower) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	b := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 1 << 30, Cap: 15 * time.Second}
	deadline := time.Now().Add(f.e.opts.APIRetryTimeout)
	for {
		err := fn(ctx)
		if err == nil || !retriable(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(b.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// create creates the trial's object or adopts the one with its name and
// trial label. done is true when the trial ended there (res says how).
func (f *follower) create(ctx context.Context) (res trial.Result, done bool) {
	var existing metav1.Object
	err := f.retry(ctx, func(ctx context.Context) error {
		_, err := f.w.create(ctx)
		if apierrors.IsAlreadyExists(err) {
			existing, err = f.w.get(ctx)
			if apierrors.IsNotFound(err) { // deleted in between: create again
				return apierrors.NewServiceUnavailable("object deleted while adopting it")
			}
		}
		return err
	})
	switch {
	case ctx.Err() != nil:
		// The create may have gone through: make sure nothing is left.
		return f.kill(ctx), true
	case err != nil:
		return failed("CreateFailed", "creating %s %s/%s: %v", f.w.kind(), f.w.namespace(), f.spec.Name, err), true
	case existing != nil && existing.GetLabels()[LabelTrial] != f.spec.Name:
		return failed("AlreadyExists", "a %s named %s already exists in namespace %s and is not labelled %s=%s: not touching it",
			f.w.kind(), f.spec.Name, f.w.namespace(), LabelTrial, f.spec.Name), true
	}
	return trial.Result{}, false
}

// follow watches the trial's object and pods until the trial ends or ctx
// is done, and cleans up.
func (f *follower) follow(ctx context.Context) trial.Result {
	f.streamCtx, f.stopStreams = context.WithCancel(context.WithoutCancel(ctx))
	defer f.stopStreams()
	defer f.setUnschedulable(nil)

	var objW, podW watch.Interface
	defer func() {
		for _, w := range []watch.Interface{objW, podW} {
			if w != nil {
				w.Stop()
			}
		}
	}()
	var objQuiet, podQuiet int // reconnections without an event in between
	var objSince, podSince time.Time
	for {
		if objW == nil {
			if err := pause(ctx, objQuiet); err != nil {
				return f.kill(ctx)
			}
			objQuiet++
			objSince = time.Now()
			var obj metav1.Object
			err := f.retry(ctx, func(ctx context.Context) error {
				var err error
				if obj, err = f.w.get(ctx); err != nil {
					return err
				}
				objW, err = f.w.watch(ctx, obj.GetResourceVersion())
				return err
			})
			switch {
			case ctx.Err() != nil:
				return f.kill(ctx)
			case apierrors.IsNotFound(err):
				return f.deleted()
			case err != nil:
				return f.apiFailure(ctx, "following", err)
			}
			if done, res := f.w.ended(obj.(runtime.Object)); done {
				return f.end(ctx, obj.(runtime.Object), res)
			}
		}
		if podW == nil {
			if err := pause(ctx, podQuiet); err != nil {
				return f.kill(ctx)
			}
			podQuiet++
			podSince = time.Now()
			var pods *corev1.PodList
			err := f.retry(ctx, func(ctx context.Context) error {
				var err error
				if pods, err = f.listPods(ctx); err != nil {
					return err
				}
				podW, err = f.e.opts.Kubernetes.CoreV1().Pods(f.w.namespace()).Watch(ctx, metav1.ListOptions{
					LabelSelector:       f.w.podSelector(),
					ResourceVersion:     pods.ResourceVersion,
					AllowWatchBookmarks: true,
				})
				return err
			})
			switch {
			case ctx.Err() != nil:
				return f.kill(ctx)
			case err != nil:
				return f.apiFailure(ctx, "watching pods of", err)
			}
			f.podsListed(pods.Items)
		}
		var unschedC <-chan time.Time
		if f.unschedTimer != nil {
			unschedC = f.unschedTimer.C
		}
		select {
		case <-ctx.Done():
			return f.kill(ctx)
		case ev, ok := <-objW.ResultChan():
			if !ok || ev.Type == watch.Error {
				objW.Stop()
				objW = nil
				if time.Since(objSince) > longWatch {
					objQuiet = 0 // an idle watch that timed out is no failure
				}
				continue
			}
			m, isObj := ev.Object.(metav1.Object)
			if !isObj || m.GetName() != f.spec.Name || ev.Type == watch.Bookmark {
				continue
			}
			objQuiet = 0
			if ev.Type == watch.Deleted {
				return f.deleted()
			}
			if done, res := f.w.ended(ev.Object); done {
				return f.end(ctx, ev.Object, res)
			}
		case ev, ok := <-podW.ResultChan():
			if !ok || ev.Type == watch.Error {
				podW.Stop()
				podW = nil
				if time.Since(podSince) > longWatch {
					podQuiet = 0
				}
				continue
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Bookmark || !f.selects(pod) {
				continue
			}
			podQuiet = 0
			f.pod(pod, ev.Type == watch.Deleted)
		case <-unschedC:
			f.unschedTimer = nil
			res := failed("Unschedulable", "%s", f.unschedMsg)
			return f.end(ctx, nil, res)
		}
	}
}

// longWatch is how long a watch must have lasted for its end not to count
// as a failed reconnection.
const longWatch = 30 * time.Second

// pause waits before the n-th reconnection in a row without events, so that
// a watch that keeps closing does not spin.
func pause(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	d := min(50*time.Millisecond<<min(n, 8), 5*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// listPods lists the trial's pods.
func (f *follower) listPods(ctx context.Context) (*corev1.PodList, error) {
	return f.e.opts.Kubernetes.CoreV1().Pods(f.w.namespace()).List(ctx, metav1.ListOptions{LabelSelector: f.w.podSelector()})
}

// selects reports whether pod is one of the trial's (watches of fake
// clients do not filter).
func (f *follower) selects(pod *corev1.Pod) bool {
	sel, err := labels.Parse(f.w.podSelector())
	return err == nil && sel.Matches(labels.Set(pod.Labels))
}

// podsListed handles a fresh list of the trial's pods.
func (f *follower) podsListed(pods []corev1.Pod) {
	seen := map[types.UID]bool{}
	for i := range pods {
		seen[pods[i].UID] = true
		f.pod(&pods[i], false)
	}
	for uid := range f.unsched {
		if !seen[uid] {
			delete(f.unsched, uid)
		}
	}
	f.updateUnschedulable()
}

// pod handles a pod's new state.
func (f *follower) pod(pod *corev1.Pod, deleted bool) {
	delete(f.unsched, pod.UID)
	if !deleted && pod.Status.Phase == corev1.PodPending {
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				f.unsched[pod.UID] = c.Message
			}
		}
	}
	f.updateUnschedulable()
	if deleted || !f.w.streamLogs() || !f.primary(pod) {
		return
	}
	container := f.container(pod)
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			code := int(cs.State.Terminated.ExitCode)
			f.exitCode = &code
		}
	}
	if f.streamed[pod.UID] || !started(pod, container) {
		return
	}
	f.streamed[pod.UID] = true
	f.attempts++
	if f.attempts > 1 && f.spec.OnRetry != nil {
		f.spec.OnRetry(f.attempts)
	}
	f.streams.Add(1)
	go f.stream(pod.Name, container)
}

// primary reports whether pod is the trial's primary pod.
func (f *follower) primary(pod *corev1.Pod) bool {
	if pod.Labels[LabelTrial] != f.spec.Name {
		return false
	}
	for k, v := range f.spec.PrimaryPodLabels {
		if pod.Labels[k] != v {
			return false
		}
	}
	return true
}

// container returns the name of pod's primary container.
func (f *follower) container(pod *corev1.Pod) string {
	if f.spec.PrimaryContainer == "" && len(pod.Spec.Containers) == 1 {
		return pod.Spec.Containers[0].Name
	}
	return f.spec.PrimaryContainer
}

// started reports whether pod's container has a log to read.
func started(pod *corev1.Pod, container string) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.State.Running != nil || cs.State.Terminated != nil
		}
	}
	return pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// stream copies a container's log to stdout until it ends.
func (f *follower) stream(pod, container string) {
	defer f.streams.Done()
	ctx := f.streamCtx
	b := wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 6}
	for {
		rc, err := f.e.logs(ctx, f.w.namespace(), pod, container)
		if err == nil {
			f.stdout.copyLines(rc)
			rc.Close()
			return
		}
		if ctx.Err() != nil || b.Steps <= 1 || apierrors.IsNotFound(err) {
			return
		}
		t := time.NewTimer(b.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// updateUnschedulable reports a change in the trial's scheduling problem.
func (f *follower) updateUnschedulable() {
	if len(f.unsched) == 0 {
		f.setUnschedulable(nil)
		return
	}
	uids := slices.Sorted(maps.Keys(f.unsched))
	msg := f.unsched[uids[0]]
	f.setUnschedulable(&msg)
}

// setUnschedulable sets (msg not nil) or clears the Unschedulable condition.
func (f *follower) setUnschedulable(msg *string) {
	if msg == nil {
		if f.unschedTimer != nil {
			f.unschedTimer.Stop()
			f.unschedTimer = nil
		}
		if f.unschedMsg != "" {
			f.unschedMsg = ""
			f.status("", "")
		}
		return
	}
	if *msg == "" {
		*msg = "the scheduler cannot place the trial's pod"
	}
	if f.unschedTimer == nil && f.e.opts.UnschedulableTimeout > 0 {
		f.unschedTimer = time.NewTimer(f.e.opts.UnschedulableTimeout)
	}
	if *msg != f.unschedMsg {
		f.unschedMsg = *msg
		f.status("Unschedulable", *msg)
	}
}

// status calls the spec's OnStatus.
func (f *follower) status(reason, message string) {
	if f.spec.OnStatus != nil {
		f.spec.OnStatus(reason, message)
	}
}

// deleted is the result of a trial whose object someone else deleted.
func (f *follower) deleted() trial.Result {
	f.drain()
	return failed("Deleted", "the trial's %s %s/%s was deleted by someone else before it finished", f.w.kind(), f.w.namespace(), f.spec.Name)
}

// apiFailure ends a trial the API does not let the executor follow.
func (f *follower) apiFailure(ctx context.Context, doing string, err error) trial.Result {
	return f.end(ctx, nil, failed("KubernetesAPIError", "%s %s %s/%s: %v", doing, f.w.kind(), f.w.namespace(), f.spec.Name, err))
}

// end finishes a trial that ended with res: it collects the metrics of obj
// (nil when unknown), waits for the log streams, and deletes the object
// unless it is retained.
func (f *follower) end(ctx context.Context, obj runtime.Object, res trial.Result) trial.Result {
	if obj != nil && f.w.streamLogs() {
		// Pods that ended between two events still have their logs.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logDrainTimeout)
		if pods, err := f.listPods(lctx); err == nil {
			for i := range pods.Items {
				f.pod(&pods.Items[i], false)
			}
		}
		cancel()
	}
	f.drain()
	if obj != nil {
		if err := f.w.collect(obj, f.stdout); err != nil && res.State == trial.Succeeded {
			res = failed("MetricsCollectionFailed", "%v", err)
		}
	}
	if res.ExitCode == nil {
		res.ExitCode = f.exitCode
	}
	if f.spec.Retain || f.e.opts.Retain {
		return res
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.e.opts.DeleteTimeout)
	defer cancel()
	err := f.retry(dctx, f.w.delete)
	if err != nil && !apierrors.IsNotFound(err) {
		res.Message = joinMessage(res.Message, fmt.Sprintf("deleting %s %s/%s: %v", f.w.kind(), f.w.namespace(), f.spec.Name, err))
	}
	return res
}

// drain waits a while for the log streams to end, then stops them.
func (f *follower) drain() {
	done := make(chan struct{})
	go func() { f.streams.Wait(); close(done) }()
	t := time.NewTimer(logDrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		f.stopStreams()
		<-done
	}
}

// kill deletes the object of a trial whose ctx is done, waits for it to be
// gone, and returns Killed.
func (f *follower) kill(ctx context.Context) trial.Result {
	if f.stopStreams != nil {
		f.stopStreams()
		f.streams.Wait()
	}
	res := trial.Result{State: trial.Killed, Reason: "Stopped", Message: "the trial was stopped"}
	if f.unschedMsg != "" {
		res.Message += " while unschedulable: " + f.unschedMsg
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.e.opts.DeleteTimeout)
	defer cancel()
	err := f.retry(dctx, f.w.delete)
	if apierrors.IsNotFound(err) {
		return res
	}
	if err != nil {
		res.Message = joinMessage(res.Message, fmt.Sprintf("deleting %s %s/%s: %v", f.w.kind(), f.w.namespace(), f.spec.Name, err))
		return res
	}
	err = wait.PollUntilContextCancel(dctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := f.w.get(ctx)
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		res.Message = joinMessage(res.Message, fmt.Sprintf("%s %s/%s was still there %v after its deletion", f.w.kind(), f.w.namespace(), f.spec.Name, f.e.opts.DeleteTimeout))
	}
	return res
}

// joinMessage appends b to a as a sentence.
func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// lineWriter writes whole lines to w, so that several log streams do not
// interleave within a line.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p at once.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// copyLines copies r to l line by line until r ends or fails.
func (l *lineWriter) copyLines(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := l.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
