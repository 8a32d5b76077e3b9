package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tune-hpo/tune/trial"
)

// Rule is permission to use Verbs on Resource of API group Group (""
// for the core group) in the trials' namespace (or, for [NodeRules], in
// the cluster). Resource may name a subresource: "pods/log".
type Rule struct {
	Group    string
	Resource string
	Verbs    []string
	// ResourceNames, when not empty, limits the rule to the objects so
	// named.
	ResourceNames []string
	// Optional, when not empty, says what tune does without the rule: it
	// runs all the same, and [Executor.Preflight] says so as a warning.
	Optional string
}

// Verbs tune uses on a trial's own object (a Job, a Workflow, any other
// kind): it creates it, gets and watches it while the trial runs (a
// re-attached trial too), lists the experiment's objects, and deletes it
// when the trial ends or is stopped.
var workloadVerbs = []string{"create", "get", "list", "watch", "delete"}

// rulesFor is the one list of what tune does in a trial's namespace: on the
// trial's object, of resource res; on its pods, which it watches for
// scheduling problems, retries and exit codes; and, when logs is true,
// on their logs, which carry the metrics. [Rules] (what tune rbac prints)
// and [Executor.Preflight] (what tune run checks) both take it from here.
// Whatever else a trial comes to need in the namespace must be added here,
// so that the check and the printed Role cannot drift.
func rulesFor(group, resource string, logs bool) []Rule {
	rules := []Rule{
		{Group: group, Resource: resource, Verbs: workloadVerbs},
		{Resource: "pods", Verbs: []string{"get", "list", "watch"}},
	}
	if logs {
		rules = append(rules, Rule{Resource: "pods/log", Verbs: []string{"get"}})
	}
	return rules
}

// Rules returns what running a trial of spec needs in its namespace, one
// rule per resource: verbs on the trial's kind (batch jobs, argoproj.io
// workflows, or the resource mapper maps any other kind to), on pods, and
// on pods/log when the trial's metrics come from a pod's log (Jobs, other
// kinds with pods found, Workflows with primaryPodLabels). A nil mapper
// guesses the resource of other kinds from the kind's name, as CRDs
// usually name it (TFJob: tfjobs). spec is compiled as [Compile] does;
// nothing is asked of a cluster but what mapper asks.
func Rules(spec *trial.Spec, mapper meta.RESTMapper) ([]Rule, error) {
	obj, err := compile(spec, "")
	if err != nil {
		return nil, err
	}
	switch o := obj.(type) {
	case *batchv1.Job:
		return rulesFor(batchv1.GroupName, "jobs", true), nil
	case *wfv1.Workflow:
		return append(rulesFor("argoproj.io", "workflows", len(spec.PrimaryPodLabels) > 0), artifactConfigRule), nil
	case *unstructured.Unstructured:
		gvk := o.GroupVersionKind()
		var resource string
		if mapper == nil {
			plural, _ := meta.UnsafeGuessKindToResource(gvk)
			resource = plural.Resource
		} else {
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if meta.IsNoMatchError(err) {
				return nil, fmt.Errorf("kube: trial %s: the cluster does not serve kind %s of apiVersion %s: the CRD (or the operator that installs it) is not installed", spec.Name, gvk.Kind, gvk.GroupVersion())
			}
			if err != nil {
				return nil, fmt.Errorf("kube: trial %s: resolving kind %s of apiVersion %s: %w", spec.Name, gvk.Kind, gvk.GroupVersion(), err)
			}
			resource = m.Resource.Resource
		}
		_, _, logs := dynamicPods(spec, o)
		return rulesFor(gvk.Group, resource, logs), nil
	}
	return nil, fmt.Errorf("kube: trial %s: unexpected compiled object %T", spec.Name, obj)
}

// DefaultRules returns what Job trials and Workflow trials need together
// (pod logs included): the union of [Rules] for both kinds.
func DefaultRules() []Rule {
	return MergeRules(rulesFor(batchv1.GroupName, "jobs", true), rulesFor("argoproj.io", "workflows", true), []Rule{artifactConfigRule})
}

// artifactConfigRule lets tune read the ConfigMaps where Argo keeps a
// namespace's artifact repository (--artifact-repository auto), for
// Workflow trials.
var artifactConfigRule = Rule{
	Resource: "configmaps", Verbs: []string{"get"},
	ResourceNames: []string{artifactRepositoriesConfigMap, controllerConfigMap},
	Optional:      "without it, --artifact-repository auto cannot read Argo's artifact repository configuration in the namespace and drops the upload of Kubeflow Pipelines v1 steps' mlpipeline-metrics and mlpipeline-ui-metadata artifacts (their metrics are still read)",
}

// NodeRules returns what tune does with nodes, which a Role cannot grant
// (they are cluster-scoped): it gets and watches the nodes of its trials'
// pods, to notice a node lost or not ready. Without them it runs all the
// same and notices a lost node only when Kubernetes evicts or deletes the
// pods on it.
func NodeRules() []Rule {
	return []Rule{{Resource: "nodes", Verbs: []string{"get", "watch"},
		Optional: "without it, a trial whose node is lost or not ready is noticed only when Kubernetes evicts or deletes its pods"}}
}

// MergeRules returns the union of rule lists: one rule per group and
// resource, in the order first seen, with the verbs of every rule for it
// in the order first seen (and the names and optionality of the first).
func MergeRules(lists ...[]Rule) []Rule {
	var out []Rule
	for _, rules := range lists {
		for _, r := range rules {
			i := slices.IndexFunc(out, func(o Rule) bool { return o.Group == r.Group && o.Resource == r.Resource })
			if i < 0 {
				out = append(out, Rule{Group: r.Group, Resource: r.Resource, Verbs: slices.Clone(r.Verbs), ResourceNames: slices.Clone(r.ResourceNames), Optional: r.Optional})
				continue
			}
			for _, v := range r.Verbs {
				if !slices.Contains(out[i].Verbs, v) {
					out[i].Verbs = append(out[i].Verbs, v)
				}
			}
		}
	}
	return out
}

// Role returns a Role named name in namespace that grants rules and
// nothing else, with the label app.kubernetes.io/managed-by=tune.
func Role(name, namespace string, rules []Rule) *rbacv1.Role {
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{LabelManagedBy: ManagedBy}},
	}
	role.Rules = policyRules(rules)
	return role
}

// ClusterRole returns a ClusterRole named name that grants rules (such
// as [NodeRules]) and nothing else, with the label
// app.kubernetes.io/managed-by=tune.
func ClusterRole(name string, rules []Rule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelManagedBy: ManagedBy}},
		Rules:      policyRules(rules),
	}
}

// policyRules returns rules as RBAC's policy rules.
func policyRules(rules []Rule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range rules {
		out = append(out, rbacv1.PolicyRule{
			APIGroups:     []string{r.Group},
			Resources:     []string{r.Resource},
			ResourceNames: slices.Clone(r.ResourceNames),
			Verbs:         slices.Clone(r.Verbs),
		})
	}
	return out
}

// Permission is one verb on one resource (on the object Name, when not
// empty).
type Permission struct {
	Verb, Group, Resource string
	Name                  string
}

// String returns "verb resource" for the core group and
// "verb group/resource" otherwise: "get pods/log", "create batch/jobs";
// with a name, `get configmaps "artifact-repositories"`.
func (p Permission) String() string {
	s := p.Verb + " " + p.Resource
	if p.Group != "" {
		s = p.Verb + " " + p.Group + "/" + p.Resource
	}
	if p.Name != "" {
		s += fmt.Sprintf(" %q", p.Name)
	}
	return s
}

// AccessError reports the permissions a trial needs that the cluster
// denies. It wraps [trial.ErrNotPermitted].
type AccessError struct {
	// Namespace is where the trials would run.
	Namespace string
	// User is who asked, as the cluster authenticated them ("" when the
	// cluster would not say).
	User string
	// Missing lists the denied permissions in the order of [Rules].
	Missing []Permission
}

func (e *AccessError) Error() string {
	names := make([]string, len(e.Missing))
	for i, p := range e.Missing {
		names[i] = p.String()
	}
	as := ""
	if e.User != "" {
		as = " for " + e.User
	}
	return fmt.Sprintf("missing permissions in namespace %s%s: %s", e.Namespace, as, strings.Join(names, ", "))
}

// Unwrap returns [trial.ErrNotPermitted].
func (e *AccessError) Unwrap() error { return trial.ErrNotPermitted }

var _ trial.Preflighter = (*Executor)(nil)

// Preflight implements [trial.Preflighter]: it asks the cluster, with one
// SelfSubjectAccessReview per verb and resource of [Rules], whether the
// executor's credentials may do everything a trial of spec needs in the
// trial's namespace, and returns an [*AccessError] listing what is
// denied. A cluster that does not let the user ask (the review is
// forbidden or not served) is not held against it: Preflight then returns
// a warning saying the permissions were not checked, and a nil error.
// Other failures to ask (the cluster cannot be reached) are errors.
// Nothing is created but the reviews, which the cluster does not store.
func (e *Executor) Preflight(ctx context.Context, spec *trial.Spec) ([]string, error) {
	obj, err := compile(spec, e.opts.Namespace)
	if err != nil {
		return nil, err
	}
	ns := obj.(metav1.Object).GetNamespace()
	rules, err := Rules(spec, e.mapper)
	if err != nil {
		return nil, err
	}
	var perms []Permission
	optional := map[int]string{} // index in perms: what is lost without it
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, v := range r.Verbs {
			for _, name := range names {
				if r.Optional != "" {
					optional[len(perms)] = r.Optional
				}
				perms = append(perms, Permission{Verb: v, Group: r.Group, Resource: r.Resource, Name: name})
			}
		}
	}
	allowed := make([]bool, len(perms))
	errs := make([]error, len(perms))
	var wg sync.WaitGroup
	for i, p := range perms {
		wg.Go(func() {
			allowed[i], errs[i] = e.allowed(ctx, ns, p)
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
		case apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
			return []string{fmt.Sprintf("permissions in namespace %s not checked: the cluster does not let this user ask (%v); trials fail if a permission is missing (tune rbac prints the Role they need)", ns, err)}, nil
		default:
			return nil, fmt.Errorf("kube: checking permission to %s in namespace %s: %w", perms[i], ns, err)
		}
	}
	ae := &AccessError{Namespace: ns}
	var warnings []string
	for i, p := range perms {
		switch {
		case allowed[i]:
		case optional[i] != "":
			w := fmt.Sprintf("no permission to %s in namespace %s: %s", p, ns, optional[i])
			if !slices.Contains(warnings, w) {
				warnings = append(warnings, w)
			}
		default:
			ae.Missing = append(ae.Missing, p)
		}
	}
	if len(ae.Missing) == 0 {
		return warnings, nil
	}
	ae.User = e.whoAmI(ctx)
	return warnings, ae
}

// allowed asks the cluster whether the executor's user may p in ns.
func (e *Executor) allowed(ctx context.Context, ns string, p Permission) (bool, error) {
	resource, sub, _ := strings.Cut(p.Resource, "/")
	review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Verb: p.Verb, Group: p.Group, Resource: resource, Subresource: sub, Name: p.Name,
		},
	}}
	got, err := e.opts.Kubernetes.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return got.Status.Allowed && !got.Status.Denied, nil
}

// whoAmI returns the user name the cluster authenticates the executor's
// credentials as, or "" when it does not say.
func (e *Executor) whoAmI(ctx context.Context) string {
	r, err := e.opts.Kubernetes.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return r.Status.UserInfo.Username
}
