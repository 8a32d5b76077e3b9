package kube

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/trial"
)

// testCollector is a collector as package collect asks for it, for the
// File kind with its metrics under /var/log/katib.
func testCollector() *trial.PodCollector {
	return &trial.PodCollector{
		Install:    []string{"tune", "collector", "install", "/opt/tune-collector"},
		InstallDir: "/opt/tune-collector",
		Command:    []string{"/opt/tune-collector/tune", "collector", "run", "--config", `{"kind":"File"}`, "--"},
		Dirs:       []string{"/var/log/katib"},
		Prefix:     "tune-collector: ",
	}
}

func compileJob(t *testing.T, spec *trial.Spec) *batchv1.Job {
	t.Helper()
	objs, err := Compile(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	return objs[0].(*batchv1.Job)
}

// TestCompileJobWithCollector: the Job's pod gets the init container that
// installs tune, the primary container runs the collector before its own
// command and gets an emptyDir for the metrics directory; the rest of the
// pod is untouched.
func TestCompileJobWithCollector(t *testing.T) {
	spec := newSpec(t, jobYAML)
	spec.Collector = testCollector()
	spec.Collector.Image = "registry.example/tune:v1"
	pod := compileJob(t, spec).Spec.Template.Spec

	wantInit := corev1.Container{
		Name: CollectorInstallContainer, Image: "registry.example/tune:v1", ImagePullPolicy: corev1.PullIfNotPresent,
		Command:      []string{"tune", "collector", "install", "/opt/tune-collector"},
		VolumeMounts: []corev1.VolumeMount{{Name: CollectorVolume, MountPath: "/opt/tune-collector"}},
	}
	if len(pod.InitContainers) != 1 {
		t.Fatalf("init containers %+v, want tune's", pod.InitContainers)
	}
	got := pod.InitContainers[0]
	got.Resources = corev1.ResourceRequirements{}
	if diff := cmp.Diff(wantInit, got); diff != "" {
		t.Errorf("init container (-want +got):\n%s", diff)
	}
	c := pod.Containers[0]
	wantCmd := append(slices.Clone(spec.Collector.Command), "python", "train.py", "--lr=0.01")
	if diff := cmp.Diff(wantCmd, c.Command); diff != "" {
		t.Errorf("primary command (-want +got):\n%s", diff)
	}
	wantMounts := []corev1.VolumeMount{
		{Name: CollectorVolume, MountPath: "/opt/tune-collector"},
		{Name: MetricsVolumePrefix + "0", MountPath: "/var/log/katib"},
	}
	if diff := cmp.Diff(wantMounts, c.VolumeMounts); diff != "" {
		t.Errorf("primary mounts (-want +got):\n%s", diff)
	}
	var vols []string
	for _, v := range pod.Volumes {
		if v.EmptyDir == nil {
			t.Errorf("volume %s is not an emptyDir", v.Name)
		}
		vols = append(vols, v.Name)
	}
	if !slices.Equal(vols, []string{CollectorVolume, MetricsVolumePrefix + "0"}) {
		t.Errorf("volumes %v", vols)
	}
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.String() != "1" || pod.NodeSelector["gpu"] != "h100" {
		t.Errorf("placement changed: limits %v, nodeSelector %v", c.Resources.Limits, pod.NodeSelector)
	}
	// The spec's own object is not changed.
	cmd, _, _ := unstructured.NestedSlice(spec.Object, "spec", "template", "spec", "containers")
	if first := cmd[0].(map[string]any)["command"].([]any)[0]; first != "python" {
		t.Errorf("Compile changed the spec's object: command starts with %v", first)
	}
}

// TestCollectorImage: a spec without an image gets the executor's, or the
// default.
func TestCollectorImage(t *testing.T) {
	spec := newSpec(t, jobYAML)
	spec.Collector = testCollector()
	if img := compileJob(t, spec).Spec.Template.Spec.InitContainers[0].Image; img != DefaultCollectorImage {
		t.Errorf("image %q, want the default %q", img, DefaultCollectorImage)
	}
	e := newFakes().executor(t, Options{CollectorImage: "mirror.example/tune:v2"})
	w, err := e.workload(spec)
	if err != nil {
		t.Fatal(err)
	}
	if img := w.(*jobWorkload).obj.Spec.Template.Spec.InitContainers[0].Image; img != "mirror.example/tune:v2" {
		t.Errorf("image %q, want the executor's", img)
	}
	if spec.Collector.Image != "" {
		t.Error("the executor changed the spec's collector")
	}
}

// TestCollectorMetricsDirMounted: a metrics directory already on one of
// the container's volumes gets no emptyDir of its own.
func TestCollectorMetricsDirMounted(t *testing.T) {
	manifest := strings.Replace(jobYAML, "        command: [python, train.py, --lr=0.01]\n",
		"        command: [python, train.py, --lr=0.01]\n        volumeMounts: [{name: logs, mountPath: /var/log/}]\n", 1)
	manifest = strings.Replace(manifest, "      restartPolicy: Never\n", "      restartPolicy: Never\n      volumes: [{name: logs, persistentVolumeClaim: {claimName: logs}}]\n", 1)
	spec := newSpec(t, manifest)
	spec.Collector = testCollector()
	pod := compileJob(t, spec).Spec.Template.Spec
	for _, v := range pod.Volumes {
		if strings.HasPrefix(v.Name, MetricsVolumePrefix) {
			t.Errorf("volume %s made for /var/log/katib, which the claim mounted at /var/log holds", v.Name)
		}
	}
	if n := len(pod.Containers[0].VolumeMounts); n != 2 {
		t.Errorf("%d mounts, want the claim's and tune's", n)
	}
}

// TestCollectorRefused: what cannot carry tune's collector is an error
// naming what to change.
func TestCollectorRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		manifest string
		want     string
	}{
		"no command": {strings.Replace(jobYAML, "        command: [python, train.py, --lr=0.01]\n", "        args: [train.py]\n", 1),
			`the primary container "training-container" of the Job has no command`},
		"volume name": {strings.Replace(jobYAML, "      restartPolicy: Never\n", "      restartPolicy: Never\n      volumes: [{name: tune-collector, emptyDir: {}}]\n", 1),
			`has a volume named "tune-collector"`},
		"workflow": {workflowYAML, "does not run inside Workflow steps"},
	} {
		t.Run(name, func(t *testing.T) {
			spec := newSpec(t, tc.manifest)
			spec.Collector = testCollector()
			if _, err := Compile(spec, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestCompileTFJobWithCollector: every pod template whose primary
// container has a command gets the collector (the Master here; the
// Worker leaves its command to the image); none having one is an error.
func TestCompileTFJobWithCollector(t *testing.T) {
	spec := tfjobSpec(t)
	spec.Collector = testCollector()
	objs, err := Compile(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	u := objs[0].(*unstructured.Unstructured)
	for role, want := range map[string]int{"Master": 1, "Worker": 0} {
		raw, _, _ := unstructured.NestedMap(u.Object, "spec", "tfReplicaSpecs", role, "template", "spec")
		var pod corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &pod); err != nil {
			t.Fatal(err)
		}
		if len(pod.InitContainers) != want || want == 1 && pod.InitContainers[0].Name != CollectorInstallContainer {
			t.Errorf("%s: init containers %+v, want %d of tune's", role, pod.InitContainers, want)
		}
		if c := pod.Containers[0]; want == 1 && c.Command[0] != "/opt/tune-collector/tune" {
			t.Errorf("%s: command %q", role, c.Command)
		}
	}
	spec = tfjobSpec(t)
	spec.Collector = testCollector()
	unstructured.RemoveNestedField(spec.Object, "spec", "tfReplicaSpecs", "Master")
	if _, err := Compile(spec, ""); err == nil || !strings.Contains(err.Error(), "has no command") {
		t.Errorf("no template with a command: %v", err)
	}
}

// TestRunCollectorLines: the collector's lines in the primary container's
// log go to its Line function, the program's own lines to stdout.
func TestRunCollectorLines(t *testing.T) {
	f := newFakes(pod("mnist-0001-abcde", corev1.PodRunning))
	e := f.executor(t, Options{})
	e.logs = func(context.Context, string, string, string, *metav1.Time) (io.ReadCloser, error) {
		return readCloser("epoch 1\ntune-collector: {\"metric\":\"loss\",\"value\":0.5}\nloss=999\ntune-collector: {\"warning\":\"w\"}\n"), nil
	}
	spec := newSpec(t, jobYAML)
	spec.Collector = testCollector()
	var mu sync.Mutex
	var got []string
	spec.Collector.Line = func(b []byte) { mu.Lock(); got = append(got, string(b)); mu.Unlock() }
	r := start(t.Context(), spec, e.Run)
	f.waitWatch(t, "pods")
	setJobCondition(t, f, batchv1.JobComplete, "", "")
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	if out := r.stdout.String(); out != "epoch 1\nloss=999\n" {
		t.Errorf("stdout %q, want the program's lines only", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{`{"metric":"loss","value":0.5}`, `{"warning":"w"}`}; !slices.Equal(got, want) {
		t.Errorf("collector lines %q, want %q", got, want)
	}
}

// compileWithCollector compiles jobYAML's trial with tune's collector cfg
// in its pod and returns the Job's pod spec.
func compileWithCollector(t *testing.T, cfg collect.Config) *corev1.PodSpec {
	t.Helper()
	pc, err := collect.PodCollector(cfg)
	if err != nil || pc == nil {
		t.Fatalf("PodCollector(%+v) = %v, %v", cfg, pc, err)
	}
	pc.Image = "registry.example/tune:v1"
	spec := newSpec(t, jobYAML)
	spec.Collector = pc
	objs, err := Compile(spec, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	return &objs[0].(*batchv1.Job).Spec.Template.Spec
}

// TestCollectorInPod checks the pod of a trial whose collector runs in
// it: the init container installs tune from the image into the
// tune-collector volume, the primary container's command is wrapped, and
// the metrics directory gets a volume.
func TestCollectorFromCollectConfig(t *testing.T) {
	pod := compileWithCollector(t, collect.Config{Kind: collect.File, Path: "/katib/metrics.log", Metrics: []string{"loss"}})
	if len(pod.InitContainers) != 1 {
		t.Fatalf("init containers %+v, want tune's", pod.InitContainers)
	}
	ic := pod.InitContainers[0]
	if ic.Name != CollectorInstallContainer || ic.Image != "registry.example/tune:v1" ||
		!slices.Equal(ic.Command, []string{"tune", "collector", "install", collect.PodDir}) ||
		len(ic.VolumeMounts) != 1 || ic.VolumeMounts[0].Name != CollectorVolume || ic.VolumeMounts[0].MountPath != collect.PodDir {
		t.Errorf("init container %+v", ic)
	}
	c := pod.Containers[0]
	if len(c.Command) != 9 || !slices.Equal(c.Command[:4], []string{collect.PodDir + "/tune", "collector", "run", "--config"}) ||
		!slices.Equal(c.Command[5:], []string{"--", "python", "train.py", "--lr=0.01"}) {
		t.Fatalf("command %q", c.Command)
	}
	var cfg collect.PodConfig
	if err := json.Unmarshal([]byte(c.Command[4]), &cfg); err != nil || cfg.Kind != collect.File || cfg.Path != "/katib/metrics.log" {
		t.Errorf("--config %s: %+v, %v", c.Command[4], cfg, err)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts[collect.PodDir] != CollectorVolume || mounts["/katib"] != MetricsVolumePrefix+"0" {
		t.Errorf("mounts %+v; want %s at %s and %s0 at /katib", c.VolumeMounts, CollectorVolume, collect.PodDir, MetricsVolumePrefix)
	}
}

// TestCollectorVolumeWritable: the Push collector's endpoint listens on a
// Unix socket in the tune-collector volume, so the primary container
// mounts it writable (read-only, its bind fails with EROFS and every
// trial fails: found by the e2e test TestCollectors/push).
func TestCollectorVolumeWritable(t *testing.T) {
	pod := compileWithCollector(t, collect.Config{Kind: collect.Push, Metrics: []string{"loss"}})
	var cfg collect.PodConfig
	if err := json.Unmarshal([]byte(pod.Containers[0].Command[4]), &cfg); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pod.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == CollectorVolume })
	if i < 0 {
		t.Fatalf("no mount of %s: %+v", CollectorVolume, pod.Containers[0].VolumeMounts)
	}
	m := pod.Containers[0].VolumeMounts[i]
	if m.ReadOnly || !isUnder(cfg.PushSocket, m.MountPath) {
		t.Errorf("mount %+v, Push socket %q; want the socket in a writable mount", m, cfg.PushSocket)
	}
}

func isUnder(p, dir string) bool { return len(p) > len(dir) && p[:len(dir)+1] == dir+"/" }
