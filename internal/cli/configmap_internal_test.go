package cli

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tune-hpo/tune/experiment"
)

// TestKubeConfigMaps gets a trial template's ConfigMap from a cluster, as
// Katib's controller does, and tells an answer (not found, forbidden) from
// no answer.
func TestKubeConfigMaps(t *testing.T) {
	src := experiment.ConfigMapSource{ConfigMapName: "trial-templates", ConfigMapNamespace: "kubeflow", TemplatePath: "t.yaml"}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trial-templates", Namespace: "kubeflow"}, Data: map[string]string{"t.yaml": "kind: Job"}}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trial-templates", Namespace: "team-a"}}

	got, where, err := kubeConfigMaps(t.Context(), fake.NewClientset(other, cm), "cluster c")(src)
	if err != nil || got.Data["t.yaml"] != "kind: Job" || where != "cluster c" {
		t.Errorf("lookup = %v from %q, %v; want kubeflow's ConfigMap", got, where, err)
	}
	if _, _, err := kubeConfigMaps(t.Context(), fake.NewClientset(other), "cluster c")(src); err == nil || errors.Is(err, experiment.ErrTemplateUnavailable) || !strings.Contains(err.Error(), "kubeflow/trial-templates not found in cluster c") {
		t.Errorf("missing ConfigMap: %v", err)
	}
	for name, tc := range map[string]struct {
		err         error
		want        string
		unavailable bool
	}{
		"forbidden": {apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "trial-templates", errors.New("no")), "needs get configmaps in namespace kubeflow", false},
		"no answer": {errors.New("dial tcp 10.0.0.1:443: connect: connection refused"), "connection refused", true},
	} {
		t.Run(name, func(t *testing.T) {
			c := fake.NewClientset(cm)
			c.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			_, _, err := kubeConfigMaps(t.Context(), c, "cluster c")(src)
			if err == nil || errors.Is(err, experiment.ErrTemplateUnavailable) != tc.unavailable || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("lookup = %v; want %q, unavailable %v", err, tc.want, tc.unavailable)
			}
		})
	}
}
