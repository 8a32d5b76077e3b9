package local

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEnvEntryWithoutKey: a runner environment entry with an empty key
// ("=x") is rejected, like one without "=".
func TestEnvEntryWithoutKey(t *testing.T) {
	t.Parallel()
	for _, kv := range []string{"=x", "="} {
		spec := specJob(nil)
		spec.Env = []string{"A=1", kv}
		e, err := New(Options{Env: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.plan(spec)
		want := `trial environment entry "` + kv + `" is not KEY=VALUE`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan with env %q: error %v, want one containing %q", kv, err, want)
		}
	}
}

// TestRunnerVariablesOverrideContainerEnv: a variable the runner sets
// (spec.Env) replaces the container's variable of the same name, both in
// the process's environment and in $(VAR) references of the command and
// args; inside the container's own env, a value still sees the variables
// declared before it first, as the kubelet does, and the runner's only for
// names the container has not declared yet.
func TestRunnerVariablesOverrideContainerEnv(t *testing.T) {
	t.Parallel()
	spec := specJob(func(_, c map[string]any) {
		c["env"] = []any{
			map[string]any{"name": "A", "value": "container"},
			map[string]any{"name": "B", "value": "$(A)+$(R)"},
		}
		c["args"] = []any{"$(A)", "$(B)", "$(R)"}
	})
	spec.Env = []string{"A=runner", "R=r"}
	e, err := New(Options{Env: []string{"A=base", "R=base"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"python", "train.py", "runner", "container+r", "r"}, p.argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A=runner", "R=r", "B=container+r"}, p.env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

// TestFieldRefMetadata: valueFrom.fieldRef metadata.name is the Job's name,
// or the trial's name when the Job has none; metadata.namespace is the
// Job's namespace, or "default".
func TestFieldRefMetadata(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		metadata      map[string]any
		wantName, wNS string
	}{
		"named":   {metadata: map[string]any{"name": "job-7", "namespace": "team"}, wantName: "job-7", wNS: "team"},
		"unnamed": {metadata: map[string]any{}, wantName: "exp-0001", wNS: "default"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := specJob(func(job, c map[string]any) {
				job["metadata"] = tc.metadata
				c["env"] = []any{
					map[string]any{"name": "POD", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
					map[string]any{"name": "NS", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.namespace"}}},
				}
				c["args"] = []any{"$(POD)", "$(NS)"}
			})
			spec.Name = "exp-0001"
			e, err := New(Options{Env: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.plan(spec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"python", "train.py", tc.wantName, tc.wNS}, p.argv); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"POD=" + tc.wantName, "NS=" + tc.wNS}, p.env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJobDeadlineTie: when the Job and its pod template set the same
// activeDeadlineSeconds, the limit is named after the Job's field; when
// they differ, after the smaller one.
func TestJobDeadlineTie(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		job, pod int
		want     deadline
	}{
		{30, 30, deadline{seconds: 30, field: "spec.activeDeadlineSeconds"}},
		{30, 29, deadline{seconds: 29, field: "spec.template.spec.activeDeadlineSeconds"}},
		{29, 30, deadline{seconds: 29, field: "spec.activeDeadlineSeconds"}},
	} {
		spec := specJob(func(job, _ map[string]any) {
			job["spec"].(map[string]any)["activeDeadlineSeconds"] = tc.job
			podSpec(job)["activeDeadlineSeconds"] = tc.pod
		})
		e, err := New(Options{Env: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.plan(spec)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&tc.want, p.deadline, cmp.AllowUnexported(deadline{})); diff != "" {
			t.Errorf("job %d, pod %d: deadline (-want +got):\n%s", tc.job, tc.pod, diff)
		}
	}
}

// TestValueFromUnsupported: each kind of valueFrom the local executor
// cannot resolve is refused by name, and a fieldRef other than
// metadata.name and metadata.namespace by its path.
func TestValueFromUnsupported(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		from map[string]any
		want string
	}{
		"secret":    {map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}, "valueFrom.secretKeyRef is not supported"},
		"configmap": {map[string]any{"configMapKeyRef": map[string]any{"name": "c", "key": "k"}}, "valueFrom.configMapKeyRef is not supported"},
		"resource":  {map[string]any{"resourceFieldRef": map[string]any{"resource": "limits.cpu"}}, "valueFrom.resourceFieldRef is not supported"},
		"file":      {map[string]any{"fileKeyRef": map[string]any{"volumeName": "v", "path": "p", "key": "k"}}, "valueFrom.fileKeyRef is not supported"},
		"pod ip":    {map[string]any{"fieldRef": map[string]any{"fieldPath": "status.podIP"}}, `valueFrom.fieldRef "status.podIP" is not supported by the local executor (only metadata.name and metadata.namespace are)`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := specJob(func(_, c map[string]any) {
				c["env"] = []any{map[string]any{"name": "V", "valueFrom": tc.from}}
			})
			e, err := New(Options{Env: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.plan(spec)
			want := `container "training": env V: ` + tc.want
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("plan error %v, want one containing %q", err, want)
			}
		})
	}
}
