package local

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/trial"
)

// specJob returns a one-container Job spec, edited by edit.
func specJob(edit func(job, c map[string]any)) *trial.Spec {
	c := map[string]any{"name": "training", "image": "python:3.12", "command": []any{"python", "train.py"}}
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": "exp-0001"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers":    []any{c},
			"restartPolicy": "Never",
		}}},
	}
	if edit != nil {
		edit(job, c)
	}
	return &trial.Spec{Name: "exp-0001", Object: job, PrimaryContainer: "training"}
}

func podSpec(job map[string]any) map[string]any {
	return job["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
}

func TestSpecErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts    Options
		spec    *trial.Spec
		wantErr string
	}{
		"nil spec":  {spec: nil, wantErr: "no trial spec"},
		"no object": {spec: &trial.Spec{}, wantErr: "trial spec has no workload object"},
		"argo workflow without templates": {
			spec:    &trial.Spec{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}},
			wantErr: `spec.entrypoint: not set`,
		},
		"tfjob": {
			spec:    &trial.Spec{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "TFJob"}},
			wantErr: `the local executor runs batch/v1 Job and argoproj.io/v1alpha1 Workflow trial templates: kind "TFJob" (apiVersion "kubeflow.org/v1") needs --executor kubernetes`,
		},
		"old job api": {
			spec:    specJob(func(job, _ map[string]any) { job["apiVersion"] = "batch/v1beta1" }),
			wantErr: `kind "Job" (apiVersion "batch/v1beta1") needs --executor kubernetes`,
		},
		"unknown container field": {
			spec:    specJob(func(_, c map[string]any) { c["comand"] = []any{"x"} }),
			wantErr: `decode batch/v1 Job: unknown field "spec.template.spec.containers[0].comand"`,
		},
		"field in the wrong case": {
			spec:    specJob(func(_, c map[string]any) { c["Command"] = c["command"] }),
			wantErr: `unknown field "spec.template.spec.containers[0].Command"`,
		},
		"unknown job fields are all listed": {
			spec: specJob(func(job, _ map[string]any) {
				job["spec"].(map[string]any)["backofLimit"] = 1
				job["metadata"].(map[string]any)["lables"] = map[string]any{}
			}),
			wantErr: "decode batch/v1 Job: unknown field \"metadata.lables\"\nunknown field \"spec.backofLimit\"",
		},
		"wrong type": {
			spec:    specJob(func(_, c map[string]any) { c["command"] = "python train.py" }),
			wantErr: "decode batch/v1 Job: json: cannot unmarshal string into Go struct field Container.spec.template.spec.containers.command of type []string",
		},
		"primary container missing": {
			spec: specJob(func(job, _ map[string]any) {
				podSpec(job)["containers"] = []any{map[string]any{"name": "sidecar", "command": []any{"x"}}}
			}),
			wantErr: `primary container "training" not found in job (containers: "sidecar")`,
		},
		"no primary name, two containers": {
			spec: func() *trial.Spec {
				s := specJob(func(job, c map[string]any) {
					podSpec(job)["containers"] = []any{c, map[string]any{"name": "sidecar", "command": []any{"x"}}}
				})
				s.PrimaryContainer = ""
				return s
			}(),
			wantErr: "job has 2 containers and no primaryContainerName says which one to run",
		},
		"no command": {
			spec:    specJob(func(_, c map[string]any) { delete(c, "command"); c["args"] = []any{"--lr=0.1"} }),
			wantErr: `container "training" has no command: the local executor cannot run an image's entrypoint`,
		},
		"envFrom": {
			spec: specJob(func(_, c map[string]any) {
				c["envFrom"] = []any{map[string]any{"configMapRef": map[string]any{"name": "cfg"}}}
			}),
			wantErr: `container "training": envFrom is not supported by the local executor`,
		},
		"secret env": {
			spec: specJob(func(_, c map[string]any) {
				c["env"] = []any{map[string]any{"name": "TOKEN", "valueFrom": map[string]any{
					"secretKeyRef": map[string]any{"name": "s", "key": "k"}}}}
			}),
			wantErr: `container "training": env TOKEN: valueFrom.secretKeyRef is not supported by the local executor`,
		},
		"unsupported fieldRef": {
			spec: specJob(func(_, c map[string]any) {
				c["env"] = []any{map[string]any{"name": "IP", "valueFrom": map[string]any{
					"fieldRef": map[string]any{"fieldPath": "status.podIP"}}}}
			}),
			wantErr: `container "training": env IP: valueFrom.fieldRef "status.podIP" is not supported by the local executor`,
		},
		"gpu without gpus": {
			spec: specJob(func(_, c map[string]any) {
				c["resources"] = map[string]any{"limits": map[string]any{"nvidia.com/gpu": 1}}
			}),
			wantErr: `container "training" requests 1 nvidia.com/gpu but the local executor has no GPUs configured`,
		},
		"more gpus than configured": {
			opts: Options{GPUs: []string{"0", "1"}},
			spec: specJob(func(_, c map[string]any) {
				c["resources"] = map[string]any{"limits": map[string]any{"nvidia.com/gpu": "3"}}
			}),
			wantErr: `container "training" requests 3 nvidia.com/gpu but the local executor has only 2`,
		},
		"fractional gpu": {
			opts: Options{GPUs: []string{"0"}},
			spec: specJob(func(_, c map[string]any) {
				c["resources"] = map[string]any{"limits": map[string]any{"nvidia.com/gpu": "500m"}}
			}),
			wantErr: `container "training": nvidia.com/gpu must be a whole, non-negative number, not 500m`,
		},
		"zero activeDeadlineSeconds": {
			spec:    specJob(func(job, _ map[string]any) { job["spec"].(map[string]any)["activeDeadlineSeconds"] = 0 }),
			wantErr: "spec.activeDeadlineSeconds must be a positive number of seconds, not 0",
		},
		"negative pod activeDeadlineSeconds": {
			spec:    specJob(func(job, _ map[string]any) { podSpec(job)["activeDeadlineSeconds"] = -5 }),
			wantErr: "spec.template.spec.activeDeadlineSeconds must be a positive number of seconds, not -5",
		},
		"negative backoffLimit": {
			spec:    specJob(func(job, _ map[string]any) { job["spec"].(map[string]any)["backoffLimit"] = -1 }),
			wantErr: "spec.backoffLimit must not be negative, not -1",
		},
		"bad runner env": {
			spec:    func() *trial.Spec { s := specJob(nil); s.Env = []string{"NOEQUALS"}; return s }(),
			wantErr: `trial environment entry "NOEQUALS" is not KEY=VALUE`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Check(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check error = %v, want one containing %q", err, tc.wantErr)
			}
			res, err := e.Run(t.Context(), tc.spec, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Run = %+v, %v, want error containing %q", res, err, tc.wantErr)
			}
		})
	}
}

func TestCheckAcceptsRunnableJob(t *testing.T) {
	t.Parallel()
	spec := specJob(func(job, c map[string]any) {
		job["metadata"].(map[string]any)["labels"] = map[string]any{"app": "x"}
		c["resources"] = map[string]any{"limits": map[string]any{"cpu": "500m", "memory": "1Gi"}}
		c["ports"] = []any{map[string]any{"containerPort": 8080}}
		podSpec(job)["initContainers"] = []any{map[string]any{"name": "init", "image": "busybox"}}
	})
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Check(spec); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestEnvReferences is the kubelet's TestMapReference: each env value may
// reference the variables declared before it.
func TestEnvReferences(t *testing.T) {
	t.Parallel()
	spec := specJob(func(_, c map[string]any) {
		c["env"] = []any{
			map[string]any{"name": "FOO", "value": "bar"},
			map[string]any{"name": "ZOO", "value": "$(FOO)-1"},
			map[string]any{"name": "BLU", "value": "$(ZOO)-2"},
		}
		c["args"] = []any{"$(BLU)", "$(TUNE_TRIAL_DIR)/model"}
	})
	spec.Env = []string{"TUNE_TRIAL_DIR=/t/1"}
	e, err := New(Options{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := &plan{
		argv: []string{"python", "train.py", "bar-1-2", "/t/1/model"},
		env:  []string{"FOO=bar", "ZOO=bar-1", "BLU=bar-1-2", "TUNE_TRIAL_DIR=/t/1"},
		// What a container runtime would use (ignored on the host).
		name: "exp-0001", image: "python:3.12",
	}
	if diff := cmp.Diff(want, p, cmp.AllowUnexported(plan{})); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestWorkingDir(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		optsDir, workingDir, want string
	}{
		"default":                       {want: ""},
		"options dir":                   {optsDir: "/runs", want: "/runs"},
		"absolute":                      {optsDir: "/runs", workingDir: "/work", want: "/work"},
		"relative to options dir":       {optsDir: "/runs", workingDir: "src", want: "/runs/src"},
		"relative to current directory": {workingDir: "src", want: "src"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := specJob(func(_, c map[string]any) {
				if tc.workingDir != "" {
					c["workingDir"] = tc.workingDir
				}
			})
			e, err := New(Options{Dir: tc.optsDir})
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.plan(spec)
			if err != nil {
				t.Fatal(err)
			}
			if p.dir != tc.want {
				t.Errorf("dir = %q, want %q", p.dir, tc.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts    Options
		wantErr string
	}{
		"negative grace": {opts: Options{KillGrace: -1}, wantErr: "local executor: negative kill grace -1ns"},
		"negative tail":  {opts: Options{StderrTail: -1}, wantErr: "local executor: negative stderr tail -1"},
		"negative delay": {opts: Options{RetryDelay: -time.Second}, wantErr: "local executor: negative retry delay -1s"},
		"empty gpu":      {opts: Options{GPUs: []string{""}}, wantErr: `local executor: invalid GPU id ""`},
		"comma gpu":      {opts: Options{GPUs: []string{"0,1"}}, wantErr: `local executor: invalid GPU id "0,1"`},
		"repeated gpu":   {opts: Options{GPUs: []string{"0", "0"}}, wantErr: `local executor: GPU id "0" listed twice`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.opts)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("New error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestEnvList(t *testing.T) {
	t.Parallel()
	var l envList
	l.set("A", "1")
	l.set("B", "2")
	l.set("A", "3")
	if diff := cmp.Diff([]string{"A=3", "B=2"}, l.list()); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	got := setEnv([]string{"X=1", "CUDA_VISIBLE_DEVICES=7", "Y=2"}, "CUDA_VISIBLE_DEVICES", "")
	if diff := cmp.Diff([]string{"X=1", "Y=2", "CUDA_VISIBLE_DEVICES="}, got); diff != "" {
		t.Errorf("setEnv (-want +got):\n%s", diff)
	}
	if v, ok := getEnv(got, "Y"); !ok || v != "2" {
		t.Errorf("getEnv = %q, %v", v, ok)
	}
}
