package manifest_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tune-hpo/tune/trial/manifest"
)

func TestIsKind(t *testing.T) {
	tests := []struct {
		obj  map[string]any
		gvk  string
		want bool
	}{
		{map[string]any{"apiVersion": "batch/v1", "kind": "Job"}, "job", true},
		{map[string]any{"apiVersion": "batch/v1beta1", "kind": "Job"}, "job", false},
		{map[string]any{"apiVersion": "batch/v1", "kind": "job"}, "job", false},
		{map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}, "workflow", true},
		{map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}, "job", false},
		{map[string]any{"apiVersion": 1, "kind": "Job"}, "job", false},
		{nil, "job", false},
	}
	for _, tt := range tests {
		gvk := manifest.JobGVK
		if tt.gvk == "workflow" {
			gvk = manifest.WorkflowGVK
		}
		if got := manifest.IsKind(tt.obj, gvk); got != tt.want {
			t.Errorf("IsKind(%v, %v) = %v, want %v", tt.obj, gvk, got, tt.want)
		}
	}
}

func TestDecodeJob(t *testing.T) {
	data := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"labels":{"a":"b"}},
		"spec":{"backoffLimit":2,"template":{"spec":{"restartPolicy":"Never",
		"containers":[{"name":"main","command":["python"],"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}}}`
	var job batchv1.Job
	if err := manifest.Decode([]byte(data), &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Labels["a"] != "b" || *job.Spec.BackoffLimit != 2 ||
		job.Spec.Template.Spec.Containers[0].Command[0] != "python" {
		t.Errorf("decoded %+v", job)
	}
	if q := job.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"]; q.Value() != 1 {
		t.Errorf("gpu limit = %s, want 1", q.String())
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]struct {
		data string
		into any
		want string
	}{
		"unknown field, with its path": {
			data: `{"spec":{"template":{"spec":{"containers":[{"name":"a","imagee":"x"}]}}}}`,
			into: new(batchv1.Job),
			want: `unknown field "spec.template.spec.containers[0].imagee"`,
		},
		"field in the wrong case": {
			data: `{"spec":{"template":{"spec":{"containers":[{"name":"a","Command":["x"]}]}}}}`,
			into: new(batchv1.Job),
			want: `unknown field "spec.template.spec.containers[0].Command"`,
		},
		"all unknown fields, in key order, before type errors": {
			data: `{"spec":{"backofLimit":1,"parallelism":"x"},"metadata":{"lables":{}}}`,
			into: new(batchv1.Job),
			want: "unknown field \"metadata.lables\"\nunknown field \"spec.backofLimit\"",
		},
		"wrong type": {
			data: `{"spec":{"template":{"spec":{"containers":[{"name":"a","command":"python"}]}}}}`,
			into: new(batchv1.Job),
			want: "json: cannot unmarshal string into Go struct field Container.spec.template.spec.containers.command of type []string",
		},
		"duplicate field": {
			data: `{"kind":"Job","kind":"Job"}`,
			into: new(batchv1.Job),
			want: `duplicate field "kind"`,
		},
		"invalid quantity": {
			data: `{"spec":{"template":{"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"lots"}}}]}}}}`,
			into: new(batchv1.Job),
			want: "quantities must match the regular expression",
		},
		"workflow field under a map entry": {
			data: `{"spec":{"entryPoint":"main"},"status":{"nodes":{"n1":{"id":"n1","bogus":1}}}}`,
			into: new(wfv1.Workflow),
			want: "unknown field \"spec.entryPoint\"\nunknown field \"status.nodes.n1.bogus\"",
		},
		"not JSON": {
			data: `{`,
			into: new(batchv1.Job),
			want: "unexpected end of JSON input",
		},
		"not a pointer": {
			data: `{}`,
			into: batchv1.Job{},
			want: "not a pointer",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := manifest.Decode([]byte(tt.data), tt.into)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want it to contain %q", err, tt.want)
			}
			// DecodeObject gives the same error for the same object;
			// a map cannot hold a duplicate field.
			var obj map[string]any
			if json.Unmarshal([]byte(tt.data), &obj) != nil || strings.Contains(name, "duplicate") {
				return
			}
			if oerr := manifest.DecodeObject(obj, tt.into); fmt.Sprint(oerr) != fmt.Sprint(err) {
				t.Errorf("DecodeObject error = %v, want Decode's: %v", oerr, err)
			}
		})
	}
}

// TestDecodeObjectTypedValues checks that an object holding typed maps and
// slices, which the field check does not walk, is checked all the same:
// unknown fields are reported, before type errors.
func TestDecodeObjectTypedValues(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []map[string]any{{"name": "a", "imagee": "x", "args": []string{"--lr=1"}}},
	}}}}
	obj["spec"].(map[string]any)["parallelism"] = "two"
	if err := manifest.DecodeObject(obj, new(batchv1.Job)); fmt.Sprint(err) != `unknown field "spec.template.spec.containers[0].imagee"` {
		t.Errorf("DecodeObject error = %v, want only the unknown field", err)
	}
	delete(obj["spec"].(map[string]any), "parallelism")
	err := manifest.DecodeObject(obj, new(batchv1.Job))
	if want := `unknown field "spec.template.spec.containers[0].imagee"`; fmt.Sprint(err) != want {
		t.Errorf("DecodeObject error = %v, want %s", err, want)
	}
	obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]map[string]any)[0]["image"] = "x"
	delete(obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]map[string]any)[0], "imagee")
	var job batchv1.Job
	if err := manifest.DecodeObject(obj, &job); err != nil {
		t.Fatal(err)
	}
	if c := job.Spec.Template.Spec.Containers[0]; c.Image != "x" || c.Args[0] != "--lr=1" {
		t.Errorf("decoded container %+v", c)
	}
}

func TestPrimaryContainer(t *testing.T) {
	one := []corev1.Container{{Name: "main"}}
	two := []corev1.Container{{Name: "main"}, {Name: "sidecar"}}
	tests := []struct {
		containers []corev1.Container
		name       string
		want       string // "" = nil
	}{
		{one, "", "main"},
		{one, "main", "main"},
		{one, "other", ""},
		{two, "", ""},
		{two, "sidecar", "sidecar"},
		{nil, "", ""},
		{nil, "main", ""},
	}
	for _, tt := range tests {
		got := manifest.PrimaryContainer(tt.containers, tt.name)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("PrimaryContainer(%v, %q) = %q, want none", manifest.ContainerNames(tt.containers), tt.name, got.Name)
		case tt.want != "" && (got == nil || got.Name != tt.want):
			t.Errorf("PrimaryContainer(%v, %q) = %v, want %q", manifest.ContainerNames(tt.containers), tt.name, got, tt.want)
		}
	}
	if got := manifest.PrimaryContainer(two, "sidecar"); got != &two[1] {
		t.Error("PrimaryContainer returned a copy, want the element itself")
	}
	if diff := cmp.Diff([]string{"main", "sidecar"}, manifest.ContainerNames(two)); diff != "" {
		t.Errorf("ContainerNames (-want +got):\n%s", diff)
	}
}

func TestDecodesItself(t *testing.T) {
	tests := []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[resource.Quantity](), true}, // pointer receiver
		{reflect.TypeFor[*resource.Quantity](), true},
		{reflect.TypeFor[metav1.Time](), true},
		{reflect.TypeFor[intstr.IntOrString](), true},
		{reflect.TypeFor[valueReceiver](), true},
		{reflect.TypeFor[corev1.Container](), false},
		{reflect.TypeFor[map[string]string](), false},
		{reflect.TypeFor[string](), false},
	}
	for _, tt := range tests {
		if got := manifest.DecodesItself(tt.t); got != tt.want {
			t.Errorf("DecodesItself(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

type valueReceiver struct{}

func (valueReceiver) UnmarshalJSON([]byte) error { return nil }

type Inline struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type outer struct {
	Inline   `json:",inline"`
	Name     int    `json:"name"`
	Plain    bool   // no tag: the Go name
	Skipped  string `json:"-"`
	hidden   string
	Optional *int `json:"optional,omitempty"`
}

func TestFields(t *testing.T) {
	got := manifest.Fields(reflect.TypeFor[outer]())
	want := map[string]reflect.Type{
		"kind":     reflect.TypeFor[string](),
		"name":     reflect.TypeFor[int](), // the outer field wins
		"Plain":    reflect.TypeFor[bool](),
		"optional": reflect.TypeFor[*int](),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b reflect.Type) bool { return a == b })); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
	_ = outer{}.hidden
}
