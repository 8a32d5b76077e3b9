package manifest

import corev1 "k8s.io/api/core/v1"

// PrimaryContainer returns the container of containers named name or, when
// name is empty, the only container. It returns nil when there is no such
// container: none has that name, or name is empty and there is not exactly
// one container.
func PrimaryContainer(containers []corev1.Container, name string) *corev1.Container {
	if name == "" {
		if len(containers) == 1 {
			return &containers[0]
		}
		return nil
	}
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	return nil
}

// ContainerNames returns the names of containers, in order.
func ContainerNames(containers []corev1.Container) []string {
	names := make([]string, len(containers))
	for i, c := range containers {
		names[i] = c.Name
	}
	return names
}
