package kube

import (
	"context"
	"fmt"
	"slices"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial/pipeline"
)

// ArtifactRepository says whether Argo has an artifact repository for the
// trials' Workflows, which decides what becomes of the output artifacts a
// Kubeflow Pipelines v1 step writes for the Pipelines UI
// (mlpipeline-metrics, mlpipeline-ui-metadata).
type ArtifactRepository string

// The values of [ArtifactRepository].
const (
	// ArtifactRepositoryAuto (also the empty string) resolves it for each
	// namespace as the workflow-controller does, from what tune may read;
	// see [Options.ArtifactRepository].
	ArtifactRepositoryAuto ArtifactRepository = "auto"
	// ArtifactRepositoryNone drops the two artifacts' upload
	// ([pipeline.DropKFPArtifacts]); their metrics still reach tune
	// through the output parameter tune declares.
	ArtifactRepositoryNone ArtifactRepository = "none"
	// ArtifactRepositoryConfigured keeps the Workflow as compiled.
	ArtifactRepositoryConfigured ArtifactRepository = "configured"
)

// ParseArtifactRepository returns the ArtifactRepository named s: auto,
// none or configured ("" is auto).
func ParseArtifactRepository(s string) (ArtifactRepository, error) {
	switch r := ArtifactRepository(s); r {
	case "", ArtifactRepositoryAuto:
		return ArtifactRepositoryAuto, nil
	case ArtifactRepositoryNone, ArtifactRepositoryConfigured:
		return r, nil
	}
	return "", fmt.Errorf("artifact repository %q: want auto, none or configured", s)
}

// The objects the workflow-controller resolves a Workflow's artifact
// repository from (argo-workflows v3.7 workflow/artifactrepositories).
const (
	// artifactRepositoriesConfigMap is the namespace's ConfigMap of
	// repositories; its default one is the key named by
	// defaultRepositoryAnnotation.
	artifactRepositoriesConfigMap = "artifact-repositories"
	defaultRepositoryAnnotation   = "workflows.argoproj.io/default-artifact-repository"
	// controllerConfigMap is the workflow-controller's configuration, in
	// its own namespace; its artifactRepository is the default of every
	// namespace.
	controllerConfigMap = "workflow-controller-configmap"
)

// ControllerNamespaces are the namespaces searched, after the trial's
// own (a namespaced install), for the workflow-controller's ConfigMap:
// those of Argo Workflows' and Kubeflow Pipelines' install manifests.
var ControllerNamespaces = []string{"argo", "kubeflow"}

// repositoryResolution is what resolveArtifactRepository found.
type repositoryResolution struct {
	configured bool
	// certain is false when something could not be read: configured is
	// then false, since keeping the artifacts without a repository fails
	// every step that writes them, while dropping them with one loses
	// only their upload.
	certain bool
	// source names where the answer came from, or why none came.
	source string
}

// resolveArtifactRepository finds the default artifact repository of a
// Workflow in ns with no artifactRepositoryRef, as the
// workflow-controller does: the default key of ns's artifact-repositories
// ConfigMap, else the artifactRepository of the controller's ConfigMap
// (looked for in ns, then in [ControllerNamespaces]).
func (e *Executor) resolveArtifactRepository(ctx context.Context, ns string) repositoryResolution {
	cms := e.opts.Kubernetes.CoreV1()
	cm, err := cms.ConfigMaps(ns).Get(ctx, artifactRepositoriesConfigMap, metav1.GetOptions{})
	switch {
	case err == nil:
		key := cm.Annotations[defaultRepositoryAnnotation]
		if _, ok := cm.Data[key]; ok {
			return repositoryResolution{configured: true, certain: true, source: fmt.Sprintf("ConfigMap %s/%s, key %q", ns, cm.Name, key)}
		}
	case !apierrors.IsNotFound(err):
		return repositoryResolution{source: fmt.Sprintf("reading ConfigMap %s/%s: %v", ns, artifactRepositoriesConfigMap, err)}
	}
	search := []string{ns}
	for _, n := range ControllerNamespaces {
		if !slices.Contains(search, n) {
			search = append(search, n)
		}
	}
	var unreadable []string
	for _, cns := range search {
		cm, err := cms.ConfigMaps(cns).Get(ctx, controllerConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			unreadable = append(unreadable, fmt.Sprintf("%s/%s: %v", cns, controllerConfigMap, err))
			continue
		}
		repo, err := controllerRepository(cm.Data)
		src := fmt.Sprintf("ConfigMap %s/%s", cns, controllerConfigMap)
		if err != nil {
			return repositoryResolution{source: fmt.Sprintf("%s: %v", src, err)}
		}
		if repo.Get() == nil {
			return repositoryResolution{certain: true, source: src + " sets no artifactRepository"}
		}
		return repositoryResolution{configured: true, certain: true, source: src}
	}
	if len(unreadable) > 0 {
		return repositoryResolution{source: fmt.Sprintf("reading %v", unreadable)}
	}
	return repositoryResolution{source: fmt.Sprintf("no ConfigMap %s in namespaces %v", controllerConfigMap, search)}
}

// controllerRepository returns the artifactRepository of the
// workflow-controller's ConfigMap data: its own key, or inside the
// legacy config key.
func controllerRepository(data map[string]string) (*wfv1.ArtifactRepository, error) {
	repo := new(wfv1.ArtifactRepository)
	if s, ok := data["artifactRepository"]; ok {
		if err := yaml.Unmarshal([]byte(s), repo); err != nil {
			return nil, fmt.Errorf("artifactRepository: %w", err)
		}
		return repo, nil
	}
	if s, ok := data["config"]; ok {
		var c struct {
			ArtifactRepository wfv1.ArtifactRepository `json:"artifactRepository"`
		}
		if err := yaml.Unmarshal([]byte(s), &c); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return &c.ArtifactRepository, nil
	}
	return repo, nil
}

// artifactRepository returns whether trials' Workflows in ns have an
// artifact repository, and whether that is known for certain:
// Options.ArtifactRepository when not auto, else the namespace's
// resolution, made once and logged.
func (e *Executor) artifactRepository(ns string) (ArtifactRepository, bool) {
	if r := e.opts.ArtifactRepository; r == ArtifactRepositoryNone || r == ArtifactRepositoryConfigured {
		return r, true
	}
	e.repoMu.Lock()
	defer e.repoMu.Unlock()
	if r, ok := e.repos[ns]; ok {
		return r.repo, r.certain
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := e.resolveArtifactRepository(ctx, ns)
	r := ArtifactRepositoryNone
	if res.configured {
		r = ArtifactRepositoryConfigured
	}
	if res.certain {
		e.opts.Logger.Info("kube: Argo artifact repository resolved", "namespace", ns, "repository", string(r), "from", res.source)
	} else {
		e.opts.Logger.Warn("kube: cannot tell whether Argo has an artifact repository; Kubeflow Pipelines v1 steps' mlpipeline-metrics and mlpipeline-ui-metadata artifacts will not be uploaded (their metrics are still read); --artifact-repository configured keeps them",
			"namespace", ns, "reason", res.source)
	}
	if e.repos == nil {
		e.repos = map[string]resolvedRepository{}
	}
	e.repos[ns] = resolvedRepository{r, res.certain}
	return r, res.certain
}

// resolvedRepository is a namespace's resolved [ArtifactRepository].
type resolvedRepository struct {
	repo    ArtifactRepository
	certain bool
}

// applyArtifactRepository adapts wf to repo: with none, the KFP v1
// artifacts' upload is dropped (unless wf names its own repository) and,
// when that is certain, a Workflow that still uploads other artifacts is
// refused.
func applyArtifactRepository(wf *wfv1.Workflow, repo ArtifactRepository, certain bool, trialName string) error {
	if repo != ArtifactRepositoryNone || wf.Spec.ArtifactRepositoryRef != nil {
		return nil
	}
	if _, err := pipeline.DropKFPArtifacts(wf); err != nil {
		return fmt.Errorf("kube: trial %s: %w; Argo has no artifact repository here (see --artifact-repository)", trialName, err)
	}
	if arts := pipeline.RepositoryArtifacts(wf); certain && len(arts) > 0 {
		return fmt.Errorf("kube: trial %s: output artifacts %v need an artifact repository, and Argo has none here: configure one (https://argo-workflows.readthedocs.io/en/latest/configure-artifact-repository/), or pass --artifact-repository configured if it has one", trialName, arts)
	}
	return nil
}
