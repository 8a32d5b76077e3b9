package cli_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestCompileKubeflowPipelineV2 prints the Workflow a Kubeflow Pipelines
// v2 PipelineJob trial compiles to, as the Kubernetes executor would
// submit it: the trial's values converted to the pipeline's input types,
// the pipeline's tasks as DAG tasks, the artifact volume claim.
func TestCompileKubeflowPipelineV2(t *testing.T) {
	dir := t.TempDir()
	file, err := filepath.Abs(filepath.Join("..", "..", "examples", "kfp-v2-pipeline", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "compile", file, "--executor", "kubernetes", "-n", "team-a",
		"--set", "lr=0.025", "--set", "epochs=4", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tune compile: exit %d: %s", r.code, r.stderr)
	}
	var wf struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Entrypoint string `json:"entrypoint"`
			Arguments  struct {
				Parameters []struct{ Name, Value string } `json:"parameters"`
			} `json:"arguments"`
			Templates []struct {
				Name string `json:"name"`
				DAG  *struct {
					Tasks []struct{ Name string } `json:"tasks"`
				} `json:"dag"`
			} `json:"templates"`
			VolumeClaimTemplates []struct {
				Metadata struct{ Name string } `json:"metadata"`
			} `json:"volumeClaimTemplates"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &wf); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if wf.Kind != "Workflow" || wf.Metadata.Name != "kfp-v2-train-0001" || wf.Metadata.Namespace != "team-a" || wf.Metadata.Labels["katib.kubeflow.org/trial"] != "kfp-v2-train-0001" {
		t.Errorf("compiled object %s %+v", wf.Kind, wf.Metadata)
	}
	args := map[string]string{}
	for _, p := range wf.Spec.Arguments.Parameters {
		args[p.Name] = p.Value
	}
	if args["lr"] != "0.025" || args["epochs"] != "4" {
		t.Errorf("arguments %v", args)
	}
	var tasks []string
	for _, tmpl := range wf.Spec.Templates {
		if tmpl.Name == wf.Spec.Entrypoint && tmpl.DAG != nil {
			for _, task := range tmpl.DAG.Tasks {
				tasks = append(tasks, task.Name)
			}
		}
	}
	if len(tasks) != 3 || len(wf.Spec.VolumeClaimTemplates) != 1 || wf.Spec.VolumeClaimTemplates[0].Metadata.Name != "artifacts" {
		t.Errorf("entrypoint %q tasks %v, claims %+v", wf.Spec.Entrypoint, tasks, wf.Spec.VolumeClaimTemplates)
	}
}
