package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/kube"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
)

// validateOptions are the inputs of tune validate.
type validateOptions struct {
	f             *factory
	file          string
	executor      string // local | kubernetes
	kubeconfig    string
	kubeContext   string
	templateFiles []string // --trial-template-configmap
}

func newValidateCommand(f *factory, runF func(context.Context, *validateOptions) error) *cobra.Command {
	o := &validateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check an experiment file and print it with Katib's defaults applied",
		Long: `Check a Katib v1beta1 Experiment file without running it. Every problem is
reported with its field path and line; the exit status is 2 when the file is
invalid or asks for what tune cannot run (an algorithm Katib knows but tune
invalid or asks for what tune cannot run. A valid file is printed back as YAML
with the defaults applied.

With --executor local (the default), an Argo Workflow trial template is also
checked against the subset of Argo that tune runs on this machine: every
template or field outside it is reported with its name (see docs/pipelines.md).

A trial template in a ConfigMap (spec.trialTemplate.configMap) is read and
checked as tune run reads it: from the files given with
--trial-template-configmap, else from the cluster with --executor kubernetes,
else from CONFIGMAPNAME.yaml next to the experiment file; the experiment is
printed with the template inline. When there is no such file or no cluster
answers, the rest of the file is checked and a warning says the template
was not.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runValidate(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.executor, "executor", executorLocal, "where the trials would run: local (Workflow trial templates are checked against the local pipeline subset) or kubernetes")
	cmd.Flags().StringArrayVar(&o.templateFiles, "trial-template-configmap", nil, configMapFlagUsage)
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file for --executor kubernetes, to read a trial template's ConfigMap (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)")
	cmd.Flags().StringVar(&o.kubeContext, "context", "", "kubeconfig context for --executor kubernetes (default: the current context)")
	return cmd
}

// loadExperiment is experiment.Load with a file that cannot be read
// (missing, a directory, not permitted) reported as invalid input: exit
// code 2, as for an invalid file.
func loadExperiment(file string) (*experiment.Experiment, []byte, error) {
	exp, src, err := experiment.Load(file)
	if _, ok := errors.AsType[*fs.PathError](err); ok && !errors.Is(err, experiment.ErrInvalid) {
		return nil, nil, &codeError{code: exitInvalid, err: err}
	}
	return exp, src, err
}

func runValidate(ctx context.Context, o *validateOptions) error {
	if o.executor != executorLocal && o.executor != executorKubernetes {
		return usageErrorf("--executor %q: want local or kubernetes", o.executor)
	}
	ts := templateSource{files: o.templateFiles, executor: o.executor, kubeconfig: o.kubeconfig, kubeContext: o.kubeContext}
	exp, _, err := loadExperimentWith(o.file, ts.lookup(ctx, o.file))
	if errors.Is(err, experiment.ErrTemplateUnavailable) {
		// The file is checked as written; what the template holds is not.
		fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("warning: the trial template was not checked: %v; name the ConfigMap's file with --trial-template-configmap", err), true))
		if exp, _, err = loadExperiment(o.file); err != nil {
			return err
		}
		if err := experiment.CheckRunnable(exp); err != nil && !errors.Is(err, experiment.ErrTemplateNotRead) {
			return err
		}
		b, err := yaml.Marshal(exp)
		if err != nil {
			return fmt.Errorf("print %s: %w", o.file, err)
		}
		_, err = o.f.io.Out.Write(b)
		return err
	}
	if err != nil {
		return err
	}
	if err := experiment.CheckRunnable(exp); err != nil {
		return err
	}
	switch o.executor {
	case executorLocal:
		if isWorkflowTemplate(exp) {
			if err := (&experiment.Runner{Executor: pipelineChecker{}}).Check(exp); err != nil {
				return err
			}
		}
	case executorKubernetes:
		if err := (&experiment.Runner{Executor: kubeChecker{}}).Check(exp); err != nil {
			return err
		}
	default:
		return usageErrorf("--executor %q: want local or kubernetes", o.executor)
	}
	b, err := yaml.Marshal(exp)
	if err != nil {
		return fmt.Errorf("print %s: %w", o.file, err)
	}
	_, err = o.f.io.Out.Write(b)
	return err
}

// isWorkflowTemplate reports whether exp's trial template is an Argo
// Workflow.
func isWorkflowTemplate(exp *experiment.Experiment) bool {
	tt := exp.Spec.TrialTemplate
	if tt == nil || tt.TrialSpec == nil {
		return false
	}
	data, err := json.Marshal(tt.TrialSpec)
	if err != nil {
		return false
	}
	var obj map[string]any
	return json.Unmarshal(data, &obj) == nil && manifest.IsKind(obj, manifest.WorkflowGVK)
}

// pipelineChecker stands in for the local executor at validate time: it
// checks a Workflow trial template against the local engine's subset
// ([pipeline.Check]) and nothing that depends on this machine (its GPUs,
// its programs). It runs nothing.
type pipelineChecker struct{}

func (pipelineChecker) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, errors.New("validate runs no trial")
}

func (pipelineChecker) OnHost() {}

// kubeChecker stands in for the Kubernetes executor at validate time: it
// compiles the trial as the executor would submit it ([kube.Compile]),
// tune's collector in the pod included, without a cluster.
type kubeChecker struct{}

func (kubeChecker) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, errors.New("validate runs no trial")
}

func (kubeChecker) PodCollectors() {}

func (kubeChecker) Check(spec *trial.Spec) error {
	_, err := kube.Compile(spec, "")
	return err
}

func (pipelineChecker) Check(spec *trial.Spec) error {
	if spec == nil || !manifest.IsKind(spec.Object, manifest.WorkflowGVK) {
		return nil
	}
	data, err := json.Marshal(spec.Object)
	if err != nil {
		return fmt.Errorf("encode trial spec: %w", err)
	}
	var wf wfv1.Workflow
	if err := manifest.Decode(data, &wf); err != nil {
		return fmt.Errorf("decode argoproj.io/v1alpha1 Workflow: %w", err)
	}
	if err := pipeline.Check(&wf); err != nil {
		return fmt.Errorf("not runnable by the local executor:\n%w", err)
	}
	return nil
}
