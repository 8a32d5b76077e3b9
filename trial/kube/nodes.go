package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// nodeState is what the follower knows of a node its pods run on.
type nodeState struct {
	name    string
	ready   bool
	gone    bool   // deleted
	message string // why it is not ready
}

// stateOf returns the state of node.
func stateOf(node *corev1.Node) nodeState {
	st := nodeState{name: node.Name, message: "it reports no Ready condition"}
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		st.ready = c.Status == corev1.ConditionTrue
		st.message = fmt.Sprintf("Ready=%s", c.Status)
		if c.Reason != "" {
			st.message += " (" + c.Reason + ")"
		}
		if c.Message != "" {
			st.message += ": " + c.Message
		}
		if !c.LastTransitionTime.IsZero() {
			st.message += fmt.Sprintf(" since %s", c.LastTransitionTime.UTC().Format(time.RFC3339))
		}
	}
	return st
}

// watchNode follows node until ctx is done or the node is deleted,
// sending each change of its state to f.nodeEvents. A client not allowed
// to read nodes (a namespaced Role) stops it at once: lost nodes are then
// noticed only when Kubernetes fails or evicts their pods, and the
// executor says so once.
func (f *follower) watchNode(ctx context.Context, node string) {
	nodes := f.e.opts.Kubernetes.CoreV1().Nodes()
	send := func(st nodeState) bool {
		select {
		case f.nodeEvents <- st:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var last *nodeState
	quiet := 0
	for {
		if err := pause(ctx, quiet); err != nil {
			return
		}
		quiet++
		var n *corev1.Node
		var w watch.Interface
		err := f.retry(ctx, func(ctx context.Context) error {
			var err error
			if n, err = nodes.Get(ctx, node, metav1.GetOptions{}); err != nil {
				return err
			}
			w, err = nodes.Watch(ctx, nameOptions(node, n.ResourceVersion))
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case apierrors.IsNotFound(err):
			send(nodeState{name: node, gone: true})
			return
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			f.e.nodesForbidden.Do(func() {
				f.e.opts.Logger.Warn("cannot read nodes; a trial whose node is lost is noticed only when Kubernetes evicts its pods", "err", err)
			})
			return
		case err != nil:
			f.log.Debug("cannot follow node", "node", node, "err", err)
			continue
		}
		st := stateOf(n)
		if last == nil || *last != st {
			if !send(st) {
				w.Stop()
				return
			}
			last = &st
		}
		for ev := range watchEvents(ctx, w) {
			n, ok := ev.Object.(*corev1.Node)
			if !ok || n.Name != node {
				continue // a bookmark, an error, or (fake clients) another node
			}
			if ev.Type == watch.Deleted {
				w.Stop()
				send(nodeState{name: node, gone: true})
				return
			}
			quiet = 0
			st := stateOf(n)
			if *last != st {
				if !send(st) {
					w.Stop()
					return
				}
				last = &st
			}
		}
		w.Stop()
	}
}

// followNodes starts following the node of pod, if it has one not yet
// followed.
func (f *follower) followNodes(pod *corev1.Pod) {
	node := pod.Spec.NodeName
	if node == "" || f.nodeWatched[node] || f.nodeCtx == nil {
		return
	}
	f.nodeWatched[node] = true
	f.nodeWG.Add(1)
	go func() {
		defer f.nodeWG.Done()
		f.watchNode(f.nodeCtx, node)
	}()
}

// nodeChanged handles a change of a node's state: the problems of the pods
// on it, and the cause of a node deleted under them.
func (f *follower) nodeChanged(st nodeState, now time.Time) {
	f.nodes[st.name] = st
	for _, pod := range f.pods {
		if pod.Spec.NodeName != st.name {
			continue
		}
		if st.gone && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && !f.failedPods[pod.UID] {
			f.podFailed(pod, &cause{pod: pod.UID, reason: "NodeLost", message: fmt.Sprintf("node %s, where pod %s ran, was deleted", st.name, pod.Name)}, false)
		}
		f.podProblems(pod, false, now)
	}
	f.evaluate(now)
}

// watchEvents returns the events of w until it closes or ctx is done.
func watchEvents(ctx context.Context, w watch.Interface) func(yield func(watch.Event) bool) {
	return func(yield func(watch.Event) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok || !yield(ev) {
					return
				}
			}
		}
	}
}
