package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/trial"
)

// fakeRuntime returns an executor for runtime rt that does not need the
// runtime's program: the tests here only build commands.
func fakeRuntime(t *testing.T, rt Runtime, gpus ...string) *Executor {
	t.Helper()
	e, err := New(Options{GPUs: gpus})
	if err != nil {
		t.Fatal(err)
	}
	e.runtime = rt
	return e
}

// runtimeSpec is a trial spec whose container runs image with command and
// args, in a trial directory dir.
func runtimeSpec(dir string, c map[string]any) *trial.Spec {
	return &trial.Spec{Name: "exp-0001", Object: jobObject(c), Dir: dir, Owner: "/data/tune.db",
		Env: []string{"TUNE_TRIAL=exp-0001", "TUNE_TRIAL_DIR=" + dir}}
}

// flagValues returns the values of flag in argv, up to the image.
func flagValues(argv []string, image, flag string) []string {
	var vs []string
	for i := 0; i < len(argv)-1 && argv[i] != image; i++ {
		if argv[i] == flag {
			vs = append(vs, argv[i+1])
			i++
		}
	}
	return vs
}

func TestContainerCommand(t *testing.T) {
	const secret = "s3cr3t value; rm -rf / $(x)"
	c := map[string]any{
		"name": "training", "image": "registry.example/train:1.2",
		"command":    []any{"python", "-m", "train"},
		"args":       []any{"--lr=0.1; echo pwned", "$(LR)", ""},
		"workingDir": "/workspace",
		"env": []any{
			map[string]any{"name": "LR", "value": "0.1"},
			map[string]any{"name": "API_KEY", "value": secret},
			map[string]any{"name": "HOME", "value": "/root"},
			map[string]any{"name": "MULTI", "value": "a\nb"},
		},
	}
	for _, rt := range []Runtime{RuntimePodman, RuntimeDocker} {
		t.Run(string(rt), func(t *testing.T) {
			e := fakeRuntime(t, rt)
			spec := runtimeSpec("/trials/exp-0001", c)
			spec.Mounts = []trial.Mount{{Source: "/trials/exp-0001/katib", Target: "/var/log/katib"}}
			p, err := e.plan(spec)
			if err != nil {
				t.Fatal(err)
			}
			client := []string{"PATH=/usr/bin", "HOME=/home/me", "CONTAINERS_CONF=/etc/c.conf"}
			r, err := e.containerCommand(p, 2, p.env, client)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			image := "registry.example/train:1.2"
			i := slices.Index(r.argv, image)
			if i < 0 {
				t.Fatalf("argv has no image: %q", r.argv)
			}
			// The program's arguments follow the image, byte for byte, and
			// argv[0] is the entrypoint.
			if diff := cmp.Diff([]string{"-m", "train", "--lr=0.1; echo pwned", "0.1", ""}, r.argv[i+1:]); diff != "" {
				t.Errorf("args after the image (-want +got):\n%s", diff)
			}
			wantEntry := "python"
			if rt == RuntimePodman {
				wantEntry = `["python"]`
			}
			if got := flagValues(r.argv, image, "--entrypoint"); !slices.Equal(got, []string{wantEntry}) {
				t.Errorf("--entrypoint = %q, want %q", got, wantEntry)
			}
			if r.argv[0] != string(rt) || r.argv[1] != "run" || !slices.Contains(r.argv[:i], "--rm") || !slices.Contains(r.argv[:i], "--init") {
				t.Errorf("argv = %q, want %s run --rm --init ...", r.argv, rt)
			}
			if got := flagValues(r.argv, image, "--workdir"); !slices.Equal(got, []string{"/workspace"}) {
				t.Errorf("--workdir = %q", got)
			}
			if got := flagValues(r.argv, image, "--pull"); !slices.Equal(got, []string{"missing"}) {
				t.Errorf("--pull = %q, want missing (a tagged image's default)", got)
			}
			if got, want := flagValues(r.argv, image, "--mount"), []string{
				"type=bind,source=/trials/exp-0001,target=/trials/exp-0001",
				"type=bind,source=/trials/exp-0001/katib,target=/var/log/katib",
			}; !slices.Equal(got, want) {
				t.Errorf("--mount = %q, want %q", got, want)
			}
			if got := flagValues(r.argv, image, "--name"); len(got) != 1 || got[0] != r.name || !strings.HasPrefix(r.name, "tune-exp-0001-") || !strings.HasSuffix(r.name, "-2") {
				t.Errorf("--name = %q (name %q), want tune-exp-0001-HASH-2", got, r.name)
			}
			// No value of any variable is in the argv.
			for _, a := range r.argv[:i] {
				for _, v := range []string{secret, "0.1", "/root", "a\nb", "TUNE_TRIAL=", "TUNE_TRIAL_DIR="} {
					if strings.Contains(a, v) {
						t.Errorf("argv entry %q carries the value %q", a, v)
					}
				}
			}
			// Variables go by name, their values in the client's
			// environment, which keeps the client's own ones...
			byName := flagValues(r.argv, image, "--env")
			if want := []string{"LR", "API_KEY", "MULTI", "TUNE_TRIAL", "TUNE_TRIAL_DIR"}; !slices.Equal(byName, want) {
				t.Errorf("--env = %q, want %q", byName, want)
			}
			for _, kv := range []string{"API_KEY=" + secret, "MULTI=a\nb", "LR=0.1", "TUNE_TRIAL_DIR=/trials/exp-0001", "PATH=/usr/bin", "HOME=/home/me", "CONTAINERS_CONF=/etc/c.conf"} {
				if !slices.Contains(r.env, kv) {
					t.Errorf("client env lacks %q: %q", kv, r.env)
				}
			}
			// ...but HOME, which the client has with another value, goes
			// in an env file only tune's user can read.
			files := flagValues(r.argv, image, "--env-file")
			if len(files) != 1 || files[0] != r.envFile {
				t.Fatalf("--env-file = %q, want %q", files, r.envFile)
			}
			data, err := os.ReadFile(r.envFile)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != "HOME=/root\n" {
				t.Errorf("env file = %q, want HOME=/root", data)
			}
			fi, err := os.Stat(r.envFile)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("env file mode = %v, %v; want 0600", fi.Mode(), err)
			}
			r.close()
			if _, err := os.Stat(r.envFile); !os.IsNotExist(err) {
				t.Errorf("env file left after close: %v", err)
			}
			// The host's environment is not the base: no PATH unless the
			// container sets it, so the image's own applies.
			for _, kv := range p.env {
				if strings.HasPrefix(kv, "PATH=") {
					t.Errorf("planned env has the host's %s", kv)
				}
			}
		})
	}
}

func TestContainerCommandGPUs(t *testing.T) {
	for _, tc := range []struct {
		rt        Runtime
		ids       string // CUDA_VISIBLE_DEVICES the executor gave the trial
		flag      string
		wantFlags []string
		wantCUDA  string
	}{
		{RuntimePodman, "2,3", "--device", []string{"nvidia.com/gpu=2", "nvidia.com/gpu=3"}, "0,1"},
		{RuntimeDocker, "2,3", "--gpus", []string{`"device=2,3"`}, "0,1"},
		{RuntimeDocker, "1", "--gpus", []string{`"device=1"`}, "0"},
		{RuntimePodman, "", "--device", nil, ""},
		{RuntimeDocker, "", "--gpus", nil, ""},
	} {
		t.Run(string(tc.rt)+"/"+tc.ids, func(t *testing.T) {
			e := fakeRuntime(t, tc.rt, "0", "1", "2", "3")
			c := map[string]any{"name": "t", "image": "img:1", "command": []any{"train"}}
			p, err := e.plan(runtimeSpec("/d", c))
			if err != nil {
				t.Fatal(err)
			}
			env := setEnv(p.env, "CUDA_VISIBLE_DEVICES", tc.ids)
			r, err := e.containerCommand(p, 1, env, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			if got := flagValues(r.argv, "img:1", tc.flag); !slices.Equal(got, tc.wantFlags) {
				t.Errorf("%s = %q, want %q", tc.flag, got, tc.wantFlags)
			}
			if got, ok := getEnv(r.env, "CUDA_VISIBLE_DEVICES"); !ok || got != tc.wantCUDA {
				t.Errorf("CUDA_VISIBLE_DEVICES inside = %q (set %v), want %q", got, ok, tc.wantCUDA)
			}
		})
	}
}

func TestPullPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy, image, want string
	}{
		{"Never", "img:1", "never"},
		{"IfNotPresent", "img", "missing"},
		{"Always", "img:1", "always"},
		{"", "img", "always"},
		{"", "img:latest", "always"},
		{"", "localhost:5000/img", "always"},
		{"", "localhost:5000/img:2", "missing"},
		{"", "img@sha256:abc", "missing"},
	} {
		got, err := pullPolicy(corev1PullPolicy(tc.policy), tc.image)
		if err != nil || got != tc.want {
			t.Errorf("pullPolicy(%q, %q) = %q, %v; want %q", tc.policy, tc.image, got, err, tc.want)
		}
	}
	if _, err := pullPolicy("Sometimes", "img"); err == nil {
		t.Error("pullPolicy accepted Sometimes")
	}
	// And through a plan: the container's field reaches --pull.
	e := fakeRuntime(t, RuntimeDocker)
	c := map[string]any{"name": "t", "image": "img:1", "command": []any{"train"}, "imagePullPolicy": "Never"}
	p, err := e.plan(runtimeSpec("/d", c))
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.containerCommand(p, 1, p.env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flagValues(r.argv, "img:1", "--pull"); !slices.Equal(got, []string{"never"}) {
		t.Errorf("--pull = %q, want never", got)
	}
	// A plan made elsewhere (a pipeline step) with no pull policy gets
	// Kubernetes' default for its image.
	p.pull, p.image = "", "img"
	r, err = e.containerCommand(p, 1, p.env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := flagValues(r.argv, "img", "--pull"); !slices.Equal(got, []string{"always"}) {
		t.Errorf("--pull of an untagged image with no policy = %q, want always", got)
	}
}

func TestContainerCheck(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"name": "training", "image": "img:1", "command": []any{"train"}}
	}
	for _, tc := range []struct {
		name   string
		rt     Runtime
		edit   func(c map[string]any, s *trial.Spec)
		want   string
		hostOK bool // host mode accepts it
	}{
		{"no image", RuntimePodman, func(c map[string]any, _ *trial.Spec) { delete(c, "image") }, `container "training" has no image: --runtime podman runs`, true},
		{"no command", RuntimeDocker, func(c map[string]any, _ *trial.Spec) { delete(c, "command") }, `has no command`, false},
		{"relative workingDir", RuntimePodman, func(c map[string]any, _ *trial.Spec) { c["workingDir"] = "sub" }, `workingDir "sub" must be an absolute path with --runtime podman`, true},
		{"comma in mount", RuntimeDocker, func(_ map[string]any, s *trial.Spec) {
			s.Mounts = []trial.Mount{{Source: "/a,b", Target: "/t"}}
		}, `mount path "/a,b" contains a comma`, true},
		{"pattern name", RuntimePodman, func(c map[string]any, _ *trial.Spec) {
			c["env"] = []any{map[string]any{"name": "A*", "value": "1"}}
		}, `"A*" contains '*', which podman reads as a pattern`, true},
		{"bad pull policy", RuntimePodman, func(c map[string]any, _ *trial.Spec) { c["imagePullPolicy"] = "Sometimes" }, `imagePullPolicy "Sometimes"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			spec := runtimeSpec("/d", c)
			tc.edit(c, spec)
			err := fakeRuntime(t, tc.rt).Check(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want an error containing %q", err, tc.want)
			}
			if herr := fakeRuntime(t, RuntimeHost).Check(spec); (herr == nil) != tc.hostOK {
				t.Errorf("host Check = %v, want ok=%v", herr, tc.hostOK)
			}
		})
	}
}

// TestRuntimeMissing checks that a runtime whose program is not in PATH
// makes Check fail, naming it, and that New rejects an unknown runtime.
func TestRuntimeMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	e, err := New(Options{Runtime: RuntimePodman})
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"name": "t", "image": "img:1", "command": []any{"train"}}
	if err := e.Check(runtimeSpec("/d", c)); err == nil || !strings.Contains(err.Error(), "container runtime podman") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Check = %v, want podman not found", err)
	}
	if _, err := New(Options{Runtime: "containerd"}); err == nil || !strings.Contains(err.Error(), `unknown container runtime "containerd"`) {
		t.Errorf("New(containerd) = %v", err)
	}
	if r, err := ParseRuntime(""); err != nil || r != RuntimeHost {
		t.Errorf(`ParseRuntime("") = %q, %v`, r, err)
	}
}

// TestContainerName checks that names are valid for both runtimes,
// distinct per attempt, per store and per trial directory, and stable.
func TestContainerName(t *testing.T) {
	p := &plan{name: "exp-0001", owner: "/a/tune.db", recordDir: "/a/trials/exp-0001"}
	n1, n2 := containerName(p, 1), containerName(p, 2)
	q := *p
	q.owner = "/b/tune.db"
	odd := *p
	odd.name = "bad name/x"
	for _, n := range []string{n1, n2, containerName(&q, 1), containerName(&odd, 1)} {
		if !containerNameRE.MatchString(n) {
			t.Errorf("name %q is not a valid container name", n)
		}
	}
	if n1 == n2 || n1 == containerName(&q, 1) || n1 != containerName(p, 1) {
		t.Errorf("names %q %q %q: want distinct per attempt and store, stable", n1, n2, containerName(&q, 1))
	}
	b, _ := json.Marshal(processRecord{PGID: 5, Container: &containerRef{Runtime: RuntimePodman, Name: n1}})
	if !strings.Contains(string(b), `"container":{"runtime":"podman","name":"`+n1+`"}`) {
		t.Errorf("record = %s", b)
	}
}

func corev1PullPolicy(s string) corev1.PullPolicy { return corev1.PullPolicy(s) }

// TestRecoverRefusesOddContainer checks that a process record naming
// something that is not a runtime and a container name (the record is a
// file in the trial's directory) makes Recover fail without running
// anything: a name like "--all" must never reach the runtime's command
// line.
func TestRecoverRefusesOddContainer(t *testing.T) {
	e := fakeRuntime(t, RuntimeHost)
	for _, c := range []containerRef{
		{Runtime: RuntimePodman, Name: "--all"},
		{Runtime: RuntimeDocker, Name: "a b"},
		{Runtime: "sh", Name: "x"},
	} {
		dir := t.TempDir()
		data, err := json.Marshal(processRecord{PGID: 1 << 22, Container: &c})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ProcessRecordName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		// No process of that group lives; the container is what is left.
		t.Setenv("PATH", t.TempDir()) // were anything run, it would not be found
		msg, err := e.Recover(context.Background(), &trial.Spec{Name: "exp-0001", Dir: dir})
		if err == nil || (!strings.Contains(err.Error(), "invalid container name") && !strings.Contains(err.Error(), "unknown container runtime")) {
			t.Errorf("Recover with container %+v = %q, %v; want it refused", c, msg, err)
		}
	}
}
