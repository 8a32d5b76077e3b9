//go:build k8se2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/internal/testutil"
)

// stepRunner stands in for the kubelet and Argo's executor (the init and
// wait containers) for the Workflow step pods of one namespace: it runs
// each held step pod's main container as a host process and reports what
// Argo would. It is an oracle independent of tune's own pipeline code: it
// reads only the pod and the template the workflow-controller resolved.
//
// runSteps makes the apiserver hold every Workflow step pod of the
// namespace (holdWorkflowPods). For each step pod, once Running, it
//
//   - reads the resolved template from the init container's ARGO_TEMPLATE
//     variable (or the ConfigMap the controller offloads a large one to);
//   - maps each container path to a host path: the main container's
//     mounts (emptyDir volumes, Argo's input-artifacts volume among them,
//     under the pod's own root, root/pods/<pod>/fs, at their mountPath;
//     a persistent volume claim at the hostPath of the volume bound to
//     it, as the kubelet mounts it; a hostPath volume at its path), then
//     every path the template declares (outputs.parameters[].valueFrom.path,
//     outputs.artifacts[].path, inputs.artifacts[].path) that is under no
//     mount, under the pod's root; parent directories are created;
//   - writes the input artifacts the controller resolved (raw artifacts;
//     any other kind, unless optional, is an error of the runner) and a
//     script template's source, at /argo/staging/script as Argo's init
//     container does;
//   - runs argv = the main container's command after the emissary's "--"
//     (or the whole command) followed by its args, with $(VAR) expanded
//     from the container's env as the kubelet does, never through a shell;
//     the environment is the container's env (plain values and fieldRefs)
//     over PATH, HOME, TMPDIR and GO* of this process, standing in for the
//     image's; the working directory is the container's workingDir or the
//     repository root. Since a host process cannot have its own mounts
//     here, every container path above that appears in argv, in an env
//     value, in workingDir or in a script's source at a path boundary is
//     rewritten to its host path (longest first). A path the program
//     builds itself is not rewritten: step programs take their paths from
//     their command line or environment;
//   - serves the process's stdout and stderr, interleaved as produced and
//     tagged with their stream, as the pod's log through kwok;
//   - writes the WorkflowTaskResult Argo's wait container writes: the
//     template's declared output parameters only, each read from its file
//     with one trailing newline trimmed (a missing file gives the declared
//     default, else the step fails as the executor does, at the first
//     such parameter), the declared output artifacts as raw artifacts
//     holding the file's content (standing in for an artifact repository;
//     a directory is held as rawTarPrefix and its base64 gzipped tar,
//     which the runner unpacks into a later step's input path, as Argo
//     unpacks the tarball it uploads for a directory; a missing optional
//     one is skipped, a missing required one fails the step) and, when
//     the controller asks for it (ARGO_INCLUDE_SCRIPT_OUTPUT), the stdout
//     as outputs.result;
//   - when the process exits non-zero or an output is missing, fails the
//     pod as the kubelet would (phase Failed, main terminated with the
//     process's exit code, 128+signal for a signal, 128 with reason
//     StartError when it cannot start; wait terminated with exit code 1
//     and the executor's message when an output is missing), then
//     releases it; kwok completes a successful one (exit code 0);
//   - when the pod is deleted while its process runs, sends the process
//     SIGTERM, then SIGKILL after 5 s, and reports nothing to Argo (the
//     step is listed by ran with Deleted set).
//
// It also provisions a hostPath persistent volume, under root/volumes, for
// each claim of the namespace (a workflow's volumeClaimTemplates), bound
// to that claim by the real PV controller.
type stepRunner struct {
	c    *cluster
	root string
	repo string

	active atomic.Int32 // processes running
	mu     sync.Mutex
	runs   []stepRun
	live   map[*processLog]bool // the output of the processes running
}

// stepRun is one step the runner ran.
type stepRun struct {
	Workflow, Pod, Template string
	Argv                    []string
	ExitCode                int
	Stdout                  string
	Deleted                 bool // the pod was deleted while the process ran
}

// runSteps starts a stepRunner for the Workflow step pods of ns (holding
// them first), with an artifact repository configured for ns
// (configureArtifactRepository) as a Kubeflow Pipelines install has one;
// it runs until the test ends.
func (c *cluster) runSteps(t *testing.T, ns string) *stepRunner {
	t.Helper()
	c.configureArtifactRepository(t, ns)
	return c.runStepsPlainArgo(t, ns)
}

// runStepsPlainArgo is runSteps on Argo as installed, without an artifact
// repository: a step with an output artifact to upload fails as Argo's
// executor fails it.
func (c *cluster) runStepsPlainArgo(t *testing.T, ns string) *stepRunner {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	r := &stepRunner{c: c, root: t.TempDir(), repo: repo}
	c.holdWorkflowPods(t, ns)
	c.provisionVolumes(t, ns, r.root)
	c.onHeldPods(t, ns, "workflows.argoproj.io/workflow", true, "step runner", r.run)
	return r
}

// holdWorkflowPods makes the apiserver annotate every Workflow step pod
// created in ns with tune.test/hold (holdPods), so that kwok leaves the
// pods to the step runner and experiment files need no annotation of the
// test's.
func (c *cluster) holdWorkflowPods(t *testing.T, ns string) {
	t.Helper()
	c.holdPods(t, ns, "workflow", "workflows.argoproj.io/workflow", "")
}

// holdPods makes the apiserver annotate every pod created in ns that
// carries label key (with value, unless value is "") with tune.test/hold,
// through a MutatingAdmissionPolicy (GA since Kubernetes 1.36) named after
// what and ns, bound to ns, so that kwok leaves the pods Running for a
// runner of the test's. It returns once the policy is in force and
// removes it when the test ends.
func (c *cluster) holdPods(t *testing.T, ns, what, key, value string) {
	t.Helper()
	name := "e2e-hold-" + what + "-pods-" + ns
	match := fmt.Sprintf("has(object.metadata.labels) && %q in object.metadata.labels", key)
	if value != "" {
		match += fmt.Sprintf(" && object.metadata.labels[%q] == %q", key, value)
	}
	policy := &admissionv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				},
			}}},
			MatchConditions: []admissionv1.MatchCondition{{Name: "labelled", Expression: match}},
			Mutations: []admissionv1.Mutation{{
				PatchType:          admissionv1.PatchTypeApplyConfiguration,
				ApplyConfiguration: &admissionv1.ApplyConfiguration{Expression: `Object{metadata: Object.metadata{annotations: {"tune.test/hold": "true"}}}`},
			}},
			ReinvocationPolicy: admissionv1.NeverReinvocationPolicy,
			FailurePolicy:      ptr(admissionv1.Fail),
		},
	}
	binding := &admissionv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.MutatingAdmissionPolicyBindingSpec{
			PolicyName: name,
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	api := c.kube.AdmissionregistrationV1()
	t.Cleanup(func() {
		_ = api.MutatingAdmissionPolicyBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = api.MutatingAdmissionPolicies().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	if _, err := api.MutatingAdmissionPolicies().Create(t.Context(), policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("hold %s pods: %v", what, err)
	}
	if _, err := api.MutatingAdmissionPolicyBindings().Create(t.Context(), binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("hold %s pods: %v", what, err)
	}
	// The apiserver loads policies asynchronously: wait until a dry-run
	// pod comes back annotated.
	probeValue := value
	if probeValue == "" {
		probeValue = "probe"
	}
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-hold-probe-", Labels: map[string]string{key: probeValue}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.invalid/probe:1"}}},
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		p, err := c.kube.CoreV1().Pods(ns).Create(t.Context(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil && p.Annotations["tune.test/hold"] == "true" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MutatingAdmissionPolicy holding %s pods is not in force after 30 s (last: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stepRunnerRepository is the key of the artifact repository
// configureArtifactRepository creates.
const stepRunnerRepository = "e2e-step-runner"

// configureArtifactRepository makes the step runner stand in for an
// artifact repository in ns until the test ends: it creates ns's
// artifact-repositories ConfigMap with an S3 repository (at an endpoint
// nothing dials) as its default, which the workflow-controller then puts
// in each step's archiveLocation; the step runner, seeing one, reports
// output artifacts as raw artifacts in place of uploading them. The
// stack's own configuration has no repository, as Argo's install
// manifests have none.
func (c *cluster) configureArtifactRepository(t *testing.T, ns string) {
	t.Helper()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "artifact-repositories",
			Annotations: map[string]string{"workflows.argoproj.io/default-artifact-repository": stepRunnerRepository},
		},
		Data: map[string]string{stepRunnerRepository: "s3: {bucket: e2e, endpoint: e2e-step-runner.invalid, insecure: true}\n"},
	}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("artifact repository: %v", err)
	}
	t.Cleanup(func() {
		_ = c.kube.CoreV1().ConfigMaps(ns).Delete(context.Background(), cm.Name, metav1.DeleteOptions{})
	})
}

func ptr[T any](v T) *T { return &v }

// running returns how many step processes run now.
func (r *stepRunner) running() int { return int(r.active.Load()) }

// printed returns how many step processes running now have printed text
// to their stdout.
func (r *stepRunner) printed(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for l := range r.live {
		if strings.Contains(l.stdout(), text) {
			n++
		}
	}
	return n
}

// ran returns the steps run so far, in the order they ended.
func (r *stepRunner) ran() []stepRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.runs)
}

// stepProgram builds testdata/pipestep once per test binary.
var stepProgram = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tune-k8s-e2e-pipestep-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pipestep")
	return bin, testutil.Build(map[string]string{bin: "./testdata/pipestep"}, false)
})

func pipestep(t *testing.T) string {
	t.Helper()
	bin, err := stepProgram()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// run runs pod's step. When the runner itself fails, it fails the pod
// (main terminated with exit code 128, reason StartError, the runner's
// error as the message), so that the Workflow and the test end.
func (r *stepRunner) run(ctx context.Context, pod *corev1.Pod) error {
	err := r.runStep(ctx, pod)
	if err != nil && ctx.Err() == nil {
		if ferr := r.c.failPod(ctx, pod, 128, "StartError", "step runner: "+err.Error(), nil); ferr == nil {
			_ = r.c.release(ctx, pod)
		}
	}
	return err
}

func (r *stepRunner) runStep(ctx context.Context, pod *corev1.Pod) error {
	tmpl, err := r.template(ctx, pod)
	if err != nil {
		return err
	}
	var main *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "main" {
			main = &pod.Spec.Containers[i]
		}
	}
	if main == nil {
		return errors.New("the pod has no main container")
	}
	fsRoot := filepath.Join(r.root, "pods", pod.Name, "fs")
	var declared []string
	for _, p := range tmpl.Outputs.Parameters {
		if p.ValueFrom != nil && p.ValueFrom.Path != "" {
			declared = append(declared, p.ValueFrom.Path)
		}
	}
	for _, a := range tmpl.Outputs.Artifacts {
		declared = append(declared, a.Path)
	}
	for _, a := range tmpl.Inputs.Artifacts {
		declared = append(declared, a.Path)
	}
	// Mounts first: a declared path under one lives in its volume. A mount
	// at a declared path (Argo's input-artifacts volume mounts each input
	// artifact's file with a subPath) is that file, not a directory.
	var m pathMap
	for _, vm := range main.VolumeMounts {
		host, err := r.mountSource(ctx, pod, vm, fsRoot)
		if err != nil {
			return err
		}
		if host == "" {
			continue
		}
		m.add(vm.MountPath, host)
		dir := host
		if slices.Contains(declared, vm.MountPath) {
			dir = filepath.Dir(host)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	for _, p := range declared {
		if p == "" || !filepath.IsAbs(p) {
			return fmt.Errorf("template %s declares the path %q, not absolute", tmpl.Name, p)
		}
		if _, ok := m.resolve(p); !ok {
			m.add(p, filepath.Join(fsRoot, p))
		}
		host, _ := m.resolve(p)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return err
		}
	}
	for _, a := range tmpl.Inputs.Artifacts {
		host, _ := m.resolve(a.Path)
		switch {
		case a.Raw != nil && strings.HasPrefix(a.Raw.Data, rawTarPrefix):
			if err := untarDir(strings.TrimPrefix(a.Raw.Data, rawTarPrefix), host); err != nil {
				return fmt.Errorf("input artifact %s: %w", a.Name, err)
			}
		case a.Raw != nil:
			mode := os.FileMode(0o644)
			if a.Mode != nil {
				mode = os.FileMode(*a.Mode)
			}
			if err := os.WriteFile(host, []byte(a.Raw.Data), mode); err != nil {
				return err
			}
		case a.Optional:
		default:
			return fmt.Errorf("input artifact %s of template %s is not a raw artifact: the step runner has no artifact repository", a.Name, tmpl.Name)
		}
	}
	if tmpl.Script != nil {
		host, ok := m.resolve("/argo/staging/script")
		if !ok {
			return fmt.Errorf("script template %s: no /argo/staging mount", tmpl.Name)
		}
		if err := os.WriteFile(host, []byte(m.rewrite(tmpl.Script.Source)), 0o755); err != nil {
			return err
		}
	}

	env, vars, err := containerEnvironment(pod, main, &m)
	if err != nil {
		return err
	}
	argv := main.Command
	if len(argv) > 1 && filepath.Base(argv[0]) == "argoexec" && argv[1] == "emissary" {
		i := slices.Index(argv, "--")
		if i < 0 {
			return fmt.Errorf("emissary command without --: %q", argv)
		}
		argv = argv[i+1:]
	}
	argv = append(slices.Clone(argv), main.Args...)
	for i, a := range argv {
		argv[i] = m.rewrite(expandVars(a, vars))
	}
	if len(argv) == 0 {
		return errors.New("the main container has no command")
	}
	dir := r.repo
	if main.WorkingDir != "" {
		dir = m.rewrite(main.WorkingDir)
	}

	// Run it, as the container runtime would; a deleted pod's process gets
	// SIGTERM, then SIGKILL after a grace period, and nothing is reported.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	deleted := make(chan struct{})
	go func() {
		if r.c.waitDeleted(runCtx, pod) {
			close(deleted)
			stop()
		}
	}()
	var log processLog
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = log.stream("stdout"), log.stream("stderr")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	exit, reason, startMsg := 0, "Completed", ""
	err = cmd.Start()
	if err == nil {
		r.mu.Lock()
		if r.live == nil {
			r.live = map[*processLog]bool{}
		}
		r.live[&log] = true
		r.mu.Unlock()
		r.active.Add(1)
		err = cmd.Wait()
		r.active.Add(-1)
		r.mu.Lock()
		delete(r.live, &log)
		r.mu.Unlock()
	}
	switch {
	case err == nil:
	case errors.As(err, new(*exec.ExitError)):
		exit, reason = exitCode(cmd), "Error"
	default:
		exit, reason, startMsg = 128, "StartError", err.Error()
	}
	select {
	case <-deleted:
		r.mu.Lock()
		r.runs = append(r.runs, stepRun{Workflow: pod.Labels["workflows.argoproj.io/workflow"], Pod: pod.Name, Template: tmpl.Name, Argv: argv, ExitCode: exitCode(cmd), Stdout: log.stdout(), Deleted: true})
		r.mu.Unlock()
		return nil
	default:
	}
	if ctx.Err() != nil {
		return nil // the test ended
	}
	stop()
	if lines := log.lines(); len(lines) > 0 {
		if err := r.c.serveCRILog(ctx, pod, "main", lines, lines[0].text); err != nil {
			return err
		}
	}

	// Argo's wait container: the declared outputs, read from the files.
	outputs := tmpl.Outputs.DeepCopy()
	var waitErr error
	if slices.ContainsFunc(main.Env, func(e corev1.EnvVar) bool { return e.Name == "ARGO_INCLUDE_SCRIPT_OUTPUT" && e.Value == "true" }) {
		result := strings.TrimSuffix(log.stdout(), "\n")
		outputs.Result = &result
	}
	for i, p := range outputs.Parameters {
		if p.ValueFrom == nil || p.ValueFrom.Path == "" {
			continue
		}
		host, _ := m.resolve(p.ValueFrom.Path)
		var value string
		switch b, err := os.ReadFile(host); {
		case err == nil:
			value = string(b)
		case p.ValueFrom.Default != nil:
			value = p.ValueFrom.Default.String()
		default:
			waitErr = fmt.Errorf("open %s: %w", filepath.Join("/mainctrfs", p.ValueFrom.Path), errors.Unwrap(err))
		}
		if waitErr != nil {
			break
		}
		outputs.Parameters[i].Value = wfv1.AnyStringPtr(strings.TrimSuffix(value, "\n"))
	}
	var arts wfv1.Artifacts
	var artErrs []string
	for _, a := range outputs.Artifacts {
		host, _ := m.resolve(a.Path)
		b, err := os.ReadFile(host)
		if errors.Is(err, syscall.EISDIR) {
			var data string
			if data, err = tarDir(host); err != nil {
				return fmt.Errorf("output artifact %s: %w", a.Name, err)
			}
			b = []byte(rawTarPrefix + data)
		}
		switch {
		case err == nil && !a.HasLocation() && !tmpl.ArchiveLocation.HasLocation():
			// Argo's executor uploads the file to the template's
			// archiveLocation, which the controller sets from the
			// artifact repository: without one it fails the step
			// (saveArtifactFromFile, ArtifactLocation.Get).
			artErrs = append(artErrs, errNoArtifactRepository)
		case err == nil:
			arts = append(arts, wfv1.Artifact{Name: a.Name, Path: a.Path, ArtifactLocation: wfv1.ArtifactLocation{Raw: &wfv1.RawArtifact{Data: string(b)}}})
		case errors.Is(err, fs.ErrNotExist) && a.Optional:
		default:
			artErrs = append(artErrs, fmt.Sprintf("path %s does not exist in the main container: %v", a.Path, errors.Unwrap(err)))
		}
	}
	if len(artErrs) > 0 && waitErr == nil {
		// SaveArtifacts joins the errors of every artifact, each
		// followed by "; ".
		waitErr = errors.New(strings.Join(artErrs, "; ") + "; ")
	}
	outputs.Artifacts = arts
	if err := r.c.reportOutputs(ctx, pod, outputs); err != nil {
		return err
	}
	if exit != 0 || waitErr != nil {
		if err := r.c.failPod(ctx, pod, exit, reason, startMsg, waitErr); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.runs = append(r.runs, stepRun{Workflow: pod.Labels["workflows.argoproj.io/workflow"], Pod: pod.Name, Template: tmpl.Name, Argv: argv, ExitCode: exit, Stdout: log.stdout()})
	r.mu.Unlock()
	return r.c.release(ctx, pod)
}

// errNoArtifactRepository is the error of Argo's executor (v3.7
// ArtifactLocation.Get) for an output artifact it has nowhere to upload.
const errNoArtifactRepository = "You need to configure artifact storage. More information on how to do this can be found in the docs: https://argo-workflows.readthedocs.io/en/latest/configure-artifact-repository/"

// rawTarPrefix starts the raw artifact data that holds a directory: the
// base64 of its gzipped tar follows.
const rawTarPrefix = "e2e-step-runner-dir:"

// tarDir returns the base64 of the gzipped tar of the regular files and
// directories under dir.
func tarDir(dir string) (string, error) {
	var buf bytes.Buffer
	enc := base64.NewEncoder(base64.StdEncoding, &buf)
	zw := gzip.NewWriter(enc)
	tw := tar.NewWriter(zw)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return "", err
	}
	for _, c := range []io.Closer{tw, zw, enc} {
		if err := c.Close(); err != nil {
			return "", err
		}
	}
	return buf.String(), nil
}

// untarDir unpacks what tarDir returned into dir.
func untarDir(data, dir string) error {
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(data)))
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if root, err = os.OpenRoot(dir); err != nil {
			return err
		}
	}
	defer root.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(h.Name, 0o755)
		case tar.TypeReg:
			var f *os.File
			if f, err = root.OpenFile(h.Name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm()); err == nil {
				_, err = io.Copy(f, tr)
				err = errors.Join(err, f.Close())
			}
		default:
			err = fmt.Errorf("%s: type %c not unpacked", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

// exitCode is the exit code of cmd's ended process as a container
// runtime reports it (128+signal for a signal), -1 if it did not run.
func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// waitDeleted reports whether pod is deleted (or being deleted) before ctx
// ends.
func (c *cluster) waitDeleted(ctx context.Context, pod *corev1.Pod) bool {
	for ctx.Err() == nil {
		w, err := c.kube.CoreV1().Pods(pod.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod.Name})
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && (ev.Type == watch.Deleted || p.DeletionTimestamp != nil) {
				w.Stop()
				return true
			}
		}
		w.Stop()
	}
	return false
}

// template returns the template the workflow-controller resolved for pod,
// from the init container's ARGO_TEMPLATE, or the ConfigMap named after
// the pod when the controller offloaded it.
func (r *stepRunner) template(ctx context.Context, pod *corev1.Pod) (*wfv1.Template, error) {
	value := ""
	for _, ct := range pod.Spec.InitContainers {
		for _, e := range ct.Env {
			if e.Name == "ARGO_TEMPLATE" {
				value = e.Value
			}
		}
	}
	switch value {
	case "":
		return nil, errors.New("the pod has no ARGO_TEMPLATE")
	case "offloaded":
		cm, err := r.c.kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("offloaded template: %w", err)
		}
		value = cm.Data["ARGO_TEMPLATE"]
	}
	var tmpl wfv1.Template
	if err := json.Unmarshal([]byte(value), &tmpl); err != nil {
		return nil, fmt.Errorf("ARGO_TEMPLATE: %w", err)
	}
	return &tmpl, nil
}

// mountSource returns the host directory behind the volume mount vm of
// pod, "" for a volume kind the runner leaves out (projected service
// account tokens, config maps, secrets).
func (r *stepRunner) mountSource(ctx context.Context, pod *corev1.Pod, vm corev1.VolumeMount, fsRoot string) (string, error) {
	i := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
	if i < 0 {
		return "", fmt.Errorf("volume mount %s: no such volume", vm.Name)
	}
	v := pod.Spec.Volumes[i]
	switch {
	case v.EmptyDir != nil:
		return filepath.Join(fsRoot, vm.MountPath), nil
	case v.HostPath != nil:
		return filepath.Join(v.HostPath.Path, vm.SubPath), nil
	case v.PersistentVolumeClaim != nil:
		pvc, err := r.c.kube.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, v.PersistentVolumeClaim.ClaimName, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("volume %s: %w", vm.Name, err)
		}
		if pvc.Spec.VolumeName == "" {
			return "", fmt.Errorf("volume %s: claim %s is not bound, yet the pod runs", vm.Name, pvc.Name)
		}
		pv, err := r.c.kube.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("volume %s: %w", vm.Name, err)
		}
		if pv.Spec.HostPath == nil {
			return "", fmt.Errorf("volume %s: persistent volume %s is not a hostPath volume", vm.Name, pv.Name)
		}
		return filepath.Join(pv.Spec.HostPath.Path, vm.SubPath), nil
	}
	return "", nil
}

// containerEnvironment returns the process environment of container ct of
// pod, its values' container paths rewritten by m, and its variables by
// name (for $(VAR) expansion).
func containerEnvironment(pod *corev1.Pod, ct *corev1.Container, m *pathMap) ([]string, map[string]string, error) {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" || strings.HasPrefix(k, "GO") {
			env = append(env, kv)
		}
	}
	vars := map[string]string{}
	for _, e := range ct.Env {
		value := e.Value
		if f := e.ValueFrom; f != nil {
			if f.FieldRef == nil {
				return nil, nil, fmt.Errorf("env %s: only value and valueFrom.fieldRef are supported", e.Name)
			}
			var err error
			if value, err = fieldValue(pod, f.FieldRef.FieldPath); err != nil {
				return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
		} else {
			value = m.rewrite(expandVars(value, vars))
		}
		vars[e.Name] = value
		env = append(env, e.Name+"="+value)
	}
	return env, vars, nil
}

func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if rest, ok := strings.CutPrefix(path, prefix+"['"); ok && strings.HasSuffix(rest, "']") {
			return m[strings.TrimSuffix(rest, "']")], nil
		}
	}
	return "", fmt.Errorf("fieldRef %s is not supported", path)
}

// expandVars expands $(NAME) from vars as the kubelet does in command,
// args and env values: $$ is a literal $, and a reference to an unknown
// name is left as written.
func expandVars(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := vars[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+3+end])
				}
				i += 2 + end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pathMap maps container paths to host paths.
type pathMap struct{ from, to []string }

func (m *pathMap) add(container, host string) {
	container = filepath.Clean(container)
	if i := slices.Index(m.from, container); i >= 0 {
		m.to[i] = host
		return
	}
	m.from, m.to = append(m.from, container), append(m.to, host)
}

// resolve returns the host path of the container path p: through the
// longest mapped path that is p or one of its parent directories.
func (m *pathMap) resolve(p string) (string, bool) {
	p = filepath.Clean(p)
	best := -1
	for i, f := range m.from {
		if (p == f || strings.HasPrefix(p, f+"/")) && (best < 0 || len(f) > len(m.from[best])) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return m.to[best] + p[len(m.from[best]):], true
}

// rewrite replaces each mapped container path in s by its host path where
// it stands at a path boundary: not preceded by a path character or a
// slash, and followed by the end, a slash or a character that cannot be
// part of a file name here. The longest mapped path wins.
func (m *pathMap) rewrite(s string) string {
	isName := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '~'
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		best := -1
		if s[i] == '/' && (i == 0 || !isName(s[i-1]) && s[i-1] != '/') {
			for j, f := range m.from {
				end := i + len(f)
				if strings.HasPrefix(s[i:], f) && (end == len(s) || s[end] == '/' || !isName(s[end])) && (best < 0 || len(f) > len(m.from[best])) {
					best = j
				}
			}
		}
		if best < 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(m.to[best])
		i += len(m.from[best])
	}
	return b.String()
}

// processLog collects a process's output lines with their stream, in the
// order they were written.
type processLog struct {
	mu   sync.Mutex
	all  []logLine
	part map[string]*bytes.Buffer
}

type logLine struct{ stream, text string }

type streamWriter struct {
	l      *processLog
	stream string
}

func (l *processLog) stream(name string) *streamWriter { return &streamWriter{l, name} }

func (w *streamWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if w.l.part == nil {
		w.l.part = map[string]*bytes.Buffer{}
	}
	buf := w.l.part[w.stream]
	if buf == nil {
		buf = new(bytes.Buffer)
		w.l.part[w.stream] = buf
	}
	buf.Write(p)
	for {
		line, err := buf.ReadString('\n')
		if err != nil {
			buf.Reset()
			buf.WriteString(line) // an unfinished line waits for its end
			return len(p), nil
		}
		w.l.all = append(w.l.all, logLine{w.stream, strings.TrimSuffix(line, "\n")})
	}
}

// lines returns every line, an unfinished last line of a stream included.
func (l *processLog) lines() []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := slices.Clone(l.all)
	for _, s := range []string{"stdout", "stderr"} {
		if buf := l.part[s]; buf != nil && buf.Len() > 0 {
			all = append(all, logLine{s, buf.String()})
		}
	}
	return all
}

func (l *processLog) stdout() string {
	var b strings.Builder
	for _, line := range l.lines() {
		if line.stream == "stdout" {
			b.WriteString(line.text + "\n")
		}
	}
	return b.String()
}

// reportOutputs writes outputs as the WorkflowTaskResult of pod's node,
// with the label that says the outputs are complete, as Argo's wait
// container does.
func (c *cluster) reportOutputs(ctx context.Context, pod *corev1.Pod, outputs *wfv1.Outputs) error {
	wfName := pod.Labels["workflows.argoproj.io/workflow"]
	wf, err := c.dyn.Resource(workflowGVR).Namespace(pod.Namespace).Get(ctx, wfName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get workflow %s: %w", wfName, err)
	}
	result := wfv1.WorkflowTaskResult{
		TypeMeta: metav1.TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "WorkflowTaskResult"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      pod.Annotations["workflows.argoproj.io/node-id"],
			Namespace: pod.Namespace,
			Labels: map[string]string{
				"workflows.argoproj.io/workflow":                 wfName,
				"workflows.argoproj.io/report-outputs-completed": "true",
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow", Name: wfName, UID: wf.GetUID()}},
		},
		NodeResult: wfv1.NodeResult{Outputs: outputs},
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&result)
	if err != nil {
		return err
	}
	if err := retry(ctx, func() error {
		_, err := c.dyn.Resource(taskResultGVR).Namespace(pod.Namespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("create WorkflowTaskResult: %w", err)
	}
	return nil
}

// failPod sets pod's status as the kubelet does when its main container
// exits with exit (reason, message) and, with waitErr, Argo's wait
// container exits 1 with that message: phase Failed, every container
// terminated. kwok leaves a Failed pod as it is.
func (c *cluster) failPod(ctx context.Context, pod *corev1.Pod, exit int, reason, message string, waitErr error) error {
	return retry(ctx, func() error {
		p, err := c.kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		started := now
		if p.Status.StartTime != nil {
			started = *p.Status.StartTime
		}
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses = nil
		for _, ct := range p.Spec.Containers {
			st := corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: started, FinishedAt: now}
			switch {
			case ct.Name == "main" && exit != 0:
				st.ExitCode, st.Reason, st.Message = int32(exit), reason, message
			case ct.Name == "wait" && waitErr != nil:
				st.ExitCode, st.Reason, st.Message = 1, "Error", waitErr.Error()
			}
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: ct.Name, Image: ct.Image, ImageID: ct.Image, State: corev1.ContainerState{Terminated: &st},
			})
		}
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodReady || p.Status.Conditions[i].Type == corev1.ContainersReady {
				p.Status.Conditions[i].Status, p.Status.Conditions[i].LastTransitionTime = corev1.ConditionFalse, now
			}
		}
		_, err = c.kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
}

// provisionVolumes stands in for a dynamic volume provisioner: for each
// pending claim of ns it creates a hostPath persistent volume of the
// claim's size, access modes and storage class, under root/volumes,
// reserved for the claim (claimRef), so that the real PV controller binds
// them. The volumes are deleted when the test ends.
func (c *cluster) provisionVolumes(t *testing.T, ns, root string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var made []string
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, name := range made {
			_ = c.kube.CoreV1().PersistentVolumes().Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})
	done := map[string]bool{}
	wg.Go(func() {
		for ctx.Err() == nil {
			w, err := c.kube.CoreV1().PersistentVolumeClaims(ns).Watch(ctx, metav1.ListOptions{})
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				pvc, ok := ev.Object.(*corev1.PersistentVolumeClaim)
				if !ok || ev.Type == watch.Deleted || pvc.Spec.VolumeName != "" || done[string(pvc.UID)] {
					continue
				}
				done[string(pvc.UID)] = true
				name := "e2e-" + string(pvc.UID)
				dir := filepath.Join(root, "volumes", name)
				if err := os.MkdirAll(dir, 0o777); err != nil {
					t.Errorf("volume provisioner: %v", err)
					continue
				}
				class := ""
				if pvc.Spec.StorageClassName != nil {
					class = *pvc.Spec.StorageClassName
				}
				pv := &corev1.PersistentVolume{
					ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: corev1.PersistentVolumeSpec{
						Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
						AccessModes:                   pvc.Spec.AccessModes,
						PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
						StorageClassName:              class,
						VolumeMode:                    pvc.Spec.VolumeMode,
						ClaimRef:                      &corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: pvc.Name, UID: pvc.UID},
						PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
					},
				}
				if err := retry(ctx, func() error {
					_, err := c.kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
					if apierrors.IsAlreadyExists(err) {
						return nil
					}
					return err
				}); err != nil {
					if ctx.Err() == nil {
						t.Errorf("volume provisioner, claim %s: %v", pvc.Name, err)
					}
					continue
				}
				mu.Lock()
				made = append(made, name)
				mu.Unlock()
			}
			w.Stop()
		}
	})
}

// TestStepRunnerLikeArgo checks the step runner against what Argo's
// documentation gives, through the real workflow-controller, on a
// Workflow submitted directly: a file written to the workflow's volume
// (a claim from volumeClaimTemplates, bound to the runner's hostPath
// volume by the PV controller) is read by the next step; an output
// parameter's file loses one trailing newline, an output artifact keeps
// it; a missing file gives the parameter's default; a step exiting 3
// fails with "main: Error (exit code 3)" and outputs.exitCode 3; a missing
// file without a default fails the step in Argo's wait container; a script
// template runs its source (its declared paths rewritten) and its stdout
// becomes outputs.result, which a later step gets as an argument.
func TestStepRunnerLikeArgo(t *testing.T) {
	c := newCluster(t)
	steps := c.runSteps(t, argoNamespace)
	y := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: runner-, namespace: argo}
spec:
  entrypoint: main
  volumeClaimTemplates:
    - metadata: {name: work}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
  templates:
    - name: main
      dag:
        tasks:
          - {name: write, template: write}
          - {name: read, template: read, dependencies: [write]}
          - {name: fail, template: fail, dependencies: [read]}
          - {name: nofile, template: nofile}
          - {name: script, template: script}
          - name: result
            template: result
            dependencies: [script]
            arguments:
              parameters: [{name: text, value: "{{tasks.script.outputs.result}}"}]
    - name: write
      container:
        image: example.invalid/pipestep:1
        command: [%[1]s, write]
        args: [--content, "shared\n\n", --to, /mnt/work/shared.txt]
        volumeMounts: [{name: work, mountPath: /mnt/work}]
      outputs:
        parameters:
          - {name: missing, valueFrom: {path: /tmp/missing, default: fallback}}
    - name: read
      container:
        image: example.invalid/pipestep:1
        command: [%[1]s, copy]
        args: [--from, /mnt/work/shared.txt, --to, /tmp/out/copy]
        volumeMounts: [{name: work, mountPath: /mnt/work}]
      outputs:
        parameters:
          - {name: copy, valueFrom: {path: /tmp/out/copy}}
        artifacts:
          - {name: copy, path: /tmp/out/copy}
    - name: fail
      container:
        image: example.invalid/pipestep:1
        command: [%[1]s, exit]
        args: [--code, "3"]
    - name: nofile
      container:
        image: example.invalid/pipestep:1
        command: [%[1]s, exit]
        args: [--code, "0"]
      outputs:
        parameters:
          - {name: none, valueFrom: {path: /tmp/none}}
    - name: script
      script:
        image: example.invalid/sh:1
        command: [sh]
        source: |
          echo hello from a script
          echo 42 > /tmp/out/n
      outputs:
        parameters:
          - {name: "n", valueFrom: {path: /tmp/out/n}}
    - name: result
      inputs:
        parameters: [{name: text}]
      container:
        image: example.invalid/pipestep:1
        command: [%[1]s, write]
        args: [--content, "{{inputs.parameters.text}}", --to, /tmp/text]
      outputs:
        parameters:
          - {name: text, valueFrom: {path: /tmp/text}}
`, pipestep(t))
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(y), &obj); err != nil {
		t.Fatal(err)
	}
	created, err := c.dyn.Resource(workflowGVR).Namespace(argoNamespace).Create(t.Context(), &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.dyn.Resource(workflowGVR).Namespace(argoNamespace).Delete(context.Background(), created.GetName(), metav1.DeleteOptions{})
	})
	var wf wfv1.Workflow
	for deadline := time.Now().Add(2 * time.Minute); ; {
		u, err := c.dyn.Resource(workflowGVR).Namespace(argoNamespace).Get(t.Context(), created.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &wf); err != nil {
			t.Fatal(err)
		}
		if wf.Status.Phase.Completed() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s still %s after 2 minutes: %+v", wf.Name, wf.Status.Phase, steps.ran())
		}
		time.Sleep(200 * time.Millisecond)
	}
	nodes := map[string]wfv1.NodeStatus{}
	for _, n := range wf.Status.Nodes {
		if n.Type == wfv1.NodeTypePod {
			nodes[n.DisplayName] = n
		}
	}
	param := func(node, name string) string {
		if o := nodes[node].Outputs; o != nil {
			for _, p := range o.Parameters {
				if p.Name == name && p.Value != nil {
					return p.Value.String()
				}
			}
		}
		return "<none>"
	}
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Errorf("workflow %s, want Failed", wf.Status.Phase)
	}
	if n := nodes["write"]; n.Phase != wfv1.NodeSucceeded || param("write", "missing") != "fallback" {
		t.Errorf("write: %s (%s), missing=%q; want Succeeded with the default", n.Phase, n.Message, param("write", "missing"))
	}
	n := nodes["read"]
	if n.Phase != wfv1.NodeSucceeded || param("read", "copy") != "shared\n" {
		t.Errorf("read: %s (%s), copy=%q; want Succeeded with %q read from the volume, one newline trimmed", n.Phase, n.Message, param("read", "copy"), "shared\n")
	}
	if n.Outputs == nil || len(n.Outputs.Artifacts) != 1 || n.Outputs.Artifacts[0].Raw == nil || n.Outputs.Artifacts[0].Raw.Data != "shared\n\n" {
		t.Errorf("read: artifacts %+v, want copy holding %q", n.Outputs, "shared\n\n")
	}
	n = nodes["fail"]
	if n.Phase != wfv1.NodeFailed || n.Message != "main: Error (exit code 3)" || n.Outputs == nil || n.Outputs.ExitCode == nil || *n.Outputs.ExitCode != "3" {
		t.Errorf("fail: %s (%q), outputs %+v; want Failed, main: Error (exit code 3), exit code 3", n.Phase, n.Message, n.Outputs)
	}
	n = nodes["nofile"]
	if n.Phase != wfv1.NodeError || !strings.Contains(n.Message, "wait: Error (exit code 1)") || !strings.Contains(n.Message, "/tmp/none") {
		t.Errorf("nofile: %s (%q); want Error from the wait container naming /tmp/none", n.Phase, n.Message)
	}
	if n := nodes["script"]; n.Phase != wfv1.NodeSucceeded || param("script", "n") != "42" || n.Outputs.Result == nil || *n.Outputs.Result != "hello from a script" {
		t.Errorf("script: %s (%s), outputs %+v; want Succeeded, n=42 from its source's file, the stdout as result", n.Phase, n.Message, n.Outputs)
	}
	if got := param("result", "text"); got != "hello from a script" {
		t.Errorf("result: text=%q, want the script's stdout through {{tasks.script.outputs.result}}", got)
	}
	if len(wf.Status.PersistentVolumeClaims) != 1 {
		t.Errorf("workflow volumes %+v, want the one claim", wf.Status.PersistentVolumeClaims)
	}
}

// TestStepRunnerPaths checks the step runner's path mapping and $(VAR)
// expansion on their own (no cluster needed).
func TestStepRunnerPaths(t *testing.T) {
	var m pathMap
	m.add("/tmp/outputs", "/h/fs/tmp/outputs")
	m.add("/tmp/outputs/model", "/h/vol") // a longer path wins
	m.add("/mlpipeline-metrics.json", "/h/fs/mlpipeline-metrics.json")
	for in, want := range map[string]string{
		"/tmp/outputs":                          "/h/fs/tmp/outputs",
		"/tmp/outputs/x.txt":                    "/h/fs/tmp/outputs/x.txt",
		"--out=/tmp/outputs/x":                  "--out=/h/fs/tmp/outputs/x",
		"/tmp/outputs/model/w.bin":              "/h/vol/w.bin",
		"/tmp/outputsx":                         "/tmp/outputsx",  // not at a boundary
		"/a/tmp/outputs":                        "/a/tmp/outputs", // inside another path
		"x/tmp/outputs":                         "x/tmp/outputs",  // inside a relative path
		"/tmp/outputs.d":                        "/tmp/outputs.d", // a longer name
		"a=/tmp/outputs,b=/tmp/outputs/m":       "a=/h/fs/tmp/outputs,b=/h/fs/tmp/outputs/m",
		"{\"p\": \"/mlpipeline-metrics.json\"}": "{\"p\": \"/h/fs/mlpipeline-metrics.json\"}",
	} {
		if got := m.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/tmp/outputs/model/a": "/h/vol/a",
		"/tmp/outputs/b":       "/h/fs/tmp/outputs/b",
		"/tmp/outputs/../x":    "",
	} {
		got, ok := m.resolve(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("resolve(%q) = %q, want %q", in, got, want)
		}
	}
	vars := map[string]string{"A": "1", "B": "$(A)"}
	for in, want := range map[string]string{
		"$(A)":       "1",
		"x$(A)y$(A)": "x1y1",
		"$(B)":       "$(A)", // no second round
		"$$(A)":      "$(A)",
		"$(C)":       "$(C)",
		"$(A":        "$(A",
		"$":          "$",
		"a$b":        "a$b",
	} {
		if got := expandVars(in, vars); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}
