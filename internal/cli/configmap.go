package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tune-hpo/tune/experiment"
)

// configMapFlagUsage documents --trial-template-configmap.
const configMapFlagUsage = "YAML file holding the ConfigMap of a spec.trialTemplate.configMap (repeatable; documents and v1 Lists as kubectl apply -f takes them). " +
	"Default: with --executor kubernetes the ConfigMap is read from the cluster; locally from CONFIGMAPNAME.yaml next to the experiment file"

// kubeConfigMapTimeout bounds the request for a trial template's
// ConfigMap, so that an unreachable API server is reported, not waited on.
const kubeConfigMapTimeout = 20 * time.Second

// templateSource says where trial templates in ConfigMaps are read from.
type templateSource struct {
	files       []string // --trial-template-configmap
	executor    string
	kubeconfig  string
	kubeContext string
}

// lookup returns the ConfigMapLookup for the experiment file at file: the
// files given, else the cluster for --executor kubernetes, else the
// directory of the experiment file.
func (s templateSource) lookup(ctx context.Context, file string) experiment.ConfigMapLookup {
	if len(s.files) == 0 && s.executor == executorKubernetes {
		return func(src experiment.ConfigMapSource) (*corev1.ConfigMap, string, error) {
			c, where, err := kubeClient(s.kubeconfig, s.kubeContext)
			if err != nil {
				return nil, "", fmt.Errorf("ConfigMap %s/%s: %w: %w", src.ConfigMapNamespace, src.ConfigMapName, experiment.ErrTemplateUnavailable, err)
			}
			return kubeConfigMaps(ctx, c, where)(src)
		}
	}
	return experiment.ConfigMapFiles(filepath.Dir(file), s.files...)
}

// kubeClient returns a client for the kubeconfig's cluster, and the
// cluster's address for messages.
func kubeClient(kubeconfig, kubeContext string) (kubernetes.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.Timeout = kubeConfigMapTimeout
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("making Kubernetes client: %w", err)
	}
	return c, "cluster " + cfg.Host, nil
}

// kubeConfigMaps returns a ConfigMapLookup that gets ConfigMaps from the
// cluster c (named where in messages), as Katib's controller does. An
// answer of the API server (not found, forbidden) is the lookup's error;
// no answer wraps ErrTemplateUnavailable.
func kubeConfigMaps(ctx context.Context, c kubernetes.Interface, where string) experiment.ConfigMapLookup {
	return func(src experiment.ConfigMapSource) (*corev1.ConfigMap, string, error) {
		cm, err := c.CoreV1().ConfigMaps(src.ConfigMapNamespace).Get(ctx, src.ConfigMapName, metav1.GetOptions{})
		var status apierrors.APIStatus
		switch {
		case err == nil:
			return cm, where, nil
		case apierrors.IsNotFound(err):
			return nil, "", fmt.Errorf("ConfigMap %s/%s not found in %s", src.ConfigMapNamespace, src.ConfigMapName, where)
		case apierrors.IsForbidden(err):
			return nil, "", fmt.Errorf("ConfigMap %s/%s: reading it needs get configmaps in namespace %s: %w", src.ConfigMapNamespace, src.ConfigMapName, src.ConfigMapNamespace, err)
		case errors.As(err, &status):
			return nil, "", fmt.Errorf("ConfigMap %s/%s from %s: %w", src.ConfigMapNamespace, src.ConfigMapName, where, err)
		}
		return nil, "", fmt.Errorf("ConfigMap %s/%s from %s: %w: %w", src.ConfigMapNamespace, src.ConfigMapName, where, experiment.ErrTemplateUnavailable, err)
	}
}

// loadExperimentWith is loadExperiment with trial templates in ConfigMaps
// read through lookup.
func loadExperimentWith(file string, lookup experiment.ConfigMapLookup) (*experiment.Experiment, []byte, error) {
	exp, src, err := experiment.LoadWith(file, lookup)
	if _, ok := errors.AsType[*fs.PathError](err); ok && !errors.Is(err, experiment.ErrInvalid) && !errors.Is(err, experiment.ErrTemplateUnavailable) {
		return nil, nil, &codeError{code: exitInvalid, err: err}
	}
	return exp, src, err
}
