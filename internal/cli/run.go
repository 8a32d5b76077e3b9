package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/kube"
	"github.com/tune-hpo/tune/trial/local"
)

// runOptions are the inputs of tune run.
type runOptions struct {
	f          *factory
	file       string
	gpus       string
	quiet      bool
	retryDelay time.Duration

	executor             string // local | kubernetes
	kubeconfig           string
	kubeContext          string
	namespace            string
	unschedulableTimeout time.Duration
	// Graces of trials whose pods do not run (0: forever).
	imagePullTimeout       time.Duration
	containerCreateTimeout time.Duration
	crashLoopTimeout       time.Duration
	nodeLostTimeout        time.Duration
	logLevel               string   // of the executor's log: debug | info | warn | error
	maxObservations        int      // per trial and metric; -1: no cap
	pushAddress            string   // of the Push collector's endpoint
	runtime                string   // of local trials: host | podman | docker
	artifactRepository     string   // of Argo, for Kubernetes trials: auto | none | configured
	collectorImage         string   // tune's image, for collectors in Kubernetes trial pods
	templateFiles          []string // --trial-template-configmap
	onTerminate            string   // what SIGTERM does to Kubernetes trials: stop | detach
}

// The executors tune run can use.
const (
	executorLocal      = "local"
	executorKubernetes = "kubernetes"

	// The values of --on-terminate.
	onTerminateStop   = "stop"
	onTerminateDetach = "detach"
)

func newRunCommand(f *factory, runF func(context.Context, *runOptions) error) *cobra.Command {
	o := &runOptions{f: f}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run an experiment file to completion",
		Long: `Run a Katib v1beta1 Experiment file: suggest trials, run up to
parallelTrialCount of them at once as local processes, collect their metrics
and stop when the goal, maxFailedTrialCount or maxTrialCount is reached (or a
grid is exhausted).

With --executor kubernetes, the permissions the trials need in their
namespace are checked first (tune rbac prints the Role that grants them).

A trial template in a ConfigMap (spec.trialTemplate.configMap) is read once,
when the run starts, from the files given with --trial-template-configmap,
else from the cluster with --executor kubernetes, else from
CONFIGMAPNAME.yaml next to the experiment file, and stored with the
experiment.

Exit status: 0 when the experiment Succeeded, 1 when it Failed or on error,
2 for an invalid experiment file or missing Kubernetes permissions, 130
when interrupted.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRun(cmd.Context(), o)
		},
	}
	addExecutorFlags(cmd, o)
	cmd.Flags().StringArrayVar(&o.templateFiles, "trial-template-configmap", nil, configMapFlagUsage)
	return cmd
}

// addExecutorFlags adds the flags tune run and tune resume share.
func addExecutorFlags(cmd *cobra.Command, o *runOptions) {
	cmd.Flags().StringVar(&o.gpus, "gpus", "auto", `GPU ids to hand out to trials through CUDA_VISIBLE_DEVICES: "auto" (ask nvidia-smi), "none", or a list like "0,1"`)
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the final summary")
	cmd.Flags().DurationVar(&o.retryDelay, "retry-delay", 10*time.Second, "delay before the first retry of a failed trial whose Job sets backoffLimit; doubles for each later retry, up to 6 minutes (Kubernetes' backoff)")
	cmd.Flags().StringVar(&o.executor, "executor", executorLocal, "where trials run: local (processes on this machine) or kubernetes (Jobs and Argo Workflows in a cluster)")
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file for --executor kubernetes (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)")
	cmd.Flags().StringVar(&o.kubeContext, "context", "", "kubeconfig context for --executor kubernetes (default: the current context)")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "", "namespace of the trials when the experiment's metadata.namespace is empty (default: the context's namespace)")
	cmd.Flags().DurationVar(&o.unschedulableTimeout, "unschedulable-timeout", 5*time.Minute, "how long a Kubernetes trial whose pod cannot be scheduled waits before it fails (0: forever)")
	cmd.Flags().DurationVar(&o.imagePullTimeout, "image-pull-timeout", kube.DefaultImagePullTimeout, "how long a Kubernetes trial whose image cannot be pulled (ErrImagePull, ImagePullBackOff) waits before it fails (0: forever)")
	cmd.Flags().DurationVar(&o.containerCreateTimeout, "container-create-timeout", kube.DefaultContainerCreateTimeout, "how long a Kubernetes trial whose container cannot be created (CreateContainerConfigError: a missing Secret or ConfigMap; CreateContainerError) waits before it fails (0: forever)")
	cmd.Flags().DurationVar(&o.crashLoopTimeout, "crash-loop-timeout", kube.DefaultCrashLoopTimeout, "how long a Kubernetes trial whose container keeps crashing and restarting (CrashLoopBackOff) goes on before it fails (0: forever)")
	cmd.Flags().DurationVar(&o.nodeLostTimeout, "node-lost-timeout", kube.DefaultNodeLostTimeout, "how long a Kubernetes trial's pod may stay on a node that is not ready before the node counts as lost: the trial then fails unless its Job or Workflow can still run another pod (0: never)")
	cmd.Flags().IntVar(&o.maxObservations, "max-observations", experiment.DefaultMaxObservations, fmt.Sprintf("values stored per trial and metric; beyond it they are thinned to evenly spaced ones plus the smallest, largest and latest (the trial's value still uses every value); at least %d, or -1 for no cap", metrics.MinMaxLogs))
	cmd.Flags().StringVar(&o.pushAddress, "push-address", "unix", `where the Push collector's endpoint listens: "unix" (a socket in a new directory only you can enter, which local trials reach), or a TCP address such as 127.0.0.1:0 for trials in containers (any process on the machine can then connect; the token still decides what is accepted)`)
	cmd.Flags().StringVar(&o.runtime, "runtime", string(local.RuntimeHost), "where local trials' processes run: host (on this machine; the image is ignored), podman or docker (each in a container of its own from the trial container's image, with the trial's directory mounted)")
	_ = cmd.RegisterFlagCompletionFunc("runtime", cobra.FixedCompletions(runtimeNames(), cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&o.artifactRepository, "artifact-repository", string(kube.ArtifactRepositoryAuto), `whether Argo has an artifact repository for Workflow trials on Kubernetes: "auto" (read it from the namespace's artifact-repositories ConfigMap or the workflow-controller-configmap, as Argo does), "none" (Kubeflow Pipelines v1 steps' mlpipeline-metrics and mlpipeline-ui-metadata artifacts are not uploaded; metrics are still read) or "configured" (Workflows are submitted as compiled)`)
	_ = cmd.RegisterFlagCompletionFunc("artifact-repository", cobra.FixedCompletions([]string{"auto", "none", "configured"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&o.collectorImage, "collector-image", defaultCollectorImage(), collectorImageUsage)
	cmd.Flags().StringVar(&o.onTerminate, "on-terminate", onTerminateStop, `what SIGTERM does to trials that can outlive tune (Kubernetes objects): "stop" deletes them, as Ctrl-C does; "detach" leaves them running and the experiment Running, for the next tune run or resume to re-attach (for tune in a pod, which Kubernetes stops with SIGTERM when it deletes or evicts it)`)
	_ = cmd.RegisterFlagCompletionFunc("on-terminate", cobra.FixedCompletions([]string{onTerminateStop, onTerminateDetach}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&o.logLevel, "log-level", "warn", "what the Kubernetes executor logs to stderr besides trial events: debug (API retries, watches re-listed), info, warn (a pod log that could not be read), error")
}

// newExecutor builds the executor chosen by --executor. For Kubernetes, an
// experiment without metadata.namespace gets the namespace the trials will
// run in, so that it is stored with the experiment.
func (o *runOptions) newExecutor(exp *experiment.Experiment, gpus []string) (trial.Executor, error) {
	if o.onTerminate != onTerminateStop && o.onTerminate != onTerminateDetach {
		return nil, usageErrorf("--on-terminate %q: want stop or detach", o.onTerminate)
	}
	rt, err := local.ParseRuntime(o.runtime)
	if err != nil {
		return nil, usageErrorf("--runtime %q: want %s", o.runtime, strings.Join(runtimeNames(), ", "))
	}
	switch o.executor {
	case executorLocal:
		// tune's own binary sets up the mounts that make a File collector's
		// original path work inside the trial.
		helper, _ := os.Executable()
		ex, err := local.New(local.Options{GPUs: gpus, RetryDelay: o.retryDelay, MountHelper: helper, Runtime: rt})
		if err != nil {
			return nil, err
		}
		if exp.CollectorKind() == collect.Push && rt != local.RuntimeHost && (o.pushAddress == "unix" || strings.HasPrefix(o.pushAddress, "unix:")) {
			fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("warning: trials in %s containers cannot reach the Push collector's Unix socket: use --push-address 127.0.0.1:0 (containers share the host's network)", rt), true))
		}
		if p := exp.CheckpointPath(); p != "" && path.IsAbs(p) {
			if ok, why := ex.MountsSupported(); !ok {
				fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("warning: the checkpoint directory %s (suggestion_trial_dir) cannot appear at that path inside the trials (%s): they must read and write their checkpoints in $(%s)", p, why, experiment.EnvCheckpointDir), true))
			}
		}
		if k := exp.CollectorKind(); k == collect.File || k == collect.TensorFlowEvent {
			if ok, why := ex.MountsSupported(); !ok {
				fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("warning: the %s collector's path cannot appear at its original place inside the trials (%s): they must write their metrics to $(%s)", exp.CollectorKind(), why, collect.EnvMetricsPath), true))
			}
		}
		return ex, nil
	case executorKubernetes:
		if rt != local.RuntimeHost {
			return nil, usageErrorf("--runtime %s is for --executor local: Kubernetes runs every trial in its image", rt)
		}
		// The flags' 0 means no limit; the options' means the default.
		forever := func(d time.Duration) time.Duration {
			if d == 0 {
				return -1
			}
			return d
		}
		for _, d := range []struct {
			name string
			v    time.Duration
		}{
			{"unschedulable-timeout", o.unschedulableTimeout}, {"image-pull-timeout", o.imagePullTimeout},
			{"container-create-timeout", o.containerCreateTimeout}, {"crash-loop-timeout", o.crashLoopTimeout},
			{"node-lost-timeout", o.nodeLostTimeout},
		} {
			if d.v < 0 {
				return nil, usageErrorf("--%s %v: want a duration of 0 (forever) or more", d.name, d.v)
			}
		}
		var level slog.Level
		if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
			return nil, usageErrorf("--log-level %q: want debug, info, warn or error", o.logLevel)
		}
		repo, err := kube.ParseArtifactRepository(o.artifactRepository)
		if err != nil {
			return nil, usageErrorf("--artifact-repository %q: want auto, none or configured", o.artifactRepository)
		}
		logger := slog.New(slog.NewTextHandler(o.f.io.ErrOut, &slog.HandlerOptions{Level: level}))
		parallelism := 0 // the default
		if p := exp.Spec.ParallelTrialCount; p != nil {
			parallelism = int(*p)
		}
		ex, err := kube.NewFromKubeconfig(o.kubeconfig, o.kubeContext, kube.Options{
			Parallelism:            parallelism,
			Namespace:              o.namespace,
			UnschedulableTimeout:   forever(o.unschedulableTimeout),
			ImagePullTimeout:       forever(o.imagePullTimeout),
			ContainerCreateTimeout: forever(o.containerCreateTimeout),
			CrashLoopTimeout:       forever(o.crashLoopTimeout),
			NodeLostTimeout:        forever(o.nodeLostTimeout),
			ArtifactRepository:     repo,
			CollectorImage:         o.collectorImage,
			Logger:                 logger,
		})
		if err != nil {
			return nil, err
		}
		if exp.Metadata.Namespace == "" {
			exp.Metadata.Namespace = ex.Namespace()
		}
		return ex, nil
	}
	return nil, usageErrorf("--executor %q: want local or kubernetes", o.executor)
}

// runtimeNames lists the values of --runtime.
func runtimeNames() []string {
	var names []string
	for _, r := range local.Runtimes() {
		names = append(names, string(r))
	}
	return names
}

func runRun(ctx context.Context, o *runOptions) error {
	gpus, err := parseGPUs(ctx, o.gpus)
	if err != nil {
		return err
	}
	ts := templateSource{files: o.templateFiles, executor: o.executor, kubeconfig: o.kubeconfig, kubeContext: o.kubeContext}
	exp, src, err := loadExperimentWith(o.file, ts.lookup(ctx, o.file))
	if errors.Is(err, experiment.ErrTemplateUnavailable) {
		return &codeError{code: exitInvalid, err: fmt.Errorf("%w; name the ConfigMap's file with --trial-template-configmap", err)}
	}
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(o.file)
	return o.execute(ctx, &experiment.Record{Name: exp.Metadata.Name, Source: src, SourcePath: abs, Spec: *exp}, true, gpus)
}

// execute runs rec's experiment to completion: it creates it, or resumes the
// stored experiment of that name. fromFile says rec comes from a file that
// must then match the stored spec but for the budget; otherwise rec is the
// stored record itself (tune resume).
func (o *runOptions) execute(ctx context.Context, rec *experiment.Record, fromFile bool, gpus []string) error {
	if o.pushAddress != "unix" && !strings.HasPrefix(o.pushAddress, "unix:/") {
		if _, _, err := net.SplitHostPort(o.pushAddress); err != nil {
			return usageErrorf("--push-address %q: want unix, a TCP address such as 127.0.0.1:0, or unix:/path", o.pushAddress)
		}
	}
	if o.maxObservations != -1 && o.maxObservations < metrics.MinMaxLogs {
		return usageErrorf("--max-observations %d: want at least %d, or -1 for no cap", o.maxObservations, metrics.MinMaxLogs)
	}
	width, size := terminalWidth(o.f.io.ErrOut, o.f.io.IsTerminal), terminalSize(o.f.io.ErrOut)
	// An output that cannot be written must not end the run: the
	// experiment goes on, and its result is in the store.
	o.f.io = guardOutput(o.f.io)
	exp := &rec.Spec
	if err := experiment.CheckRunnable(exp); err != nil {
		return err
	}
	suggester, choice, err := newSuggester(exp, "")
	if err != nil {
		return err
	}
	p := newProgress(o.f.io.ErrOut, o.quiet, width, exp)
	p.size = size
	defer p.close()
	// Whatever else goes to the error stream while the block is drawn
	// (warnings, the executor's log, the interrupt notice) goes above it.
	o.f.io.ErrOut = p
	executor, err := o.newExecutor(exp, gpus)
	if err != nil {
		return err
	}
	runner := &experiment.Runner{Suggester: suggester, Executor: executor, OnEvent: p.event, MaxObservations: o.maxObservations}
	if o.pushAddress != "unix" {
		runner.PushAddress = o.pushAddress
	}
	if err := runner.Check(exp); err != nil {
		return err
	}
	if err := o.preflight(ctx, runner, rec, fromFile); err != nil {
		return err
	}
	st, err := o.f.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	runner.Store = st
	// Each store file has its own trial directories, and its processes
	// are told apart from another store's by its real path.
	runner.Owner = st.RealPath()
	runner.TrialRoot = trialRoot(st)
	name := rec.Name
	lock, err := st.LockExperiment(name)
	if err != nil {
		return err
	}
	defer lock.Release()
	// auto keeps the algorithm it chose when the experiment was created.
	if stored, err := st.Experiment(ctx, name); err == nil && stored.Status.Algorithm != "" && stored.Status.Algorithm != choice.Algorithm && choice.Reason != "" {
		if suggester, choice, err = newSuggester(exp, stored.Status.Algorithm); err != nil {
			return err
		}
		runner.Suggester = suggester
	}
	if choice.Reason != "" {
		runner.Algorithm = choice.Algorithm
		if !o.quiet {
			fmt.Fprintln(o.f.io.ErrOut, escapeControl(fmt.Sprintf("%s chose %s: %s", exp.Spec.Algorithm.AlgorithmName, choice.Algorithm, choice.Reason), true))
		}
	}
	p.experiment, p.storePath = name, st.Path()
	// A resumed run's counter and ETA include the trials already finished.
	prior, err := st.Trials(ctx, name)
	if err != nil && !errors.Is(err, experiment.ErrNotFound) {
		return err
	}
	p.seed(prior)
	p.begin()

	// The notice is printed only for an interrupt that comes while the
	// experiment runs: stopNotice, deferred, either prevents it for good or
	// waits until it is printed, so a context cancelled after execute
	// returns (as cmd/tune does at exit) can never print it.
	if o.onTerminate == onTerminateDetach {
		var stop func()
		ctx, stop = detachOnTerminate(ctx)
		defer stop()
	}
	noticed := make(chan struct{})
	stopNotice := context.AfterFunc(ctx, func() {
		defer close(noticed)
		if errors.Is(context.Cause(ctx), trial.ErrDetached) {
			fmt.Fprintln(o.f.io.ErrOut, "terminated: leaving running trials to the cluster (--on-terminate detach)")
			return
		}
		fmt.Fprintln(o.f.io.ErrOut, "interrupted: stopping running trials (interrupt again to quit at once)")
	})
	defer func() {
		if !stopNotice() {
			<-noticed
		}
	}()
	origin := experiment.FromStore
	if fromFile {
		origin = experiment.FromFile
	}
	status, runErr := runner.Start(ctx, rec, origin)
	p.close()
	if errors.Is(runErr, experiment.ErrFinished) {
		// Nothing left to do: tune run is idempotent for a finished
		// experiment, and says why it did nothing.
		fmt.Fprintln(o.f.io.ErrOut, escapeControl("nothing to do: "+runErr.Error(), true))
		runErr = nil
	}
	if errors.Is(runErr, experiment.ErrNotFound) {
		return notFoundHint(runErr, name)
	}
	if status == nil {
		return runErr
	}
	fmt.Fprintln(o.f.io.Out, escapeControl(summary(name, status, exp.Spec.Objective.ObjectiveMetricName), false))
	if runErr != nil {
		return runErr
	}
	switch status.Phase {
	case experiment.Succeeded:
		return nil
	case experiment.Stopped, experiment.Running: // Running: detached
		return &codeError{code: exitInterrupted}
	default:
		return &codeError{code: exitError}
	}
}

// resumeOptions are the inputs of tune resume.
type resumeOptions struct {
	runOptions
	name                                         string
	maxTrialCount, parallelCount, maxFailedCount int32
}

func newResumeCommand(f *factory) *cobra.Command {
	o := &resumeOptions{runOptions: runOptions{f: f}}
	cmd := &cobra.Command{
		Use:   "resume EXPERIMENT",
		Short: "Resume a stopped, crashed or finished experiment from the store",
		Long: `Resume an experiment from the spec kept in the store, without its file:
trials the previous run left running are stopped and replaced, finished
trials are kept, and the experiment goes on until its completion rules end it.
A new budget is checked as Katib's webhook checks an edited Experiment: a
finished experiment restarts only when it reached maxTrialCount with
spec.resumePolicy LongRunning or FromVolume and --max-trial-count raises
it; the new maxTrialCount must exceed the trials that finished, and
parallelTrialCount and maxFailedTrialCount must not exceed it (see
docs/katib.md).

tune run FILE does the same when FILE names an experiment already in the
store and differs from it only in maxTrialCount, parallelTrialCount and
maxFailedTrialCount.`,
		Args:              exactArgs(1, "EXPERIMENT"),
		ValidArgsFunction: completeExperiments(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runResume(cmd.Context(), cmd, o)
		},
	}
	addExecutorFlags(cmd, &o.runOptions)
	cmd.Flags().Int32Var(&o.maxTrialCount, "max-trial-count", 0, "new spec.maxTrialCount")
	cmd.Flags().Int32Var(&o.parallelCount, "parallel-trial-count", 0, "new spec.parallelTrialCount")
	cmd.Flags().Int32Var(&o.maxFailedCount, "max-failed-trial-count", 0, "new spec.maxFailedTrialCount")
	return cmd
}

func runResume(ctx context.Context, cmd *cobra.Command, o *resumeOptions) error {
	gpus, err := parseGPUs(ctx, o.gpus)
	if err != nil {
		return err
	}
	st, err := o.f.openStore(true)
	if err != nil {
		return err
	}
	rec, err := st.Experiment(ctx, o.name)
	st.Close()
	if err != nil {
		return notFoundHint(err, o.name)
	}
	budget := []struct {
		flag  string
		value int32
		field **int32
	}{
		{"max-trial-count", o.maxTrialCount, &rec.Spec.Spec.MaxTrialCount},
		{"parallel-trial-count", o.parallelCount, &rec.Spec.Spec.ParallelTrialCount},
		{"max-failed-trial-count", o.maxFailedCount, &rec.Spec.Spec.MaxFailedTrialCount},
	}
	for _, b := range budget {
		if !cmd.Flags().Changed(b.flag) {
			continue
		}
		if b.value < 1 {
			return usageErrorf("--%s %d: must be at least 1", b.flag, b.value)
		}
		v := b.value
		*b.field = &v
	}
	if cmd.Flags().Changed("max-trial-count") || cmd.Flags().Changed("parallel-trial-count") || cmd.Flags().Changed("max-failed-trial-count") {
		// The edited spec is checked whole, as Katib's webhook checks an
		// edited Experiment.
		if err := rec.Spec.Validate(); err != nil {
			return fmt.Errorf("experiment %s with the new budget: %w", o.name, err)
		}
	}
	return o.execute(ctx, rec, false, gpus)
}

// newSuggester builds the experiment's search algorithm, and says which
// one runs: for algorithmName auto, the one auto chose and why; chosen is
// the one it chose when the experiment was created, "" for a new one.
func newSuggester(exp *experiment.Experiment, chosen string) (suggest.Suggester, algorithms.Choice, error) {
	in := exp.AlgorithmInput()
	in.Chosen = chosen
	s, choice, err := algorithms.NewFor(exp.Spec.Algorithm.AlgorithmName, in)
	switch {
	case errors.Is(err, algorithms.ErrNotImplemented):
		return nil, choice, fmt.Errorf("spec.algorithm.algorithmName: %w: %w", experiment.ErrUnsupported, err)
	case err != nil:
		return nil, choice, fmt.Errorf("spec.algorithm.algorithmSettings: %w: %w", experiment.ErrInvalid, err)
	}
	return s, choice, nil
}

// parseGPUs resolves the --gpus flag.
func parseGPUs(ctx context.Context, flag string) ([]string, error) {
	switch flag {
	case "auto":
		return local.DetectGPUs(ctx), nil
	case "none", "":
		return nil, nil
	}
	var ids []string
	for _, id := range strings.Split(flag, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, usageErrorf("--gpus %q: empty GPU id (want auto, none or a list like 0,1)", flag)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// summary is the one line tune run ends with.
func summary(name string, st *experiment.Status, objective string) string {
	failed := st.TrialsFailed + st.TrialsMetricsUnav
	s := fmt.Sprintf("experiment %s %s (%s): %d trials, %d succeeded, %d early-stopped, %d failed, %d killed", name, st.Phase, st.Reason, st.Trials, st.TrialsSucceeded, st.TrialsEarlyStopped, failed, st.TrialsKilled)
	if b := st.CurrentOptimalTrial; b != nil {
		s += fmt.Sprintf("; best %s %s=%s (%s)", b.BestTrialName, objective, formatBest(b, objective), formatParams(b.ParameterAssignments))
	} else {
		s += "; no trial reported " + objective
	}
	return s
}

func formatParams(a map[string]string) string {
	parts := make([]string, 0, len(a))
	for _, k := range slices.Sorted(maps.Keys(a)) {
		parts = append(parts, k+"="+shorten(a[k]))
	}
	return strings.Join(parts, " ")
}

// formatMetrics prints the metrics in names order, then any others sorted.
func formatMetrics(m map[string]float64, names []string) string {
	var parts []string
	for _, n := range names {
		if v, ok := m[n]; ok {
			parts = append(parts, n+"="+formatValue(v))
		}
	}
	return strings.Join(parts, " ")
}

func formatValue(v float64) string {
	return fmt.Sprintf("%.6g", v)
}

// formatBest returns the best trial's value of metric m for reading: its
// number, or its text (shortened) when it reported m only as text.
func formatBest(b *experiment.OptimalTrial, m string) string {
	if s, ok := b.Texts[m]; ok {
		return shorten(s)
	}
	return formatValue(b.Metrics[m])
}

// shortLen is how many characters of a long value [shorten] keeps.
const shortLen = 48

// shorten returns s cut to shortLen characters and an ellipsis when it is
// longer: values such as DARTS's search space or a genotype, in lines and
// tables meant for reading (-o json has them whole).
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= shortLen {
		return s
	}
	i := 0
	for n := 0; n < shortLen-1; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// subcommandArgs rejects the arguments of a command that only groups
// subcommands (an unknown or misspelt subcommand) with a usage error that
// lists the subcommands and suggests the nearest.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names, candidates []string
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		names = append(names, c.Name())
		candidates = append(candidates, c.Name())
		candidates = append(candidates, c.Aliases...)
	}
	hint := ""
	if c, ok := didyoumean.Closest(args[0], candidates); ok {
		if sub, _, err := cmd.Find([]string{c}); err == nil && sub != cmd {
			c = sub.Name()
		}
		hint = fmt.Sprintf("; did you mean %q?", c)
	}
	return usageErrorf("%s: unknown command %q (commands: %s)%s", cmd.CommandPath(), args[0], strings.Join(names, ", "), hint)
}

// exactArgs is cobra.ExactArgs with a usage error naming the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s: expected %s, got %d argument(s); see %s --help", cmd.CommandPath(), names, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// preflightTimeout bounds the permission check before the first trial.
const preflightTimeout = 30 * time.Second

// preflight asks the executor whether it will be allowed to run rec's
// trials (Kubernetes permissions), printing its warnings. A refusal is
// invalid input (exit 2) and says how to get the Role that would grant
// what is missing.
func (o *runOptions) preflight(ctx context.Context, runner *experiment.Runner, rec *experiment.Record, fromFile bool) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	warnings, err := runner.Preflight(ctx, &rec.Spec)
	for _, w := range warnings {
		fmt.Fprintln(o.f.io.ErrOut, escapeControl("warning: "+w, true))
	}
	if !errors.Is(err, trial.ErrNotPermitted) {
		return err
	}
	argv := []string{"tune", "rbac"}
	switch {
	case fromFile:
		argv = append(argv, o.file)
	case rec.SourcePath != "":
		argv = append(argv, rec.SourcePath)
	}
	if ae, ok := errors.AsType[*kube.AccessError](err); ok {
		argv = append(argv, "-n", ae.Namespace)
	}
	return &codeError{code: exitInvalid, err: fmt.Errorf("%w; `%s` prints a Role that grants them", err, shellQuote(argv))}
}
