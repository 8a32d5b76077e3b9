package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectorCommand: what a trial pod runs. The init container's
// `tune collector install DIR` puts an executable tune in DIR; that tune's
// `collector run` runs the program, passes its exit status on, and writes
// the metrics file's lines after the collector's prefix, apart from the
// program's own lines.
func TestCollectorCommand(t *testing.T) {
	dir := t.TempDir()
	install := filepath.Join(dir, "opt")
	if out, err := exec.Command(tuneBinary(t), "collector", "install", install).CombinedOutput(); err != nil {
		t.Fatalf("tune collector install: %v: %s", err, out)
	}
	installed := filepath.Join(install, "tune")
	if fi, err := os.Stat(installed); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("installed tune: %v, %v", fi, err)
	}
	cfg, _ := json.Marshal(map[string]any{"kind": "File", "path": filepath.Join(dir, "metrics.log"), "metrics": []string{"loss"}})
	cmd := exec.Command(installed, "collector", "run", "--config", string(cfg), "--",
		"sh", "-c", `echo loss=-1; echo loss=0.5 >> "$TUNE_METRICS_PATH"; exit 4`)
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 4 {
		t.Errorf("exit status %d (%v), want the program's 4", code, err)
	}
	if want := "loss=-1\ntune-collector: {\"line\":\"loss=0.5\"}\n"; string(out) != want {
		t.Errorf("stdout %q, want %q", out, want)
	}

	// Push: the program reports with `tune report`, found on its PATH (the
	// installed tune's directory), to the endpoint on the pod's socket.
	sock, err := os.MkdirTemp("", "pod")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sock)
	cfg, _ = json.Marshal(map[string]any{"kind": "Push", "metrics": []string{"loss"}, "pushSocket": filepath.Join(sock, "report.sock")})
	cmd = exec.Command(installed, "collector", "run", "--config", string(cfg), "--", "sh", "-c", "tune report --step 2 loss=0.25")
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin")
	out, err = cmd.Output()
	if err != nil || !strings.Contains(string(out), `tune-collector: {"metric":"loss","value":0.25,"step":2,`) {
		t.Errorf("Push through tune report: %v: %q", err, out)
	}

	r := tune(t, dir, "collector", "run", "--config", `{"kind":"File","pth":"/x"}`, "--", "true")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown field "pth"`) {
		t.Errorf("misspelt config: exit %d: %s", r.code, r.stderr)
	}
}

// TestCompileKubernetesCollector: Katib's File collector example compiles
// to a Job whose pod installs tune from --collector-image and runs the
// program under tune's collector; validate --executor kubernetes refuses a
// primary container without a command, naming it.
func TestCompileKubernetesCollector(t *testing.T) {
	dir := t.TempDir()
	abs, _ := filepath.Abs(filepath.Join("..", "..", "experiment", "testdata", "katib", "file-metrics-collector.yaml"))
	env := append(cleanEnv(), "KUBECONFIG="+dir+"/absent")
	r := tuneEnv(t, dir, env, "compile", abs, "--executor", "kubernetes", "--collector-image", "registry.example/tune:v9", "-o", "json")
	if r.code != 0 {
		t.Fatalf("compile: exit %d: %s", r.code, r.stderr)
	}
	var job struct {
		Spec struct {
			Template struct {
				Spec struct {
					InitContainers []struct{ Image string }
					Containers     []struct {
						Name    string
						Command []string
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &job); err != nil {
		t.Fatal(err)
	}
	pod := job.Spec.Template.Spec
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Image != "registry.example/tune:v9" {
		t.Errorf("init containers %+v, want tune's from the image given", pod.InitContainers)
	}
	if cmd := pod.Containers[0].Command; len(cmd) < 8 || cmd[0] != "/opt/tune-collector/tune" || cmd[6] != "python3" {
		t.Errorf("command %q, want tune's collector running python3", cmd)
	}

	data, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	noCommand := strings.Replace(string(data), "command:\n", "args:\n", 1)
	if noCommand == string(data) {
		t.Fatal("the example has no command to remove")
	}
	bad := filepath.Join(dir, "nocommand.yaml")
	os.WriteFile(bad, []byte(noCommand), 0o644)
	r = tuneEnv(t, dir, env, "validate", bad, "--executor", "kubernetes")
	if r.code != 2 || !strings.Contains(r.stderr, `primary container "training-container" of the Job has no command`) {
		t.Errorf("validate without a command: exit %d: %s", r.code, r.stderr)
	}
	if r := tuneEnv(t, dir, env, "validate", abs, "--executor", "kubernetes"); r.code != 0 {
		t.Errorf("validate the example: exit %d: %s", r.code, r.stderr)
	}
}
