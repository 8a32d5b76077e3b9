package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/trial/manifest"
)

// TestInClusterExample checks examples/in-cluster without a registry (the
// test stack cannot pull images): every object of tune.yaml decodes
// strictly as the API server would, the Job runs `tune run` on the
// experiment file where its ConfigMap is mounted and keeps the store on
// the claim, as the Role's service account, and the experiment itself
// passes tune validate.
func TestInClusterExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "in-cluster")
	data, err := os.ReadFile(filepath.Join(dir, "tune.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]any{
		"ServiceAccount":        new(corev1.ServiceAccount),
		"Role":                  new(rbacv1.Role),
		"RoleBinding":           new(rbacv1.RoleBinding),
		"PersistentVolumeClaim": new(corev1.PersistentVolumeClaim),
		"Job":                   new(batchv1.Job),
	}
	seen := map[string]bool{}
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		obj, ok := objs[head.Kind]
		if !ok || seen[head.Kind] {
			t.Fatalf("unexpected or repeated object of kind %q", head.Kind)
		}
		seen[head.Kind] = true
		if err := manifest.Decode(js, obj); err != nil {
			t.Errorf("%s: %v", head.Kind, err)
		}
	}
	if len(seen) != len(objs) {
		t.Fatalf("tune.yaml has %v, want one each of %v", seen, objs)
	}
	job := objs["Job"].(*batchv1.Job)
	pod := job.Spec.Template.Spec
	sa := objs["ServiceAccount"].(*corev1.ServiceAccount)
	binding := objs["RoleBinding"].(*rbacv1.RoleBinding)
	if pod.ServiceAccountName != sa.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != sa.Name || binding.RoleRef.Name != objs["Role"].(*rbacv1.Role).Name {
		t.Errorf("the Job runs as %q; the binding binds %+v to %q: want the Role bound to the Job's service account", pod.ServiceAccountName, binding.Subjects, binding.RoleRef.Name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	vols := map[string]corev1.VolumeSource{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v.VolumeSource
	}
	argAfter := func(flag string) string {
		i := slices.Index(c.Args, flag)
		if i < 0 || i+1 >= len(c.Args) {
			return ""
		}
		return c.Args[i+1]
	}
	var storeClaim, configMap string
	for name, path := range mounts {
		switch {
		case strings.HasPrefix(argAfter("--store"), path+"/") && vols[name].PersistentVolumeClaim != nil:
			storeClaim = vols[name].PersistentVolumeClaim.ClaimName
		case len(c.Args) > 1 && strings.HasPrefix(c.Args[1], path+"/") && vols[name].ConfigMap != nil:
			configMap = vols[name].ConfigMap.Name
		}
	}
	if c.Args[0] != "run" || argAfter("--executor") != "kubernetes" || storeClaim != objs["PersistentVolumeClaim"].(*corev1.PersistentVolumeClaim).Name || configMap != "tune-experiment" {
		t.Errorf("the Job runs %q (store on claim %q, experiment from ConfigMap %q); want tune run --executor kubernetes on the ConfigMap's file with the store on the claim", c.Args, storeClaim, configMap)
	}
	if pod.RestartPolicy != corev1.RestartPolicyOnFailure || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit < 1 {
		t.Errorf("restartPolicy %q, backoffLimit %v: want a dead tune pod restarted or replaced (it resumes)", pod.RestartPolicy, job.Spec.BackoffLimit)
	}
	// The experiment the ConfigMap is made from is valid.
	abs, err := filepath.Abs(filepath.Join(dir, "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if r := tune(t, t.TempDir(), "validate", abs); r.code != 0 {
		t.Errorf("tune validate experiment.yaml: exit %d: %s", r.code, r.stderr)
	}
	// The Role is what tune rbac prints for the experiment: what tune
	// checks before the first trial.
	r := tune(t, t.TempDir(), "rbac", abs, "-n", "tune-demo", "--service-account", "tune", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tune rbac: exit %d: %s", r.code, r.stderr)
	}
	var printed struct {
		Items []struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &printed); err != nil {
		t.Fatalf("tune rbac -o json: %v\n%s", err, r.stdout)
	}
	var want []rbacv1.PolicyRule
	for _, it := range printed.Items {
		if it.Kind == "Role" {
			want = it.Rules
		}
	}
	if got := objs["Role"].(*rbacv1.Role).Rules; want == nil || !reflect.DeepEqual(got, want) {
		t.Errorf("the example's Role has rules %+v; tune rbac prints %+v", got, want)
	}
	dockerfile, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/tune ./cmd/tune") || !strings.Contains(string(dockerfile), `ENTRYPOINT ["/usr/local/bin/tune"]`) {
		t.Errorf("the Dockerfile does not build a static cmd/tune as the image's entrypoint (the Job passes only its arguments)")
	}
}
