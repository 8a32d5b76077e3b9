package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/output"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/kube"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// maxCompileTrial bounds --trial for trials computed rather than read from
// the store, since the suggester is asked for all of them at once.
const maxCompileTrial = 10000

// compileOptions are the inputs of tune compile.
type compileOptions struct {
	f      *factory
	file   string
	trial  int
	sets   []string
	format string

	executor, kubeconfig, kubeContext, namespace string
	artifactRepository, collectorImage           string
}

func newCompileCommand(f *factory) *cobra.Command {
	o := &compileOptions{f: f}
	cmd := &cobra.Command{
		Use:   "compile FILE",
		Short: "Print the workload a trial would run, without running it",
		Long: `Print exactly the object a trial of the experiment would run (its trial
template with the parameters substituted, named as the trial would be), the
way kubectl --dry-run=client or kfp compile do, to inspect it or apply it
yourself.

The parameters are the algorithm's suggestion for the trial: with --trial N,
trial N of the experiment as stored, when it has run, and otherwise the N-th
suggestion with the earlier ones pending (exactly what a run does for random,
sobol and grid; for adaptive algorithms past their initial design, trials
depend on results and this is only a preview). --set name=value fixes a
parameter, checked against its feasible space.

A Kubeflow Pipelines v2 PipelineJob is printed as the Argo Workflow it
compiles to, which is what both executors run.

With --executor kubernetes it prints the object exactly as tune would
submit it: named after the trial, in its namespace (the experiment's, else
-n, else the kubeconfig context's), with the trial's labels. Nothing is
sent to the cluster, so an Argo Workflow is printed for the artifact
repository --artifact-repository names: configured (as compiled) or none
(the mlpipeline-metrics and mlpipeline-ui-metadata artifacts of Kubeflow
Pipelines v1 steps dropped, as tune run does on an Argo install without
one).`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			return runCompile(cmd.Context(), o)
		},
	}
	cmd.Flags().IntVar(&o.trial, "trial", 1, "trial number (from 1)")
	cmd.Flags().StringArrayVar(&o.sets, "set", nil, "parameter value as name=value; repeat for several")
	cmd.Flags().StringVarP(&o.format, "output", "o", "yaml", "output format: yaml|json")
	cmd.Flags().StringVar(&o.executor, "executor", executorLocal, "print the workload as this executor runs it: local or kubernetes")
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file, for the namespace of --executor kubernetes")
	cmd.Flags().StringVar(&o.kubeContext, "context", "", "kubeconfig context, for the namespace of --executor kubernetes")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace when the experiment's metadata.namespace is empty")
	cmd.Flags().StringVar(&o.artifactRepository, "artifact-repository", string(kube.ArtifactRepositoryConfigured), "with --executor kubernetes, print a Workflow for an Argo install with (configured) or without (none) an artifact repository")
	cmd.Flags().StringVar(&o.collectorImage, "collector-image", defaultCollectorImage(), "with --executor kubernetes, "+collectorImageUsage)
	return cmd
}

func runCompile(ctx context.Context, o *compileOptions) error {
	format, err := output.ParseFormat(o.format)
	if err != nil || (format != output.JSON && format != output.YAML) {
		return usageErrorf("-o %q: want yaml or json", o.format)
	}
	if o.trial < 1 {
		return usageErrorf("--trial %d: trials are numbered from 1", o.trial)
	}
	exp, _, err := loadExperiment(o.file)
	if err != nil {
		return err
	}
	space := exp.Space()
	fixed, err := parseSets(o.sets, space)
	if err != nil {
		return err
	}
	a, err := compileAssignment(ctx, o, exp)
	if err != nil {
		return err
	}
	for name, v := range fixed {
		a[name] = v
	}
	if o.executor == executorKubernetes && exp.Metadata.Namespace == "" {
		// As tune run does: the experiment runs in the namespace resolved
		// for it, which the rendered template then names.
		exp.Metadata.Namespace = o.kubeNamespace()
	}
	name := experiment.TrialName(exp.Metadata.Name, o.trial)
	spec, err := exp.TrialSpec(name, a, "")
	if err != nil {
		return fmt.Errorf("render trial %s: %w", name, err)
	}
	switch o.executor {
	case executorLocal:
		if !kfp.IsKind(spec.Object) {
			return output.Data(o.f.io.Out, format, spec.Object)
		}
		// A Kubeflow Pipelines v2 PipelineJob runs as the Workflow it
		// compiles to, locally as on a cluster.
		job, err := kfp.Decode(spec.Object)
		if err != nil {
			return fmt.Errorf("trial %s: %w", name, err)
		}
		wf, err := kfp.Compile(job, name)
		if err != nil {
			return fmt.Errorf("trial %s: %w", name, err)
		}
		wf.SetGroupVersionKind(manifest.WorkflowGVK)
		return output.Data(o.f.io.Out, format, wf)
	case executorKubernetes:
		repo, err := kube.ParseArtifactRepository(o.artifactRepository)
		if err != nil || repo == kube.ArtifactRepositoryAuto {
			return usageErrorf("--artifact-repository %q: want configured or none", o.artifactRepository)
		}
		if spec.Collector, err = exp.PodCollector(); err != nil {
			return fmt.Errorf("%s: spec.metricsCollectorSpec: %w", o.file, err)
		}
		if spec.Collector != nil {
			spec.Collector.Image = o.collectorImage
		}
		objs, err := kube.CompileFor(spec, exp.Metadata.Namespace, repo)
		if err != nil {
			return fmt.Errorf("trial %s: %w", name, err)
		}
		for _, obj := range objs {
			if err := output.Data(o.f.io.Out, format, obj); err != nil {
				return err
			}
		}
		return nil
	}
	return usageErrorf("--executor %q: want local or kubernetes", o.executor)
}

// kubeNamespace returns the namespace for trials of an experiment without
// one: -n, else the kubeconfig context's when a kubeconfig can be read,
// else Kubernetes' default. Reading the kubeconfig contacts no cluster.
func (o *compileOptions) kubeNamespace() string {
	if o.namespace != "" {
		return o.namespace
	}
	if ex, err := kube.NewFromKubeconfig(o.kubeconfig, o.kubeContext, kube.Options{}); err == nil {
		return ex.Namespace()
	}
	return trial.DefaultNamespace
}

// parseSets parses --set name=value flags against space.
func parseSets(sets []string, space suggest.Space) (suggest.Assignment, error) {
	out := suggest.Assignment{}
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usageErrorf("--set %q: want name=value", s)
		}
		i := slices.IndexFunc(space, func(p suggest.Param) bool { return p.Name == name })
		if i < 0 {
			names := make([]string, len(space))
			for j, p := range space {
				names[j] = p.Name
			}
			return nil, usageErrorf("--set %q: no parameter %q (parameters: %s)", s, name, strings.Join(names, ", "))
		}
		if err := space[i].Check(value); err != nil {
			return nil, usageErrorf("--set %q: %v", s, err)
		}
		out[name] = value
	}
	return out, nil
}

// compileAssignment returns trial o.trial's assignment: the stored trial's
// when the experiment has run it, else the algorithm's suggestion.
func compileAssignment(ctx context.Context, o *compileOptions, exp *experiment.Experiment) (suggest.Assignment, error) {
	chosen := "" // what auto chose when the experiment was created
	if st, err := o.f.openStore(true); err == nil {
		trials, err := st.Trials(ctx, exp.Metadata.Name)
		if rec, err := st.Experiment(ctx, exp.Metadata.Name); err == nil {
			chosen = rec.Status.Algorithm
		}
		st.Close()
		if err == nil && o.trial <= len(trials) {
			return trials[o.trial-1].Parameters, nil
		}
	}
	if o.trial > maxCompileTrial {
		return nil, usageErrorf("--trial %d: at most %d for a trial that has not run", o.trial, maxCompileTrial)
	}
	s, _, err := newSuggester(exp, chosen)
	if err != nil {
		return nil, err
	}
	req := exp.SuggestRequest()
	req.N = o.trial
	as, err := s.Suggest(ctx, req)
	switch {
	case errors.Is(err, suggest.ErrExhausted) || (err == nil && len(as) < o.trial):
		return nil, fmt.Errorf("--trial %d: the search space has only %d points", o.trial, len(as))
	case err != nil:
		return nil, fmt.Errorf("suggest: %w", err)
	}
	return as[o.trial-1], nil
}
