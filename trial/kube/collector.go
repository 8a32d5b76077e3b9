package kube

import (
	"errors"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

// DefaultCollectorImage is the image trial pods take tune from to run its
// metrics collector ([trial.PodCollector]) when neither the spec nor
// [Options.CollectorImage] names one.
const DefaultCollectorImage = "ghcr.io/tune-hpo/tune:latest"

// The names of what a trial pod running tune's collector gets.
const (
	// CollectorInstallContainer is the init container that copies tune
	// into the pod.
	CollectorInstallContainer = "tune-collector-install"
	// CollectorVolume holds tune, for the primary container.
	CollectorVolume = "tune-collector"
	// MetricsVolumePrefix starts the names of the emptyDir volumes made
	// for the directories the trial writes its metrics to (-0, -1, ...).
	MetricsVolumePrefix = "tune-metrics-"
)

// PodCollectors implements [trial.PodCollectors]: trial pods run tune's
// collector in their primary container when the spec asks.
func (e *Executor) PodCollectors() {}

// withCollectorImage returns spec with its collector's image set to the
// executor's when it names none.
func (e *Executor) withCollectorImage(spec *trial.Spec) *trial.Spec {
	if spec.Collector == nil || spec.Collector.Image != "" {
		return spec
	}
	s, pc := *spec, *spec.Collector
	pc.Image = e.opts.CollectorImage
	s.Collector = &pc
	return &s
}

// errNoCommand is the error of a primary container without a command.
var errNoCommand = errors.New("tune's metrics collector runs in the container by starting its command (the image's entrypoint cannot be read without its registry); set command in the trial template")

// injectCollector makes pod, a pod template of a trial whose kind is
// named by where, run spec.Collector in its primary container: an init
// container installs tune into an emptyDir volume, the primary
// container's command is prefixed with the collector's and mounts that
// volume (writable: the Push collector's socket lives there), and each
// metrics directory the container's mounts do not hold gets an emptyDir
// of its own. The primary container must have a command:
// tune starts it, and the image's entrypoint cannot be known without its
// registry.
func injectCollector(spec *trial.Spec, where string, pod *corev1.PodSpec) error {
	pc := spec.Collector
	c := manifest.PrimaryContainer(pod.Containers, spec.PrimaryContainer)
	if c == nil {
		return nil // a template without the primary container (checked elsewhere)
	}
	if len(c.Command) == 0 {
		return fmt.Errorf("kube: trial %s: the primary container %q of the %s has no command: %w",
			spec.Name, c.Name, where, errNoCommand)
	}
	for _, v := range pod.Volumes {
		if v.Name == CollectorVolume || strings.HasPrefix(v.Name, MetricsVolumePrefix) {
			return fmt.Errorf("kube: trial %s: the %s's pod has a volume named %q; tune's metrics collector needs the names %s and %s*: rename it",
				spec.Name, where, v.Name, CollectorVolume, MetricsVolumePrefix)
		}
	}
	for _, ic := range pod.InitContainers {
		if ic.Name == CollectorInstallContainer {
			return fmt.Errorf("kube: trial %s: the %s's pod has an init container named %q, which tune's metrics collector needs: rename it", spec.Name, where, ic.Name)
		}
	}
	image := pc.Image
	if image == "" {
		image = DefaultCollectorImage
	}
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: CollectorVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	pod.InitContainers = append(pod.InitContainers, corev1.Container{
		Name:            CollectorInstallContainer,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         pc.Install,
		VolumeMounts:    []corev1.VolumeMount{{Name: CollectorVolume, MountPath: pc.InstallDir}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
		},
	})
	c.Command = append(append([]string(nil), pc.Command...), c.Command...)
	// Writable: the Push collector's endpoint listens on a Unix socket
	// there (a read-only mount fails its bind with EROFS).
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: CollectorVolume, MountPath: pc.InstallDir})
	n := 0
	for _, dir := range pc.Dirs {
		if mounted(c.VolumeMounts, dir) {
			continue
		}
		name := fmt.Sprintf("%s%d", MetricsVolumePrefix, n)
		n++
		pod.Volumes = append(pod.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: dir})
	}
	return nil
}

// mounted reports whether one of mounts holds dir (is mounted at it or at
// a directory above it).
func mounted(mounts []corev1.VolumeMount, dir string) bool {
	dir = path.Clean(dir)
	for _, m := range mounts {
		mp := path.Clean(m.MountPath)
		if dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/") {
			return true
		}
	}
	return false
}

// injectUnstructured applies inject ([injectCollector], [injectCheckpoint])
// to a pod template of an object of another kind, as decoded JSON.
func injectUnstructured(inject func(*trial.Spec, string, *corev1.PodSpec) error, spec *trial.Spec, where string, template map[string]any) error {
	raw, ok := template["spec"].(map[string]any)
	if !ok {
		return nil
	}
	var pod corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &pod); err != nil {
		return fmt.Errorf("kube: trial %s: a pod template of the %s is not a pod spec: %w", spec.Name, where, err)
	}
	if err := inject(spec, where, &pod); err != nil {
		return err
	}
	out, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pod)
	if err != nil {
		return fmt.Errorf("kube: trial %s: encoding a pod template of the %s: %w", spec.Name, where, err)
	}
	template["spec"] = out
	return nil
}
