package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompile prints trial 3 of a seeded random search before it runs and
// checks that the run's trial 3 gets exactly those arguments; --set fixes a
// parameter and is checked against the space.
func TestCompile(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "comp", Parallel: 1, Max: 3, MaxFailed: 1,
		Settings: "      - {name: random_state, value: \"5\"}"})
	r := tune(t, dir, "compile", file, "--trial", "3", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tune compile: exit %d: %s", r.code, r.stderr)
	}
	args := containerArgs(t, r.stdout)
	if name := jobName(t, r.stdout); name != "comp-0003" {
		t.Errorf("compiled object name %q, want comp-0003", name)
	}
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	third := getTrials(t, dir, "comp")
	var params map[string]string
	for _, tr := range third {
		if tr.Name == "comp-0003" {
			params = tr.Parameters
		}
	}
	want := []string{"--x=" + params["x"], "--y", params["y"]}
	if strings.Join(args, " ") != strings.Join(want, " ") {
		t.Errorf("compiled args %q, the run's trial 3 ran with %q", args, want)
	}

	r = tune(t, dir, "compile", file, "--set", "x=0.5", "--set", "y=-1")
	if r.code != 0 || !strings.Contains(r.stdout, "--x=0.5") || !strings.Contains(r.stdout, "- \"-1\"") {
		t.Errorf("compile --set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range []string{"x=9", "z=1", "x"} {
		if r := tune(t, dir, "compile", file, "--set", bad); r.code != 2 {
			t.Errorf("compile --set %s: exit %d, want 2: %s", bad, r.code, r.stderr)
		}
	}
}

func containerArgs(t *testing.T, js string) []string {
	t.Helper()
	var job struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args []string `json:"args"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(js), &job); err != nil || len(job.Spec.Template.Spec.Containers) == 0 {
		t.Fatalf("compiled output is not a Job: %v\n%s", err, js)
	}
	return job.Spec.Template.Spec.Containers[0].Args
}

func jobName(t *testing.T, js string) string {
	t.Helper()
	var obj struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(js), &obj); err != nil {
		t.Fatal(err)
	}
	return obj.Metadata.Name
}

// TestCompileKubernetes prints the Job as the Kubernetes executor would
// submit it: in the namespace given, with the trial's labels, without a
// cluster.
func TestCompileKubernetes(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "kcomp", Parallel: 1, Max: 3, MaxFailed: 1})
	r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "compile", file, "--executor", "kubernetes", "-n", "team-a", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tune compile --executor kubernetes: exit %d: %s", r.code, r.stderr)
	}
	var job struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &job); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if job.Kind != "Job" || job.Metadata.Name != "kcomp-0001" || job.Metadata.Namespace != "team-a" ||
		job.Metadata.Labels["katib.kubeflow.org/trial"] != "kcomp-0001" || job.Metadata.Labels["katib.kubeflow.org/experiment"] != "kcomp" {
		t.Errorf("compiled object %+v; want Job kcomp-0001 in team-a with the trial's labels", job)
	}
}

// TestBadLogLevel: an unknown --log-level is a usage error naming the
// allowed levels, before any cluster is contacted or anything is stored.
func TestBadLogLevel(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "loglevel", Parallel: 1, Max: 1, MaxFailed: 1})
	r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "run", file, "--executor", "kubernetes", "--log-level", "loud", "--store", filepath.Join(dir, "tune.db"))
	if r.code != 2 || !strings.Contains(r.stderr, `--log-level "loud"`) || !strings.Contains(r.stderr, "debug, info, warn or error") {
		t.Errorf("exit %d, stderr %q; want a usage error naming the levels", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "tune.db")); !os.IsNotExist(err) {
		t.Errorf("store written by a run refused for its flags: %v", err)
	}
}

// TestCompileArtifactRepository: --artifact-repository none prints what
// tune run submits to an Argo install without an artifact repository,
// which the KFP v1 example, passing artifacts between its steps, cannot
// run on (refused, naming them); configured prints it as compiled, the
// metrics artifact kept. A bad value is a usage error for run too.
func TestCompileArtifactRepository(t *testing.T) {
	dir := t.TempDir()
	env := append(cleanEnv(), "KUBECONFIG="+dir+"/absent")
	file, err := filepath.Abs(filepath.Join("..", "..", "examples", "kfp-pipeline", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := tuneEnv(t, dir, env, "compile", file, "--executor", "kubernetes", "-n", "team-a", "--artifact-repository", "none")
	if r.code != 1 || !strings.Contains(r.stderr, "prepare-data/prepare-data-data") || !strings.Contains(r.stderr, "need an artifact repository") {
		t.Errorf("compile --artifact-repository none: exit %d, stderr %q; want the artifacts passed between steps refused", r.code, r.stderr)
	}
	r = tuneEnv(t, dir, env, "compile", file, "--executor", "kubernetes", "-n", "team-a", "--artifact-repository", "configured")
	if r.code != 0 || !strings.Contains(r.stdout, "name: mlpipeline-metrics\n        path: /mlpipeline-metrics.json") {
		t.Errorf("compile --artifact-repository configured: exit %d, stderr %q; want the metrics artifact kept:\n%s", r.code, r.stderr, r.stdout)
	}
	for _, args := range [][]string{
		{"compile", file, "--executor", "kubernetes", "--artifact-repository", "auto"},
		{"run", file, "--executor", "kubernetes", "--artifact-repository", "s3", "--store", filepath.Join(dir, "tune.db")},
	} {
		if r := tuneEnv(t, dir, env, args...); r.code != 2 || !strings.Contains(r.stderr, "--artifact-repository") {
			t.Errorf("tune %s: exit %d, stderr %q; want a usage error", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// TestBadOnTerminate: --on-terminate takes stop or detach only, checked
// before any cluster is contacted.
func TestBadOnTerminate(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "term", Parallel: 1, Max: 1, MaxFailed: 1})
	r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "run", file, "--executor", "kubernetes", "--on-terminate", "pause", "--store", filepath.Join(dir, "tune.db"))
	if r.code != 2 || !strings.Contains(r.stderr, `--on-terminate "pause": want stop or detach`) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}
