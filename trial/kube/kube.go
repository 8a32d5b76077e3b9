package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	argo "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tune-hpo/tune/trial"
)

// Defaults of [Options].
const (
	// DefaultUnschedulableTimeout is how long a trial whose pod cannot be
	// scheduled waits before it fails, when Options.UnschedulableTimeout
	// is zero.
	DefaultUnschedulableTimeout = 5 * time.Minute
	// DefaultImagePullTimeout is how long a trial whose image cannot be
	// pulled waits before it fails, when Options.ImagePullTimeout is zero.
	DefaultImagePullTimeout = 5 * time.Minute
	// DefaultContainerCreateTimeout is how long a trial whose container
	// cannot be created waits before it fails, when
	// Options.ContainerCreateTimeout is zero.
	DefaultContainerCreateTimeout = 5 * time.Minute
	// DefaultCrashLoopTimeout is how long a trial whose container keeps
	// crashing may go on, when Options.CrashLoopTimeout is zero.
	DefaultCrashLoopTimeout = 5 * time.Minute
	// DefaultNodeLostTimeout is how long a trial's pod may stay on a node
	// that is not ready before its node counts as lost, when
	// Options.NodeLostTimeout is zero; Kubernetes evicts such pods after
	// 300 s by default.
	DefaultNodeLostTimeout = 5 * time.Minute
	// DefaultDeleteTimeout is how long a stopped trial waits for its object
	// to be gone, when Options.DeleteTimeout is zero.
	DefaultDeleteTimeout = 30 * time.Second
	// DefaultAPIRetryTimeout is how long failing Kubernetes API calls are
	// retried, when Options.APIRetryTimeout is zero.
	DefaultAPIRetryTimeout = 2 * time.Minute
	// logDrainTimeout bounds the wait for log streams after a trial ends.
	logDrainTimeout = 10 * time.Second
)

// Options configure an [Executor]. The zero value of each field but the
// clients has a documented default.
type Options struct {
	// Kubernetes is the core client: Jobs, pods, pod logs. Required.
	Kubernetes kubernetes.Interface
	// LogClient, when not nil, opens the pod log streams instead of
	// Kubernetes. [NewFromKubeconfig] makes it without a client-side rate
	// limit (see there).
	LogClient kubernetes.Interface
	// Parallelism is how many trials the executor is expected to follow
	// at once (the experiment's parallelTrialCount); [NewFromKubeconfig]
	// sizes the clients' rate limit by it. 0 means 20. New ignores it.
	Parallelism int
	// Argo is the Argo Workflows client, needed only for trials that are
	// Workflows; without it such trials fail Check.
	Argo argo.Interface
	// Dynamic is the dynamic client, needed only for trials of other
	// kinds (TFJob, PyTorchJob, TrainJob, PipelineRun, any custom
	// resource); without it such trials fail Check.
	Dynamic dynamic.Interface
	// RESTMapper maps the kinds of those trials to their resources. Nil
	// means one over the discovery client of Kubernetes, whose answers
	// are cached for the executor's life (a kind it does not know makes
	// it ask the cluster again, so that a CRD installed meanwhile is
	// found).
	RESTMapper meta.RESTMapper
	// Namespace is where trials are created when their spec has no
	// Namespace (the experiment's); empty means [trial.DefaultNamespace].
	Namespace string
	// Retain keeps every trial's object after the trial ends, as
	// trialTemplate.retain does; a spec's own Retain keeps it too. A
	// stopped (Killed) trial's object is deleted regardless.
	Retain bool
	// UnschedulableTimeout is how long a trial may wait while the scheduler
	// reports its pod Unschedulable before it is Failed with reason
	// Unschedulable and the scheduler's message. Zero means
	// [DefaultUnschedulableTimeout]; a negative value waits forever (the
	// condition is still reported through [trial.Spec.OnStatus]).
	UnschedulableTimeout time.Duration
	// ImagePullTimeout is how long a container of a trial's pod may wait
	// for an image the kubelet cannot pull (ErrImagePull,
	// ImagePullBackOff) before the trial is Failed with that reason and
	// the kubelet's message. Zero means [DefaultImagePullTimeout]; a
	// negative value waits forever. InvalidImageName and
	// ErrImageNeverPull fail the trial at once.
	ImagePullTimeout time.Duration
	// ContainerCreateTimeout is how long a container may wait that the
	// kubelet cannot create (CreateContainerConfigError: a missing Secret
	// or ConfigMap key; CreateContainerError; RunContainerError) before
	// the trial is Failed with that reason. Zero means
	// [DefaultContainerCreateTimeout]; negative waits forever.
	ContainerCreateTimeout time.Duration
	// CrashLoopTimeout is how long a container may crash-loop (the
	// kubelet restarting it after failures: CrashLoopBackOff) before the
	// trial is Failed with reason CrashLoopBackOff, its last exit code as
	// the result's ExitCode. The clock starts at the first back-off and
	// stops once the container has run that long without failing. Zero
	// means [DefaultCrashLoopTimeout]; negative waits forever.
	CrashLoopTimeout time.Duration
	// NodeLostTimeout is how long a trial's pod may stay on a node whose
	// Ready condition is False or Unknown before the node counts as lost
	// (as when it is deleted): the trial is then Failed with reason
	// NodeLost unless its workload can still run another pod. Zero means
	// [DefaultNodeLostTimeout]; negative never counts it lost (it is
	// still reported).
	NodeLostTimeout time.Duration
	// DeleteTimeout is how long a stopped trial waits for its object to
	// be gone. Zero means [DefaultDeleteTimeout].
	DeleteTimeout time.Duration
	// APIRetryTimeout is how long a Kubernetes API call that fails in a
	// way that may pass (timeouts, throttling, server errors, a lost
	// connection) is retried with exponential backoff before the trial is
	// Failed with reason KubernetesAPIError. Zero means
	// [DefaultAPIRetryTimeout].
	APIRetryTimeout time.Duration
	// ArtifactRepository says whether Argo has an artifact repository for
	// Workflow trials; it decides what becomes of the artifacts a
	// Kubeflow Pipelines v1 step uploads for the Pipelines UI
	// (mlpipeline-metrics, mlpipeline-ui-metadata), whose upload fails
	// the step on an install without one. Configured keeps them; none
	// drops them ([pipeline.DropKFPArtifacts]; the metrics still reach
	// tune through the output parameter tune declares) and refuses, at
	// Check, a Workflow with other artifacts to upload. Auto (the zero
	// value) resolves it once per namespace as the workflow-controller
	// does: the namespace's artifact-repositories ConfigMap (its
	// default key), else the artifactRepository of the controller's
	// workflow-controller-configmap, looked for in the trial's namespace
	// and [ControllerNamespaces]. When those cannot be read it drops the
	// two artifacts' upload (which loses only the upload) without
	// refusing anything, and logs a warning. A Workflow with its own
	// spec.artifactRepositoryRef is kept as it is.
	ArtifactRepository ArtifactRepository
	// CollectorImage is the image trial pods take tune from to run the
	// experiment's metrics collector ([trial.Spec.Collector]) when the
	// spec names none; "" is [DefaultCollectorImage].
	CollectorImage string
	// Logger receives what the executor gets over by itself and the user
	// may want to know: API calls retried, watches re-listed, log streams
	// reopened or lost (Warn for a log stream that could not be read,
	// since its metrics may be missing; Debug for the rest). Nil discards.
	Logger *slog.Logger
}

// Executor runs trials as Kubernetes Jobs, Argo Workflows or objects of
// any other kind. It implements
// [trial.Executor], [trial.Checker] and [trial.Attacher], and is safe for
// concurrent use with distinct specs.
type Executor struct {
	opts Options
	// mapper is opts.RESTMapper or the one made over discovery.
	mapper meta.RESTMapper
	// repos caches the artifact repository resolved per namespace.
	repoMu sync.Mutex
	repos  map[string]resolvedRepository
	// logs opens a following stream of a container's log, each line
	// prefixed with its RFC 3339 timestamp, from since (nil: the start);
	// tests replace it.
	logs func(ctx context.Context, namespace, pod, container string, since *metav1.Time) (io.ReadCloser, error)
	// nodesForbidden logs once that nodes cannot be read.
	nodesForbidden sync.Once
}

// Interface checks.
var (
	_ trial.Executor = (*Executor)(nil)
	_ trial.Checker  = (*Executor)(nil)
	_ trial.Attacher = (*Executor)(nil)
)

// New returns an Executor using the clients of opts.
func New(opts Options) (*Executor, error) {
	if opts.Kubernetes == nil {
		return nil, errors.New("kube: Options.Kubernetes is nil")
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&opts.UnschedulableTimeout, DefaultUnschedulableTimeout},
		{&opts.ImagePullTimeout, DefaultImagePullTimeout},
		{&opts.ContainerCreateTimeout, DefaultContainerCreateTimeout},
		{&opts.CrashLoopTimeout, DefaultCrashLoopTimeout},
		{&opts.NodeLostTimeout, DefaultNodeLostTimeout},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.CollectorImage == "" {
		opts.CollectorImage = DefaultCollectorImage
	}
	if opts.DeleteTimeout <= 0 {
		opts.DeleteTimeout = DefaultDeleteTimeout
	}
	if opts.APIRetryTimeout <= 0 {
		opts.APIRetryTimeout = DefaultAPIRetryTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ArtifactRepository == "" {
		opts.ArtifactRepository = ArtifactRepositoryAuto
	}
	if _, err := ParseArtifactRepository(string(opts.ArtifactRepository)); err != nil {
		return nil, fmt.Errorf("kube: Options.ArtifactRepository: %w", err)
	}
	e := &Executor{opts: opts, mapper: opts.RESTMapper}
	if e.mapper == nil {
		e.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(opts.Kubernetes.Discovery()))
	}
	logClient := opts.LogClient
	if logClient == nil {
		logClient = opts.Kubernetes
	}
	e.logs = func(ctx context.Context, namespace, pod, container string, since *metav1.Time) (io.ReadCloser, error) {
		return logClient.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
			Container:  container,
			Follow:     true,
			Timestamps: true,
			SinceTime:  since,
		}).Stream(ctx)
	}
	return e, nil
}

// NewFromKubeconfig returns an Executor for the cluster of a kubeconfig,
// found as kubectl finds it with client-go's clientcmd loading rules: path
// when not empty, else the files listed in $KUBECONFIG, else
// ~/.kube/config, else the in-cluster service account. kubeContext, when
// not empty, overrides the current context. The namespace is
// opts.Namespace when not empty, else the context's namespace, else
// "default" (in a pod, the service account's namespace). The Kubernetes,
// log, Argo and dynamic clients and a RESTMapper over discovery are made
// and replace those of opts, whose other fields are used as given. Nothing
// is asked of the cluster until a trial is checked or run.
//
// Unless the kubeconfig sets its own, the clients' client-side rate limit
// follows opts.Parallelism (see [rateLimit]); the log client has none: a
// trial opens one log stream per container and holds it for the trial's
// life, which is not the request rate the limit guards, and queued behind
// the other calls of a hundred trials a stream opened late finds its
// pod's log rotated or its container gone (a trial MetricsUnavailable).
func NewFromKubeconfig(path, kubeContext string, opts Options) (*Executor, error) {
	namespace := opts.Namespace
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	if namespace != "" {
		overrides.Context.Namespace = namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: loading kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kube: resolving namespace: %w", err)
	}
	cfg, logCfg := clientConfigs(cfg, opts.Parallelism)
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: making Kubernetes client: %w", err)
	}
	lc, err := kubernetes.NewForConfig(logCfg)
	if err != nil {
		return nil, fmt.Errorf("kube: making Kubernetes log client: %w", err)
	}
	opts.LogClient = lc
	ac, err := argo.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: making Argo client: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: making dynamic client: %w", err)
	}
	opts.Kubernetes, opts.Argo, opts.Dynamic, opts.Namespace = kc, ac, dc, ns
	opts.RESTMapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(kc.Discovery()))
	return New(opts)
}

// clientConfigs returns the configurations of the API clients and of the
// log client made from cfg, which it does not change: the first with the
// rate limit of [rateLimit] unless cfg has its own QPS, the second without
// a client-side rate limit.
func clientConfigs(cfg *rest.Config, parallelism int) (api, logs *rest.Config) {
	api = rest.CopyConfig(cfg)
	if api.QPS == 0 && api.RateLimiter == nil {
		api.QPS, api.Burst = rateLimit(parallelism)
	}
	logs = rest.CopyConfig(cfg)
	logs.QPS, logs.Burst, logs.RateLimiter = -1, 0, nil // negative: no limiter
	return api, logs
}

// rateLimit returns the client-side rate limit for following parallelism
// trials at once (0: 20): 2 requests a second per trial, at least 50
// (client-go's default of 5 throttles a runner following tens of trials;
// kubectl uses 50) and at most 1,000, with a burst of twice that. A trial
// costs about ten requests over its life (create, two watches, a log
// stream, the nodes of its pods, delete).
func rateLimit(parallelism int) (qps float32, burst int) {
	if parallelism <= 0 {
		parallelism = 20
	}
	qps = float32(min(max(2*parallelism, 50), 1000))
	return qps, int(2 * qps)
}

// Namespace returns the namespace trials without one of their own are
// created in.
func (e *Executor) Namespace() string {
	if e.opts.Namespace == "" {
		return trial.DefaultNamespace
	}
	return e.opts.Namespace
}

// Check implements [trial.Checker]: it compiles spec as Run would (strict
// decoding of Jobs and Workflows, names, labels, the primary container)
// and checks that the client the kind needs is there; for kinds other than
// Job and Workflow, it checks that the trial has success and failure
// conditions and that the cluster serves the kind (a discovery call, cached).
// Nothing is submitted.
func (e *Executor) Check(spec *trial.Spec) error {
	_, err := e.workload(spec)
	return err
}

// Run implements [trial.Executor]: it creates the trial's object (adopting
// one that already exists with the trial's label), follows it until it
// ends, streams or collects its metrics to stdout, and deletes it unless
// it is retained. See the package documentation.
func (e *Executor) Run(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	w, err := e.workload(spec)
	if err != nil {
		return trial.Result{}, err
	}
	f := e.newFollower(w, spec, stdout, stderr)
	if res, done := f.create(ctx); done {
		return res, nil
	}
	return f.follow(ctx), nil
}

// Attach implements [trial.Attacher]: when the trial's object exists (its
// name and trial label match), it follows it as Run does, without creating
// anything; otherwise it returns [trial.ErrNotFound] at once. Pod logs are
// streamed from the start of the pods still present.
func (e *Executor) Attach(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	w, err := e.workload(spec)
	if err != nil {
		return trial.Result{}, err
	}
	f := e.newFollower(w, spec, stdout, stderr)
	var labels map[string]string
	err = f.retry(ctx, func(ctx context.Context) error {
		m, err := w.get(ctx)
		if err == nil {
			labels = m.GetLabels()
		}
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return trial.Result{}, fmt.Errorf("kube: %s %s/%s: %w", w.kind(), w.namespace(), spec.Name, trial.ErrNotFound)
	case err != nil:
		return trial.Result{}, fmt.Errorf("kube: getting %s %s/%s: %w", w.kind(), w.namespace(), spec.Name, err)
	case labels[LabelTrial] != spec.Name:
		return trial.Result{}, fmt.Errorf("kube: %s %s/%s is not labelled %s=%s: %w", w.kind(), w.namespace(), spec.Name, LabelTrial, spec.Name, trial.ErrNotFound)
	}
	return f.follow(ctx), nil
}
