package kube

import (
	"encoding/json"
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/metrics/collect"
)

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
func TestCollectorInPod(t *testing.T) {
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
