package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

// podLabelOf gives, for kinds whose object has no pod template, the label
// its operator puts on the pods, set to the object's name.
var podLabelOf = map[schema.GroupKind]string{
	{Group: "trainer.kubeflow.org", Kind: "TrainJob"}: "jobset.sigs.k8s.io/jobset-name",
	{Group: "tekton.dev", Kind: "PipelineRun"}:        "tekton.dev/pipelineRun",
}

// compileDynamic builds the unstructured object of a trial of any kind
// other than Job and Workflow from data, spec.Object's JSON: named and
// labelled as the typed kinds, with the trial's labels added to every pod
// template in it (see [labelPodTemplates]).
func compileDynamic(spec *trial.Spec, data []byte, ns string) (*unstructured.Unstructured, error) {
	u := new(unstructured.Unstructured)
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("kube: trial %s: trialSpec is not a Kubernetes object: %w", spec.Name, err)
	}
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, fmt.Errorf("kube: trial %s: trialSpec needs apiVersion and kind", spec.Name)
	}
	if n := u.GetNamespace(); n != "" && n != ns {
		return nil, fmt.Errorf("kube: trial %s: trialSpec metadata.namespace %q differs from the experiment's namespace %q: remove it from the template",
			spec.Name, n, ns)
	}
	trialLbls := trialLabels(spec)
	u.SetName(spec.Name)
	u.SetGenerateName("")
	u.SetNamespace(ns)
	u.SetLabels(mergeLabels(u.GetLabels(), trialLbls))
	templates := labelPodTemplates(u.Object, trialLbls)
	if len(templates) > 0 {
		if err := checkPrimaryTemplates(spec, u.GetKind(), templates); err != nil {
			return nil, err
		}
	}
	if spec.Collector != nil {
		if len(templates) == 0 {
			return nil, fmt.Errorf("kube: trial %s: the %s has no pod template, so tune's metrics collector cannot run in its pods: use the StdOut collector", spec.Name, u.GetKind())
		}
		// Every template whose primary container has a command runs the
		// collector (a training job's workers may leave theirs to the
		// image); at least one must.
		var err, firstErr error
		injected := 0
		eachPodTemplate(u.Object, func(t map[string]any, names []string) {
			if err != nil || !slices.Contains(names, primaryName(spec, names)) {
				return
			}
			switch e := injectUnstructured(injectCollector, spec, u.GetKind(), t); {
			case e == nil:
				injected++
			case errors.Is(e, errNoCommand):
				firstErr = cmp.Or(firstErr, e)
			default:
				err = e
			}
		})
		if err == nil && injected == 0 {
			err = firstErr
		}
		if err != nil {
			return nil, err
		}
	}
	if spec.Checkpoint != nil {
		if len(templates) == 0 {
			return nil, fmt.Errorf("kube: trial %s: the %s has no pod template, so tune cannot give its pods their checkpoint directory (suggestion_trial_dir)", spec.Name, u.GetKind())
		}
		var err error
		eachPodTemplate(u.Object, func(t map[string]any, names []string) {
			if err == nil && slices.Contains(names, primaryName(spec, names)) {
				err = injectUnstructured(injectCheckpoint, spec, u.GetKind(), t)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

// labelPodTemplates merges lbls into the labels of every pod template in
// obj ([eachPodTemplate]). It returns the container names of each
// template found, in a stable order.
func labelPodTemplates(obj map[string]any, lbls map[string]string) [][]string {
	var found [][]string
	eachPodTemplate(obj, func(t map[string]any, names []string) {
		md, _ := t["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			t["metadata"] = md
		}
		have := map[string]string{}
		if old, ok := md["labels"].(map[string]any); ok {
			for k, val := range old {
				if s, ok := val.(string); ok {
					have[k] = s
				}
			}
		}
		merged := map[string]any{}
		for k, val := range mergeLabels(have, lbls) {
			merged[k] = val
		}
		md["labels"] = merged
		found = append(found, names)
	})
	return found
}

// eachPodTemplate walks obj and calls fn with every pod template in it,
// in a stable order: every map under a "template" key whose "spec" has a
// "containers" list (a training operator's replica specs, a Job-like
// custom resource), with its container names.
func eachPodTemplate(obj map[string]any, fn func(t map[string]any, names []string)) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["template"].(map[string]any); ok {
				if names, ok := podTemplateContainers(t); ok {
					fn(t, names)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(obj)
}

// podTemplateContainers returns the container names of t when t is a pod
// template (its spec has a containers list).
func podTemplateContainers(t map[string]any) ([]string, bool) {
	spec, ok := t["spec"].(map[string]any)
	if !ok {
		return nil, false
	}
	containers, ok := spec["containers"].([]any)
	if !ok {
		return nil, false
	}
	names := make([]string, 0, len(containers))
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok {
			name, _ := m["name"].(string)
			names = append(names, name)
		}
	}
	return names, true
}

// primaryName is the name of the primary container among names: the
// spec's, or the only one.
func primaryName(spec *trial.Spec, names []string) string {
	if spec.PrimaryContainer == "" && len(names) == 1 {
		return names[0]
	}
	return spec.PrimaryContainer
}

// checkPrimaryTemplates checks that some pod template of a trial of kind
// has the primary container (with no primaryContainerName, that every
// template has one container).
func checkPrimaryTemplates(spec *trial.Spec, kind string, templates [][]string) error {
	var all []string
	for _, names := range templates {
		if spec.PrimaryContainer == "" && len(names) != 1 {
			return fmt.Errorf("kube: trial %s: a pod template of the %s has containers %s: primaryContainerName must name the one reporting metrics",
				spec.Name, kind, strings.Join(names, ", "))
		}
		if slices.Contains(names, spec.PrimaryContainer) {
			return nil
		}
		for _, n := range names {
			if !slices.Contains(all, n) {
				all = append(all, n)
			}
		}
	}
	if spec.PrimaryContainer == "" {
		return nil
	}
	return fmt.Errorf("kube: trial %s: primaryContainerName %q is not a container of any pod template of the %s (they have %s)",
		spec.Name, spec.PrimaryContainer, kind, strings.Join(all, ", "))
}

// dynamicWorkload is an object of any other kind, handled through the
// dynamic client and judged by the spec's gjson conditions.
type dynamicWorkload struct {
	e    *Executor
	obj  *unstructured.Unstructured
	res  dynamic.ResourceInterface
	cond manifest.Conditions
	// selector selects the trial's pods; labelled says whether they carry
	// the trial label (a pod template was found), logs whether the primary
	// pod's log is streamed.
	selector       string
	labelled, logs bool
}

// dynamicWorkload resolves the resource of u's kind and returns its
// workload.
func (e *Executor) dynamicWorkload(spec *trial.Spec, u *unstructured.Unstructured) (workload, error) {
	gvk := u.GroupVersionKind()
	if spec.SuccessCondition == "" || spec.FailureCondition == "" {
		return nil, fmt.Errorf("kube: trial %s: a %s %s trial needs successCondition and failureCondition", spec.Name, gvk.GroupVersion(), gvk.Kind)
	}
	if e.opts.Dynamic == nil {
		return nil, fmt.Errorf("kube: trial %s is a %s %s but the executor has no dynamic client", spec.Name, gvk.GroupVersion(), gvk.Kind)
	}
	m, err := e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case meta.IsNoMatchError(err):
		return nil, fmt.Errorf("kube: trial %s: the cluster does not serve kind %s of apiVersion %s: the CRD (or the operator that installs it) is not installed", spec.Name, gvk.Kind, gvk.GroupVersion())
	case err != nil:
		return nil, fmt.Errorf("kube: trial %s: resolving kind %s of apiVersion %s: %w", spec.Name, gvk.Kind, gvk.GroupVersion(), err)
	case m.Scope.Name() != meta.RESTScopeNameNamespace:
		return nil, fmt.Errorf("kube: trial %s: kind %s of apiVersion %s is cluster-scoped: trials must be namespaced objects", spec.Name, gvk.Kind, gvk.GroupVersion())
	}
	w := &dynamicWorkload{
		e:    e,
		obj:  u,
		res:  e.opts.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace()),
		cond: manifest.Conditions{Kind: gvk.Kind, Success: spec.SuccessCondition, Failure: spec.FailureCondition},
	}
	w.selector, w.labelled, w.logs = dynamicPods(spec, u)
	return w, nil
}

// dynamicPods returns how the pods of u, a trial of spec of a kind other
// than Job and Workflow, are found: their label selector, whether they
// carry the trial label, and whether the primary pod's log is streamed.
func dynamicPods(spec *trial.Spec, u *unstructured.Unstructured) (selector string, labelled, logs bool) {
	probe := u.DeepCopy()
	switch label, known := podLabelOf[u.GroupVersionKind().GroupKind()]; {
	case len(labelPodTemplates(probe.Object, trialLabels(spec))) > 0:
		return labels.SelectorFromSet(labels.Set{LabelTrial: u.GetName()}).String(), true, true
	case known:
		return labels.SelectorFromSet(labels.Set{label: u.GetName()}).String(), false, true
	}
	// No pods known: watch those that carry the trial label anyway (some
	// operators copy the object's labels to its pods) for scheduling
	// problems, but stream no log.
	return labels.SelectorFromSet(labels.Set{LabelTrial: u.GetName()}).String(), false, false
}

func (w *dynamicWorkload) kind() string      { return w.obj.GetKind() }
func (w *dynamicWorkload) namespace() string { return w.obj.GetNamespace() }

func (w *dynamicWorkload) create(ctx context.Context) (metav1.Object, error) {
	return w.res.Create(ctx, w.obj.DeepCopy(), metav1.CreateOptions{})
}

func (w *dynamicWorkload) get(ctx context.Context) (metav1.Object, error) {
	return w.res.Get(ctx, w.obj.GetName(), metav1.GetOptions{})
}

func (w *dynamicWorkload) watch(ctx context.Context, rv string) (watch.Interface, error) {
	return w.res.Watch(ctx, nameOptions(w.obj.GetName(), rv))
}

func (w *dynamicWorkload) delete(ctx context.Context) error {
	return w.res.Delete(ctx, w.obj.GetName(), deleteOptions)
}

func (w *dynamicWorkload) ended(obj runtime.Object) (bool, trial.Result) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return false, trial.Result{}
	}
	data, err := u.MarshalJSON()
	if err != nil {
		return false, trial.Result{}
	}
	return w.cond.Eval(data)
}

func (w *dynamicWorkload) podSelector() string { return w.selector }

func (w *dynamicWorkload) podsLabelled() bool { return w.labelled }

func (w *dynamicWorkload) streamLogs() bool { return w.logs }

// podsAreAttempts: a training operator replaces a failed primary pod (its
// restartPolicy), so a second primary pod is a retry.
func (w *dynamicWorkload) podsAreAttempts() bool { return true }

func (w *dynamicWorkload) collect(runtime.Object, io.Writer) error { return nil }

// retries: a training operator (its replicas' restartPolicy) or another
// kind's controller decides whether a failed pod is replaced; the trial
// ends when the failure condition holds.
func (w *dynamicWorkload) retries(runtime.Object, *corev1.Pod, int) bool { return true }
