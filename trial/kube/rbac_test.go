package kube

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tune-hpo/tune/trial"
)

// perms expands rules to "verb resource" strings, in order.
func perms(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		for _, v := range r.Verbs {
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, n := range names {
				out = append(out, Permission{Verb: v, Group: r.Group, Resource: r.Resource, Name: n}.String())
			}
		}
	}
	return out
}

// configPerms are the optional reads of Argo's artifact repository
// configuration, for Workflow trials.
var configPerms = []string{`get configmaps "artifact-repositories"`, `get configmaps "workflow-controller-configmap"`}

var (
	podPerms = []string{"get pods", "list pods", "watch pods"}
	logPerms = []string{"get pods/log"}
)

// kindPerms returns the workload verbs on resource, then pods', then,
// with logs, pods/log's.
func kindPerms(resource string, logs bool) []string {
	var out []string
	for _, v := range []string{"create", "get", "list", "watch", "delete"} {
		out = append(out, v+" "+resource)
	}
	out = append(out, podPerms...)
	if logs {
		out = append(out, logPerms...)
	}
	return out
}

func TestRules(t *testing.T) {
	workflowLabelled := newSpec(t, workflowYAML)
	workflowLabelled.PrimaryPodLabels = map[string]string{"katib.kubeflow.org/model-training": "true"}
	widget := newSpec(t, widgetYAML)
	widget.SuccessCondition, widget.FailureCondition = "status.done", "status.failed"
	trainjob := newSpec(t, trainjobYAML)
	trainjob.SuccessCondition, trainjob.FailureCondition = kubeflowSuccess, kubeflowFailure
	// A mapper that names the Widget resource unlike the guess, to show
	// that the mapper's answer is used.
	irregular := meta.NewDefaultRESTMapper(nil)
	irregular.AddSpecific(widgetGVK, widgetGVK.GroupVersion().WithResource("gizmos"), widgetGVK.GroupVersion().WithResource("gizmo"), meta.RESTScopeNamespace)

	tests := map[string]struct {
		spec   *trial.Spec
		mapper meta.RESTMapper
		want   []string
	}{
		"Job":                            {spec: newSpec(t, jobYAML), want: kindPerms("batch/jobs", true)},
		"Workflow without primary pods":  {spec: newSpec(t, workflowYAML), want: append(kindPerms("argoproj.io/workflows", false), configPerms...)},
		"Workflow with primaryPodLabels": {spec: workflowLabelled, want: append(kindPerms("argoproj.io/workflows", true), configPerms...)},
		"TFJob, mapper":                  {spec: tfjobSpec(t), mapper: testMapper(), want: kindPerms("kubeflow.org/tfjobs", true)},
		"TFJob, guessed":                 {spec: tfjobSpec(t), want: kindPerms("kubeflow.org/tfjobs", true)},
		"TrainJob (pods by its label)":   {spec: trainjob, mapper: testMapper(), want: kindPerms("trainer.kubeflow.org/trainjobs", true)},
		"Widget without pods":            {spec: widget, mapper: irregular, want: kindPerms("example.com/gizmos", false)},
		"Widget, guessed":                {spec: widget, want: kindPerms("example.com/widgets", false)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rules, err := Rules(tc.spec, tc.mapper)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, perms(rules)); diff != "" {
				t.Errorf("Rules (-want +got):\n%s", diff)
			}
			// The rules ask for pod logs exactly when the executor
			// streams them.
			mapper := tc.mapper
			if mapper == nil {
				mapper = irregular
				if tc.spec != widget {
					mapper = testMapper()
				}
			}
			w, err := newFakes().executor(t, Options{RESTMapper: mapper}).workload(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(perms(rules), "get pods/log"); got != w.streamLogs() {
				t.Errorf("rules ask for pods/log: %v; the executor streams logs: %v", got, w.streamLogs())
			}
		})
	}
	t.Run("kind the cluster does not serve", func(t *testing.T) {
		_, err := Rules(tfjobSpec(t), meta.NewDefaultRESTMapper(nil))
		if err == nil || !strings.Contains(err.Error(), "does not serve kind TFJob") {
			t.Errorf("Rules = %v, want an error naming the kind", err)
		}
	})
}

func TestDefaultRulesAreJobsAndWorkflows(t *testing.T) {
	want := append(append(kindPerms("batch/jobs", true), kindPerms("argoproj.io/workflows", false)[:5]...), configPerms...)
	if diff := cmp.Diff(want, perms(DefaultRules())); diff != "" {
		t.Errorf("DefaultRules (-want +got):\n%s", diff)
	}
}

func TestMergeRules(t *testing.T) {
	got := MergeRules(
		[]Rule{{Resource: "pods", Verbs: []string{"get", "list"}}, {Group: "batch", Resource: "jobs", Verbs: []string{"get"}}},
		[]Rule{{Resource: "pods", Verbs: []string{"list", "watch"}}, {Resource: "pods/log", Verbs: []string{"get"}}},
	)
	want := []Rule{
		{Resource: "pods", Verbs: []string{"get", "list", "watch"}},
		{Group: "batch", Resource: "jobs", Verbs: []string{"get"}},
		{Resource: "pods/log", Verbs: []string{"get"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergeRules (-want +got):\n%s", diff)
	}
}

// reviews answers the fake cluster's SelfSubjectAccessReviews: allowed
// permissions are those of allow, unless fail returns an error for one.
type reviews struct {
	mu    sync.Mutex
	asked []string // "namespace: verb resource"
}

func (f *fakes) answerReviews(allow []string, fail func(p string) error) *reviews {
	r := &reviews{}
	f.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		ra := review.Spec.ResourceAttributes
		res := ra.Resource
		if ra.Subresource != "" {
			res += "/" + ra.Subresource
		}
		p := Permission{Verb: ra.Verb, Group: ra.Group, Resource: res, Name: ra.Name}.String()
		r.mu.Lock()
		r.asked = append(r.asked, ra.Namespace+": "+p)
		r.mu.Unlock()
		if fail != nil {
			if err := fail(p); err != nil {
				return true, nil, err
			}
		}
		out := review.DeepCopy()
		out.Status.Allowed = slices.Contains(allow, p)
		out.Status.Denied = !out.Status.Allowed
		return true, out, nil
	})
	f.kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{
			UserInfo: authnv1.UserInfo{Username: "system:serviceaccount:team:tune"},
		}}, nil
	})
	return r
}

func without(all []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(p string) bool { return slices.Contains(drop, p) })
}

func TestPreflightAllowed(t *testing.T) {
	f := newFakes()
	r := f.answerReviews(kindPerms("batch/jobs", true), nil)
	warnings, err := f.executor(t, Options{}).Preflight(t.Context(), newSpec(t, jobYAML))
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Preflight = %q, %v; want nothing", warnings, err)
	}
	// Every permission of the rules is asked for once, in the trial's
	// namespace.
	var want []string
	for _, p := range kindPerms("batch/jobs", true) {
		want = append(want, testNS+": "+p)
	}
	slices.Sort(want)
	slices.Sort(r.asked)
	if diff := cmp.Diff(want, r.asked); diff != "" {
		t.Errorf("reviews asked (-want +got):\n%s", diff)
	}
	if a := actions(f.kube, "create", "jobs"); len(a) > 0 {
		t.Errorf("Preflight created %d Jobs", len(a))
	}
}

func TestPreflightMissing(t *testing.T) {
	f := newFakes()
	f.answerReviews(without(kindPerms("batch/jobs", true), "create batch/jobs", "get pods/log"), nil)
	warnings, err := f.executor(t, Options{}).Preflight(t.Context(), newSpec(t, jobYAML))
	const want = "missing permissions in namespace team for system:serviceaccount:team:tune: create batch/jobs, get pods/log"
	if err == nil || err.Error() != want {
		t.Fatalf("Preflight error %v, want %q", err, want)
	}
	if !errors.Is(err, trial.ErrNotPermitted) {
		t.Errorf("error %v does not wrap trial.ErrNotPermitted", err)
	}
	ae, ok := errors.AsType[*AccessError](err)
	if !ok || ae.Namespace != testNS || len(ae.Missing) != 2 || ae.Missing[1] != (Permission{Verb: "get", Resource: "pods/log"}) {
		t.Errorf("AccessError %+v", ae)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings %q", warnings)
	}
	if a := actions(f.kube, "create", "jobs"); len(a) > 0 {
		t.Errorf("Preflight created %d Jobs", len(a))
	}
}

// A Workflow trial in the executor's namespace (the spec names none): the
// reviews are for workflows there.
func TestPreflightWorkflowInExecutorNamespace(t *testing.T) {
	f := newFakes()
	r := f.answerReviews(without(kindPerms("argoproj.io/workflows", false), "watch argoproj.io/workflows", "list pods"), nil)
	spec := newSpec(t, workflowYAML)
	spec.Namespace = ""
	_, err := f.executor(t, Options{Namespace: "ml"}).Preflight(t.Context(), spec)
	const want = "missing permissions in namespace ml for system:serviceaccount:team:tune: watch argoproj.io/workflows, list pods"
	if err == nil || err.Error() != want {
		t.Fatalf("Preflight error %v, want %q", err, want)
	}
	for _, a := range r.asked {
		if !strings.HasPrefix(a, "ml: ") {
			t.Errorf("review %q not in namespace ml", a)
		}
	}
}

// TestPreflightOptional: a Workflow trial runs without the reads of Argo's
// configuration: their absence is a warning saying what is lost, not a
// refusal.
func TestPreflightOptional(t *testing.T) {
	f := newFakes()
	f.answerReviews(append(kindPerms("argoproj.io/workflows", false), configPerms[1]), nil)
	warnings, err := f.executor(t, Options{}).Preflight(t.Context(), newSpec(t, workflowYAML))
	if err != nil {
		t.Fatalf("Preflight error %v; want a warning only", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `no permission to get configmaps "artifact-repositories" in namespace team`) || !strings.Contains(warnings[0], "--artifact-repository auto") {
		t.Errorf("warnings %q", warnings)
	}
}

func TestPreflightCannotAsk(t *testing.T) {
	gr := schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}
	tests := map[string]error{
		"forbidden":  apierrors.NewForbidden(gr, "", errors.New("RBAC: access denied")),
		"not served": apierrors.NewNotFound(gr, ""),
	}
	for name, reviewErr := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakes()
			f.answerReviews(nil, func(string) error { return reviewErr })
			warnings, err := f.executor(t, Options{}).Preflight(t.Context(), newSpec(t, jobYAML))
			if err != nil {
				t.Fatalf("Preflight error %v; want a warning only", err)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "permissions in namespace team not checked") || !strings.Contains(warnings[0], "tune rbac") {
				t.Errorf("warnings %q", warnings)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		f := newFakes()
		f.answerReviews(nil, func(p string) error {
			if p == "delete batch/jobs" {
				return errors.New("dial tcp 10.0.0.1:443: connect: connection refused")
			}
			return nil
		})
		_, err := f.executor(t, Options{}).Preflight(t.Context(), newSpec(t, jobYAML))
		if err == nil || errors.Is(err, trial.ErrNotPermitted) || !strings.Contains(err.Error(), "checking permission to delete batch/jobs in namespace team") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Preflight error %v; want the failure to ask, naming the permission", err)
		}
	})
}
