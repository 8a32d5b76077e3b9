package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/kube"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// rbacOptions are the inputs of tune rbac.
type rbacOptions struct {
	f              *factory
	file           string
	namespace      string
	name           string
	serviceAccount string
	users, groups  []string
	format         string
	nodes          bool

	kubeconfig, kubeContext string
	templateFiles           []string // --trial-template-configmap
}

// defaultRBACName names the Role, RoleBinding and ServiceAccount tune rbac
// prints unless told otherwise.
const defaultRBACName = "tune"

func newRBACCommand(f *factory) *cobra.Command {
	o := &rbacOptions{f: f}
	cmd := &cobra.Command{
		Use:   "rbac [FILE]",
		Short: "Print the Role, RoleBinding and ServiceAccount that --executor kubernetes needs",
		Long: `Print, ready for kubectl apply -f -, the smallest Role that lets tune run
an experiment's trials in a namespace (the verbs it uses on the trial's
kind, on pods and on pod logs when the metrics come from them), a
RoleBinding granting it, and the ServiceAccount it is granted to.

With FILE, the Role is for that experiment's trial kind (a Job, a Workflow,
a TFJob or any other kind: the resource is the kind's lowercase plural, as
CRDs name it). Without FILE, it is the union for Job and Workflow trials.

The namespace is the experiment's metadata.namespace, else -n, else the
kubeconfig context's, else "default". The binding is to the service
account --service-account (default "tune"), or to the users and groups of
--user and --group (then no ServiceAccount is printed unless
--service-account is given too).

tune run --executor kubernetes checks these same permissions before the
first trial and names those missing. Some are optional (reading Argo's
artifact repository configuration, for Workflows): without them tune runs
and says what it does instead.

With --nodes, a ClusterRole NAME-nodes and a ClusterRoleBinding
NAME-nodes-NAMESPACE are printed too: get and watch on nodes, which a Role
cannot grant (nodes are cluster-scoped) and with which tune notices a
trial whose node is lost or not ready; without them such a trial fails
only when Kubernetes evicts or deletes its pods.`,
		Example: `  tune rbac experiment.yaml -n team-a | kubectl apply -f -
  tune rbac experiment.yaml -n team-a --nodes | kubectl apply -f -
  tune rbac -n team-a --user alice@example.com`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("%s: expected at most one FILE, got %d arguments; see %s --help", cmd.CommandPath(), len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.file = args[0]
			}
			if len(o.users)+len(o.groups) > 0 && !cmd.Flags().Changed("service-account") {
				o.serviceAccount = ""
			}
			return runRBAC(o)
		},
	}
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace of the trials when the experiment's metadata.namespace is empty (default: the context's namespace)")
	cmd.Flags().StringVar(&o.name, "name", defaultRBACName, "name of the Role and RoleBinding")
	cmd.Flags().StringVar(&o.serviceAccount, "service-account", defaultRBACName, "service account to create and bind the Role to")
	cmd.Flags().StringArrayVar(&o.users, "user", nil, "user to bind the Role to, as the cluster authenticates them; repeat for several")
	cmd.Flags().StringArrayVar(&o.groups, "group", nil, "group to bind the Role to; repeat for several")
	cmd.Flags().BoolVar(&o.nodes, "nodes", false, "also print a ClusterRole and ClusterRoleBinding to get and watch nodes (to notice a trial's lost node)")
	cmd.Flags().StringVarP(&o.format, "output", "o", "yaml", "output format: yaml (documents separated by ---) or json (a v1 List)")
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file, for the namespace of its context")
	cmd.Flags().StringVar(&o.kubeContext, "context", "", "kubeconfig context, for its namespace")
	cmd.Flags().StringArrayVar(&o.templateFiles, "trial-template-configmap", nil, "YAML file holding the ConfigMap of a spec.trialTemplate.configMap, for the trial's kind (repeatable; default: CONFIGMAPNAME.yaml next to the experiment file; tune rbac contacts no cluster)")
	return cmd
}

func runRBAC(o *rbacOptions) error {
	format, err := output.ParseFormat(o.format)
	if err != nil || (format != output.JSON && format != output.YAML) {
		return usageErrorf("-o %q: want yaml or json", o.format)
	}
	for flag, v := range map[string]string{"--name": o.name, "--service-account": o.serviceAccount} {
		if errs := validation.IsDNS1123Subdomain(v); v != "" && len(errs) > 0 {
			return usageErrorf("%s %q: not a valid object name: %s", flag, v, strings.Join(errs, "; "))
		}
	}
	if o.name == "" {
		return usageErrorf("--name: must not be empty")
	}
	if o.serviceAccount == "" && len(o.users)+len(o.groups) == 0 {
		return usageErrorf("--service-account, --user or --group: the Role must be bound to someone")
	}
	rules, what, ns, err := o.rules()
	if err != nil {
		return err
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return usageErrorf("namespace %q: %s", ns, strings.Join(errs, "; "))
	}
	objs := rbacObjects(o.name, ns, o.serviceAccount, o.users, o.groups, rules, o.nodes)
	if format == output.JSON {
		list := map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
		return output.Data(o.f.io.Out, format, list)
	}
	var who []string
	if o.serviceAccount != "" {
		who = append(who, "service account "+o.serviceAccount)
	}
	for _, u := range o.users {
		who = append(who, "user "+u)
	}
	for _, g := range o.groups {
		who = append(who, "group "+g)
	}
	fmt.Fprintln(o.f.io.Out, escapeControl(fmt.Sprintf("# What tune needs to run %s in namespace %s, granted to %s.", what, ns, strings.Join(who, ", ")), false))
	fmt.Fprintln(o.f.io.Out, "# Apply with: kubectl apply -f - (from a pipe), or -f FILE")
	for i, obj := range objs {
		if i > 0 {
			fmt.Fprintln(o.f.io.Out, "---")
		}
		if err := output.Data(o.f.io.Out, format, obj); err != nil {
			return err
		}
	}
	return nil
}

// rules returns the rules for o's experiment (or for Jobs and Workflows
// without one), a phrase saying what they are for, and the namespace.
func (o *rbacOptions) rules() ([]kube.Rule, string, string, error) {
	if o.file == "" {
		return kube.DefaultRules(), "Job and Workflow trials", o.kubeNamespace(), nil
	}
	// tune rbac contacts no cluster: a ConfigMap's template comes from a file.
	exp, _, err := loadExperimentWith(o.file, templateSource{files: o.templateFiles}.lookup(context.Background(), o.file))
	if errors.Is(err, experiment.ErrTemplateUnavailable) {
		return nil, "", "", &codeError{code: exitInvalid, err: fmt.Errorf("%w: the trial's kind decides the permissions; name the ConfigMap's file with --trial-template-configmap", err)}
	}
	if err != nil {
		return nil, "", "", err
	}
	if err := experiment.CheckRunnable(exp); err != nil {
		return nil, "", "", err
	}
	ns := exp.Metadata.Namespace
	switch {
	case ns != "" && o.namespace != "" && o.namespace != ns:
		return nil, "", "", usageErrorf("-n %s: the experiment's trials run in its metadata.namespace, %s", o.namespace, ns)
	case ns == "":
		ns = o.kubeNamespace()
		exp.Metadata.Namespace = ns
	}
	spec, err := exp.TrialSpec(experiment.TrialName(exp.Metadata.Name, 1), exp.SampleAssignment(), "")
	if err != nil {
		return nil, "", "", fmt.Errorf("render a trial of %s: %w", exp.Metadata.Name, err)
	}
	rules, err := kube.Rules(spec, nil)
	if err != nil {
		return nil, "", "", &codeError{code: exitInvalid, err: err}
	}
	kind, _ := spec.Object["kind"].(string)
	if kfp.IsKind(spec.Object) {
		kind += " (run as Argo Workflow)"
	}
	return rules, fmt.Sprintf("the %s trials of experiment %s", kind, exp.Metadata.Name), ns, nil
}

// kubeNamespace returns -n, else the kubeconfig context's namespace when a
// kubeconfig can be read, else Kubernetes' default. It contacts no
// cluster.
func (o *rbacOptions) kubeNamespace() string {
	if o.namespace != "" {
		return o.namespace
	}
	if ex, err := kube.NewFromKubeconfig(o.kubeconfig, o.kubeContext, kube.Options{}); err == nil {
		return ex.Namespace()
	}
	return trial.DefaultNamespace
}

// rbacObjects returns the ServiceAccount (when sa is not empty), the Role
// granting rules and the RoleBinding binding it to sa, users and groups,
// all in ns; with nodes, also the ClusterRole name-nodes granting
// [kube.NodeRules] and the ClusterRoleBinding name-nodes-ns binding it to
// the same subjects.
func rbacObjects(name, ns, sa string, users, groups []string, rules []kube.Rule, nodes bool) []any {
	labels := map[string]string{kube.LabelManagedBy: kube.ManagedBy}
	var objs []any
	var subjects []rbacv1.Subject
	if sa != "" {
		objs = append(objs, &corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Labels: labels},
		})
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns})
	}
	for _, u := range users {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
	}
	for _, g := range groups {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
	}
	objs = append(objs, kube.Role(name, ns, rules), &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   subjects,
	})
	if nodes {
		cr := kube.ClusterRole(name+"-nodes", kube.NodeRules())
		objs = append(objs, cr, &rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name + "-nodes-" + ns, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name},
			Subjects:   subjects,
		})
	}
	return objs
}
