package kube

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
)

// The names of what a trial pod with a checkpoint directory gets.
const (
	// CheckpointCopyContainer is the init container that copies the
	// parent trial's checkpoint directory to the trial's.
	CheckpointCopyContainer = "tune-checkpoint-copy"
	// checkpointCopyDir is where that container mounts the volume.
	checkpointCopyDir = "/tune-checkpoints"
)

// injectCheckpoint gives pod, a pod template of a trial whose kind is
// named by where, the trial's checkpoint directory (spec.Checkpoint): the
// primary container's volume mount at the checkpoint path gets the
// subdirectory Dir of its volume (joined to the mount's own subPath), and,
// with a parent, an init container of the primary container's image copies
// the volume's subdirectory Parent there first (cp -a PARENT/. DIR, which
// also serves a retried pod). A primary container without a mount at the
// checkpoint path is an error: the checkpoints would be lost with the pod.
func injectCheckpoint(spec *trial.Spec, where string, pod *corev1.PodSpec) error {
	cp := spec.Checkpoint
	c := manifest.PrimaryContainer(pod.Containers, spec.PrimaryContainer)
	if c == nil {
		return nil // a template without the primary container (checked elsewhere)
	}
	target := path.Clean(cp.Path)
	i := -1
	for j, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == target {
			i = j
		}
	}
	if i < 0 {
		return fmt.Errorf("kube: trial %s: the primary container %q of the %s mounts no volume at %s (suggestion_trial_dir): mount a volume all trials share there (a ReadWriteMany PersistentVolumeClaim); each trial then sees its directory %s of it, as in Katib", spec.Name, c.Name, where, cp.Path, cp.Dir)
	}
	for _, ic := range pod.InitContainers {
		if ic.Name == CheckpointCopyContainer {
			return fmt.Errorf("kube: trial %s: the %s's pod has an init container named %q, which tune needs to copy the parent's checkpoint: rename it", spec.Name, where, ic.Name)
		}
	}
	m := &c.VolumeMounts[i]
	base := m.SubPath
	m.SubPath = path.Join(base, cp.Dir)
	if cp.Parent == "" {
		return nil
	}
	pod.InitContainers = append(pod.InitContainers, corev1.Container{
		Name:            CheckpointCopyContainer,
		Image:           c.Image,
		ImagePullPolicy: c.ImagePullPolicy,
		Command:         []string{"cp", "-a", path.Join(checkpointCopyDir, cp.Parent) + "/.", path.Join(checkpointCopyDir, cp.Dir)},
		VolumeMounts:    []corev1.VolumeMount{{Name: m.Name, MountPath: checkpointCopyDir, SubPath: base}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		},
	})
	return nil
}
