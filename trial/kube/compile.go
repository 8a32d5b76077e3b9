package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/manifest"
	"github.com/tune-hpo/tune/trial/pipeline"
	"github.com/tune-hpo/tune/trial/pipeline/kfp"
)

// The labels put on every object and pod of a trial.
const (
	// LabelExperiment holds the experiment's name (Katib's label).
	LabelExperiment = "katib.kubeflow.org/experiment"
	// LabelTrial holds the trial's name (Katib's label); Run, Attach and
	// the pod watch find a trial's object and pods by it.
	LabelTrial = "katib.kubeflow.org/trial"
	// LabelManagedBy is app.kubernetes.io/managed-by, set to [ManagedBy].
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of [LabelManagedBy].
	ManagedBy = "tune"
)

// Compile returns the objects Run would submit for spec, exactly: the
// trial's batch/v1 Job or argoproj.io/v1alpha1 Workflow, decoded strictly
// from spec.Object, the Workflow a Kubeflow Pipelines v2 PipelineJob
// ([kfp.Kind]) compiles to ([kfp.Compile]), or its object of any other
// kind as given, named
// spec.Name, in its namespace and with the trial's labels on it and on its
// pod templates (see the package documentation). The namespace is
// spec.Namespace, else namespace, else [trial.DefaultNamespace]. The returned
// slice holds one *batchv1.Job or *wfv1.Workflow with its TypeMeta set, or
// one *unstructured.Unstructured.
//
// Compile submits nothing and contacts no cluster; [Executor.Check] runs
// it, then checks that the cluster serves the kind. A Workflow is
// compiled for an Argo install with an artifact repository
// ([ArtifactRepositoryConfigured]); see [CompileFor].
func Compile(spec *trial.Spec, namespace string) ([]runtime.Object, error) {
	return CompileFor(spec, namespace, ArtifactRepositoryConfigured)
}

// CompileFor is [Compile] for an Argo install with (configured) or
// without (none) an artifact repository, as the executor compiles with
// [Options.ArtifactRepository] set to repo: without one, the Kubeflow
// Pipelines v1 artifacts' upload is dropped and a Workflow uploading
// other artifacts is an error. Auto is not resolved here: it is
// configured.
func CompileFor(spec *trial.Spec, namespace string, repo ArtifactRepository) ([]runtime.Object, error) {
	obj, err := compile(spec, namespace)
	if err != nil {
		return nil, err
	}
	if wf, ok := obj.(*wfv1.Workflow); ok {
		if err := applyArtifactRepository(wf, repo, true, spec.Name); err != nil {
			return nil, err
		}
	}
	return []runtime.Object{obj}, nil
}

// compile builds the one object of spec; see [Compile].
func compile(spec *trial.Spec, namespace string) (runtime.Object, error) {
	if spec == nil {
		return nil, errors.New("kube: nil trial spec")
	}
	if errs := validation.IsDNS1123Subdomain(spec.Name); len(errs) > 0 {
		return nil, fmt.Errorf("kube: trial name %q is not a valid object name: %s", spec.Name, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(spec.Experiment); len(errs) > 0 {
		return nil, fmt.Errorf("kube: experiment name %q is not a valid label value: %s", spec.Experiment, strings.Join(errs, "; "))
	}
	if len(spec.Object) == 0 {
		return nil, fmt.Errorf("kube: trial %s: empty trialSpec", spec.Name)
	}
	ns := resolveNamespace(spec, namespace)
	data, err := json.Marshal(spec.Object)
	if err != nil {
		return nil, fmt.Errorf("kube: trial %s: encoding trialSpec: %w", spec.Name, err)
	}
	labels := trialLabels(spec)
	switch {
	case manifest.IsKind(spec.Object, manifest.JobGVK):
		job := new(batchv1.Job)
		if err := manifest.Decode(data, job); err != nil {
			return nil, fmt.Errorf("kube: trial %s: trialSpec is not a valid %s %s: %w", spec.Name, manifest.JobGVK.GroupVersion(), manifest.JobGVK.Kind, err)
		}
		if err := setMeta(&job.ObjectMeta, spec, ns, labels); err != nil {
			return nil, err
		}
		if err := checkPrimary(spec, job.Spec.Template.Spec.Containers); err != nil {
			return nil, err
		}
		if spec.Collector != nil {
			if err := injectCollector(spec, "Job", &job.Spec.Template.Spec); err != nil {
				return nil, err
			}
		}
		if spec.Checkpoint != nil {
			if err := injectCheckpoint(spec, "Job", &job.Spec.Template.Spec); err != nil {
				return nil, err
			}
		}
		job.Spec.Template.Labels = mergeLabels(job.Spec.Template.Labels, labels)
		job.SetGroupVersionKind(manifest.JobGVK)
		return job, nil
	case manifest.IsKind(spec.Object, manifest.WorkflowGVK):
		wf := new(wfv1.Workflow)
		if err := manifest.Decode(data, wf); err != nil {
			return nil, fmt.Errorf("kube: trial %s: trialSpec is not a valid %s %s: %w", spec.Name, manifest.WorkflowGVK.GroupVersion(), manifest.WorkflowGVK.Kind, err)
		}
		return finishWorkflow(wf, spec, ns, labels)
	case kfp.IsKind(spec.Object):
		job, err := kfp.Decode(spec.Object)
		if err != nil {
			return nil, fmt.Errorf("kube: trial %s: %w", spec.Name, err)
		}
		wf, err := kfp.Compile(job, spec.Name)
		if err != nil {
			return nil, fmt.Errorf("kube: trial %s: %w", spec.Name, err)
		}
		return finishWorkflow(wf, spec, ns, labels)
	}
	return compileDynamic(spec, data, ns)
}

// finishWorkflow names wf after the trial, puts it in ns, labels it and
// its pods, and declares its KFP metrics output parameters.
func finishWorkflow(wf *wfv1.Workflow, spec *trial.Spec, ns string, labels map[string]string) (*wfv1.Workflow, error) {
	if spec.Checkpoint != nil {
		return nil, fmt.Errorf("kube: trial %s: tune gives checkpoint directories (suggestion_trial_dir) to the pods of Jobs and of kinds with pod templates, not to Workflow steps", spec.Name)
	}
	if spec.Collector != nil {
		return nil, fmt.Errorf("kube: trial %s: tune's metrics collector does not run inside Workflow steps, so only the StdOut collector works for Workflow trials on Kubernetes (with primaryPodLabels naming the step whose log has the metrics), besides the output parameters tune always reads", spec.Name)
	}
	if err := setMeta(&wf.ObjectMeta, spec, ns, labels); err != nil {
		return nil, err
	}
	if wf.Spec.PodMetadata == nil {
		wf.Spec.PodMetadata = new(wfv1.Metadata)
	}
	wf.Spec.PodMetadata.Labels = mergeLabels(wf.Spec.PodMetadata.Labels, labels)
	pipeline.DeclareMetricsParameters(wf)
	wf.SetGroupVersionKind(manifest.WorkflowGVK)
	return wf, nil
}

// resolveNamespace returns spec's namespace, else def, else trial.DefaultNamespace.
func resolveNamespace(spec *trial.Spec, def string) string {
	switch {
	case spec.Namespace != "":
		return spec.Namespace
	case def != "":
		return def
	}
	return trial.DefaultNamespace
}

// setMeta names m after the trial, puts it in ns and adds labels. A
// metadata.namespace in the template other than ns is an error.
func setMeta(m *metav1.ObjectMeta, spec *trial.Spec, ns string, labels map[string]string) error {
	if m.Namespace != "" && m.Namespace != ns {
		return fmt.Errorf("kube: trial %s: trialSpec metadata.namespace %q differs from the experiment's namespace %q: remove it from the template",
			spec.Name, m.Namespace, ns)
	}
	m.Name = spec.Name
	m.GenerateName = ""
	m.Namespace = ns
	m.Labels = mergeLabels(m.Labels, labels)
	return nil
}

// trialLabels returns the labels identifying spec's trial.
func trialLabels(spec *trial.Spec) map[string]string {
	return map[string]string{
		LabelExperiment: spec.Experiment,
		LabelTrial:      spec.Name,
		LabelManagedBy:  ManagedBy,
	}
}

// mergeLabels returns a copy of base with add set over it.
func mergeLabels(base, add map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(add))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

// checkPrimary checks that the Job's pod has the primary container whose
// log carries the metrics.
func checkPrimary(spec *trial.Spec, containers []corev1.Container) error {
	if manifest.PrimaryContainer(containers, spec.PrimaryContainer) != nil {
		return nil
	}
	names := strings.Join(manifest.ContainerNames(containers), ", ")
	if spec.PrimaryContainer == "" {
		return fmt.Errorf("kube: trial %s: the Job's pod has containers %s: primaryContainerName must name the one reporting metrics",
			spec.Name, names)
	}
	return fmt.Errorf("kube: trial %s: primaryContainerName %q is not a container of the Job's pod (it has %s)",
		spec.Name, spec.PrimaryContainer, names)
}
