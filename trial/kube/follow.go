package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	log    *slog.Logger
	stdout *lineWriter
	stderr io.Writer

	// Pods.
	streamed    map[types.UID]bool // primary pods whose log is streamed
	attempts    int                // primary pods seen running
	streams     sync.WaitGroup
	streamCtx   context.Context
	stopStreams context.CancelFunc
	exitCode    *int
	// ending is closed when the trial's object has ended, so that streams
	// cut short make their final read instead of waiting for the pod's
	// status to say its container ended.
	ending     chan struct{}
	endingOnce sync.Once

	// Problems (problems.go, nodes.go). pods holds the latest state of
	// each pod of the trial; lastObj is the latest state of its object.
	pods         map[types.UID]*corev1.Pod
	lastObj      runtime.Object
	problems     map[problemKey]*problem
	expired      map[problemKey]bool // nodes not ready past their grace
	problemTimer *time.Timer
	// shownReason and shownMessage are what OnStatus was last told.
	shownReason, shownMessage string
	// failedPods are the trial's pods seen failed (or lost with their
	// node); seenCauses the in-place kills already handled.
	failedPods map[types.UID]bool
	seenCauses map[string]bool
	// lastFailure is the cause of the latest pod failure (nil for an
	// ordinary one); cause, the latest cause, shown while no problem is.
	lastFailure, cause *cause
	// verdict, once set, ends the trial.
	verdict *trial.Result
	// created is the object as this follower's create returned it; nil
	// when it was adopted, attached to, or once its watches have started
	// from it.
	created metav1.Object
	// Nodes of the trial's pods, followed by watchNode goroutines.
	nodes       map[string]nodeState
	nodeWatched map[string]bool
	nodeEvents  chan nodeState
	nodeCtx     context.Context
	nodeWG      sync.WaitGroup
}

func (e *Executor) newFollower(w workload, spec *trial.Spec, stdout, stderr io.Writer) *follower {
	return &follower{
		e:           e,
		w:           w,
		spec:        spec,
		log:         e.opts.Logger.With("trial", spec.Name, "kind", w.kind(), "namespace", w.namespace()),
		stdout:      newLineWriter(stdout, spec.Collector),
		stderr:      stderr,
		streamed:    map[types.UID]bool{},
		ending:      make(chan struct{}),
		pods:        map[types.UID]*corev1.Pod{},
		problems:    map[problemKey]*problem{},
		expired:     map[problemKey]bool{},
		failedPods:  map[types.UID]bool{},
		seenCauses:  map[string]bool{},
		nodes:       map[string]nodeState{},
		nodeWatched: map[string]bool{},
		nodeEvents:  make(chan nodeState, 16),
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
		delay := b.Step()
		f.log.Debug("Kubernetes API call failed; retrying", "err", err, "delay", delay)
		t := time.NewTimer(delay)
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
		obj, err := f.w.create(ctx)
		if err == nil {
			f.created = obj
		}
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
	nodeCtx, stopNodes := context.WithCancel(ctx)
	f.nodeCtx = nodeCtx
	defer func() {
		stopNodes()
		f.nodeWG.Wait()
		if f.problemTimer != nil {
			f.problemTimer.Stop()
		}
		// The condition shown is left as it is: the trial's result
		// replaces it, and clearing it first would read as if it had
		// passed.
	}()

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
			// The object just created needs no get: its watch starts
			// from the version the create returned.
			obj := f.created
			err := f.retry(ctx, func(ctx context.Context) error {
				var err error
				if obj == nil {
					if obj, err = f.w.get(ctx); err != nil {
						return err
					}
				}
				objW, err = f.w.watch(ctx, obj.GetResourceVersion())
				if err != nil && !apierrors.IsNotFound(err) {
					obj = nil // get it again before the next watch
				}
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
			f.lastObj = obj.(runtime.Object)
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
			// No pod of an object this follower has just created is
			// older than the object: their watch starts from its
			// version, without a list.
			pods := &corev1.PodList{}
			if f.created != nil {
				pods.ResourceVersion = f.created.GetResourceVersion()
			}
			err := f.retry(ctx, func(ctx context.Context) error {
				if pods.ResourceVersion == "" {
					list, err := f.listPods(ctx)
					if err != nil {
						return err
					}
					pods = list
				}
				var err error
				podW, err = f.e.opts.Kubernetes.CoreV1().Pods(f.w.namespace()).Watch(ctx, metav1.ListOptions{
					LabelSelector:       f.w.podSelector(),
					ResourceVersion:     pods.ResourceVersion,
					AllowWatchBookmarks: true,
				})
				if err != nil {
					pods.ResourceVersion = "" // list again before the next watch
				}
				return err
			})
			f.created = nil
			switch {
			case ctx.Err() != nil:
				return f.kill(ctx)
			case err != nil:
				return f.apiFailure(ctx, "watching pods of", err)
			}
			f.podsListed(pods.Items)
		}
		if f.verdict != nil {
			return f.end(ctx, nil, *f.verdict)
		}
		var problemC <-chan time.Time
		if f.problemTimer != nil {
			problemC = f.problemTimer.C
		}
		select {
		case <-ctx.Done():
			return f.kill(ctx)
		case ev, ok := <-objW.ResultChan():
			if !ok || ev.Type == watch.Error {
				f.watchEnded("object", ev)
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
			f.lastObj = ev.Object
			if done, res := f.w.ended(ev.Object); done {
				return f.end(ctx, ev.Object, res)
			}
		case ev, ok := <-podW.ResultChan():
			if !ok || ev.Type == watch.Error {
				f.watchEnded("pods", ev)
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
			f.evaluate(time.Now())
		case st := <-f.nodeEvents:
			f.nodeChanged(st, time.Now())
		case <-problemC:
			f.problemTimer = nil
			f.evaluate(time.Now())
		}
		if f.verdict != nil {
			return f.end(ctx, nil, *f.verdict)
		}
	}
}

// watchEnded logs the end of the watch of what (the object, or its pods),
// which follow then lists and watches again.
func (f *follower) watchEnded(what string, ev watch.Event) {
	if ev.Type == watch.Error {
		f.log.Debug("watch failed; listing and watching again", "watch", what, "err", apierrors.FromObject(ev.Object))
		return
	}
	f.log.Debug("watch closed; listing and watching again", "watch", what)
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
	for uid, p := range f.pods {
		if !seen[uid] {
			f.pod(p, true)
		}
	}
	f.evaluate(time.Now())
}

// pod handles a pod's new state; the caller then calls evaluate.
func (f *follower) pod(pod *corev1.Pod, deleted bool) {
	if deleted {
		delete(f.pods, pod.UID)
	} else {
		f.pods[pod.UID] = pod
		f.followNodes(pod)
		if c := f.cause; c != nil && c.pod != pod.UID && pod.Status.Phase == corev1.PodRunning {
			f.cause = nil // another pod runs: the workload went on
		}
	}
	f.checkCauses(pod, deleted)
	f.podProblems(pod, deleted, time.Now())
	if deleted || !f.w.streamLogs() || !f.primary(pod) {
		return
	}
	container := f.container(pod)
	if !slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == container }) {
		return // a pod of the trial without the primary container
	}
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
	if f.attempts > 1 && f.spec.OnRetry != nil && f.w.podsAreAttempts() {
		f.spec.OnRetry(f.attempts)
	}
	f.streams.Add(1)
	go f.stream(pod.Name, container)
}

// primary reports whether pod is the trial's primary pod.
func (f *follower) primary(pod *corev1.Pod) bool {
	if f.w.podsLabelled() && pod.Labels[LabelTrial] != f.spec.Name || !f.selects(pod) {
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

// stream copies a container's log to stdout until the container has ended
// and its log has been read to the end. A stream that ends while the
// container still runs (the apiserver restarted, a proxy dropped the
// connection) is opened again from the last line's timestamp, and the
// lines already copied are skipped, so each line reaches stdout once.
func (f *follower) stream(pod, container string) {
	defer f.streams.Done()
	ctx := f.streamCtx
	var pos logPosition
	b := wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 8, Cap: 5 * time.Second}
	final := false
	failures := 0  // in a row
	endFailed := 0 // opens that failed once the trial ended
	for {
		// Once the trial's object has ended, a stream still open gets
		// endGrace to end by itself (the container's log ends when the
		// container does), then is cut and read a last time: some log
		// servers keep following a log whose container has ended.
		attemptCtx, cancelAttempt := context.WithCancel(ctx)
		go func() {
			select {
			case <-f.ending:
				t := time.NewTimer(endGrace)
				defer t.Stop()
				select {
				case <-t.C:
					cancelAttempt()
				case <-attemptCtx.Done():
				}
			case <-attemptCtx.Done():
			}
		}()
		rc, err := f.e.logs(attemptCtx, f.w.namespace(), pod, container, pos.since())
		if err == nil {
			f.stdout.copyNewLines(rc, &pos, final)
			rc.Close()
		}
		cancelAttempt()
		f.logStreamError(pod, container, err, &failures)
		if err == nil {
			if final || ctx.Err() != nil {
				return
			}
			// The stream ended: read once more if the container has ended
			// (lines may have come after a dropped connection), otherwise
			// reconnect.
			final = f.isEnding() || f.containerEnded(ctx, pod, container)
			b = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 8, Cap: 5 * time.Second}
			if final {
				continue
			}
		} else if ctx.Err() != nil || apierrors.IsNotFound(err) {
			// Stopped, or the pod is gone. Any other error (the apiserver
			// restarting, a dropped connection) is retried.
			return
		} else if f.isEnding() {
			// The trial has ended and its log does not open (within
			// endGrace each time): its kubelet may be gone with its node.
			if endFailed++; endFailed >= endFailures {
				return
			}
		}
		t := time.NewTimer(b.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.ending:
			t.Stop()
		case <-t.C:
		}
	}
}

// logStreamError logs a failure to open container's log of pod: the first
// of a row at Warn (metrics may be missing if it does not pass), the next
// ones at Debug. A pod that is gone or a stream that was stopped is no
// failure; success ends the row.
func (f *follower) logStreamError(pod, container string, err error, failures *int) {
	switch {
	case err == nil:
		if *failures > 0 {
			f.log.Info("log stream open again", "pod", pod, "container", container, "failures", *failures)
		}
		*failures = 0
		return
	case f.streamCtx.Err() != nil, errors.Is(err, context.Canceled):
		// Stopped, or this attempt cut at the trial's end (endGrace).
		return
	case apierrors.IsNotFound(err):
		f.log.Debug("pod gone; its log is no longer read", "pod", pod, "container", container)
		return
	}
	*failures++
	level := slog.LevelDebug
	if *failures == 1 {
		level = slog.LevelWarn
	}
	f.log.Log(f.streamCtx, level, "reading the log failed; retrying until the trial ends (metrics printed meanwhile are read when it opens again)", "pod", pod, "container", container, "err", err)
}

// endFailures is how many failed opens of a log stream, once the trial
// has ended, end it.
const endFailures = 3

// endGrace is how long a log stream may stay open after the trial's object
// has ended before it is cut and read a last time.
const endGrace = 2 * time.Second

// isEnding reports whether the trial's object has ended.
func (f *follower) isEnding() bool {
	select {
	case <-f.ending:
		return true
	default:
		return false
	}
}

// containerEnded reports whether container of pod has terminated, or the
// pod is gone or finished, so that its log will not grow.
func (f *follower) containerEnded(ctx context.Context, pod, container string) bool {
	p, err := f.e.opts.Kubernetes.CoreV1().Pods(f.w.namespace()).Get(ctx, pod, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true
	case err != nil:
		return false
	case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		return true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return true
		}
	}
	return false
}

// logPosition is how far a container's log has been copied: the
// timestamp of the last line and how many lines carried it, or, for a
// log without timestamps, how many lines in all.
type logPosition struct {
	last   time.Time
	atLast int
	lines  int
	// For the stream being read: lines stamped last still to skip, and
	// the index of the next line without a timestamp.
	skip, index int
}

// since returns where to ask the log to start again: the second of the
// last timestamp (the API's precision), or nil for the start.
func (p *logPosition) since() *metav1.Time {
	if p.last.IsZero() {
		return nil
	}
	return &metav1.Time{Time: p.last.Truncate(time.Second)}
}

// begin prepares p for a new stream opened at p.since().
func (p *logPosition) begin() {
	p.skip, p.index = p.atLast, 0
}

// admit reports whether line is new, records it, and returns it without
// its timestamp. Lines of one instant come in order, so those already
// copied are the first atLast of the new stream.
func (p *logPosition) admit(line []byte) ([]byte, bool) {
	ts, rest, ok := splitTimestamp(line)
	if !ok {
		// No timestamp: a stream that restarts from the beginning.
		p.index++
		if p.index <= p.lines {
			return nil, false
		}
		p.lines++
		return line, true
	}
	switch {
	case ts.Before(p.last):
		return nil, false
	case ts.Equal(p.last):
		if p.skip > 0 {
			p.skip--
			return nil, false
		}
		p.atLast++
	default:
		p.last, p.atLast, p.skip = ts, 1, 0
	}
	p.lines++
	return rest, true
}

// splitTimestamp splits a "TIMESTAMP rest" log line.
func splitTimestamp(line []byte) (time.Time, []byte, bool) {
	i := bytes.IndexByte(line, ' ')
	if i <= 0 {
		return time.Time{}, line, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(line[:i]))
	if err != nil {
		return time.Time{}, line, false
	}
	return ts, line[i+1:], true
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
	if obj != nil && (f.w.streamLogs() || res.State == trial.Failed) {
		// Pods that ended between two events still have their logs, and
		// maybe the cause of the failure.
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
		res = f.overrideFailure(res)
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
	f.endingOnce.Do(func() { close(f.ending) })
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
// gone, and returns Killed; when ctx's cause is [trial.ErrDetached] it
// leaves the object alone and returns Running.
func (f *follower) kill(ctx context.Context) trial.Result {
	if f.stopStreams != nil {
		f.stopStreams()
		f.streams.Wait()
	}
	if errors.Is(context.Cause(ctx), trial.ErrDetached) {
		// Left to the cluster: a later Attach follows it.
		return trial.Result{State: trial.Running, Reason: "Detached", Message: "tune stopped following the trial; it goes on running in the cluster"}
	}
	res := trial.Result{State: trial.Killed, Reason: "Stopped", Message: "the trial was stopped"}
	switch {
	case f.shownReason == "Unschedulable":
		res.Message += " while unschedulable: " + f.shownMessage
	case f.shownReason != "":
		res.Message += " while " + f.shownReason + ": " + f.shownMessage
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
	// prefix marks the lines tune's collector in the pod wrote, which go
	// to collected instead of w.
	prefix    []byte
	collected func([]byte)
}

// newLineWriter returns a lineWriter to w that gives the lines of pc, when
// not nil, to pc.Line.
func newLineWriter(w io.Writer, pc *trial.PodCollector) *lineWriter {
	l := &lineWriter{w: w}
	if pc != nil && pc.Line != nil && pc.Prefix != "" {
		l.prefix, l.collected = []byte(pc.Prefix), pc.Line
	}
	return l
}

// Write writes p, one line or more, at once; lines of the collector in the
// pod go to collected.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.collected == nil || !bytes.Contains(p, l.prefix) {
		return l.w.Write(p)
	}
	n := len(p)
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line = p[:i+1]
		}
		p = p[len(line):]
		if rest, ok := bytes.CutPrefix(line, l.prefix); ok {
			l.collected(bytes.TrimRight(rest, "\r\n"))
			continue
		}
		if _, err := l.w.Write(line); err != nil {
			return n - len(p) - len(line), err
		}
	}
	return n, nil
}

// copyNewLines copies the lines of r that pos has not seen to l, without
// their timestamps, until r ends or fails. A last line without a newline
// is copied only when final: otherwise the stream may have been cut in
// the middle of it, and the next stream brings it whole.
func (l *lineWriter) copyNewLines(r io.Reader, pos *logPosition, final bool) {
	pos.begin()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && (err == nil || err == io.EOF && final) {
			if rest, ok := pos.admit(line); ok {
				if _, werr := l.Write(rest); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
