// Package manifest decodes the Kubernetes objects of trial templates for
// validation and for both executors: it names the kinds tune decodes into
// typed objects ([JobGVK], [WorkflowGVK]), decodes them strictly, as the API
// server does, reporting every unknown field with its JSON path ([Decode]),
// and finds a Job's primary container ([PrimaryContainer]). It does not
// render templates, submit objects or print. Positions in the experiment
// file are package experiment's business: its YAML walk uses the same field
// rules ([Fields], [DecodesItself]).
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
)

// The kinds decoded into typed objects.
var (
	// JobGVK is batch/v1 Job.
	JobGVK = batchv1.SchemeGroupVersion.WithKind("Job")
	// WorkflowGVK is argoproj.io/v1alpha1 Workflow.
	WorkflowGVK = wfv1.SchemeGroupVersion.WithKind("Workflow")
)

// IsKind reports whether obj, an object in its unstructured form, has the
// apiVersion and kind of gvk.
func IsKind(obj map[string]any, gvk schema.GroupVersionKind) bool {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return apiVersion == gvk.GroupVersion().String() && kind == gvk.Kind
}

// Decode decodes data, one JSON object, into v, a pointer, as the API
// server would, strictly: a field v's type does not have (field names match
// with their case), a duplicate field or a value of the wrong type is an
// error. When there are unknown fields, the error lists them all in key
// order, one per line as errors.Join does, each as `unknown field "PATH"`
// with PATH the field's JSON path (spec.template.spec.containers[0].imagee),
// and nothing else. Otherwise it is the first value of the wrong type or,
// when there is none, every duplicate field (`duplicate field "PATH"`). The
// error has no prefix: callers say what was being decoded.
func Decode(data []byte, v any) error {
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return err
	}
	return decode(data, generic, v)
}

// DecodeObject is [Decode] of obj, an object in its unstructured form (as
// encoding/json decodes a JSON object into an any), with the same checks
// and errors.
func DecodeObject(obj map[string]any, v any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if !unstructured(obj) {
		// Typed maps or slices inside: check the fields of its JSON.
		return Decode(data, v)
	}
	return decode(data, obj, v)
}

// unstructured reports whether v holds no maps or slices but
// map[string]any and []any, which are what unknownFields walks.
func unstructured(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if !unstructured(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !unstructured(e) {
				return false
			}
		}
	default:
		k := reflect.ValueOf(v).Kind()
		return k != reflect.Map && k != reflect.Slice && k != reflect.Array && k != reflect.Pointer && k != reflect.Struct
	}
	return true
}

// decode is [Decode] of data, whose unstructured form is generic.
func decode(data []byte, generic, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("decode into %v: not a pointer", t)
	}
	var unknown []string
	unknownFields("", generic, t.Elem(), &unknown)
	if len(unknown) > 0 {
		errs := make([]error, len(unknown))
		for i, path := range unknown {
			errs[i] = fmt.Errorf("unknown field %q", path)
		}
		return errors.Join(errs...)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// DecodesItself reports whether type t, with its pointers removed,
// implements [json.Unmarshaler] on its value or its pointer (as
// resource.Quantity and metav1.Time do): its JSON is then checked by its own
// UnmarshalJSON, not field by field.
func DecodesItself(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return reflect.PointerTo(t).Implements(jsonUnmarshaler)
}

// unknownFields appends to out, in key order, the paths of the fields of v,
// a decoded JSON value, that type t has no field for. Unlike encoding/json,
// which matches field names without regard to case and names no path, it
// matches them exactly, as the Kubernetes API server does. Values of the
// wrong JSON type, and values whose type decodes itself, are left for the
// decoder.
func unknownFields(path string, v any, t reflect.Type, out *[]string) {
	if DecodesItself(t) {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := Fields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				*out = append(*out, child(path, k))
				continue
			}
			unknownFields(child(path, k), m[k], ft, out)
		}
	case reflect.Slice, reflect.Array:
		s, ok := v.([]any)
		if !ok {
			return
		}
		for i, e := range s {
			unknownFields(fmt.Sprintf("%s[%d]", path, i), e, t.Elem(), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			unknownFields(child(path, k), m[k], t.Elem(), out)
		}
	}
}

// child returns the path of field or map key k under path, written as the
// API server writes it.
func child(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// Fields maps the JSON names of struct type t's fields to their types,
// flattening embedded structs without a name (Kubernetes' ",inline"
// TypeMeta) as encoding/json does: the outer field wins on a clash.
// Unexported fields and fields tagged "-" are left out.
// The map is computed once per type and shared: callers must not modify it.
func Fields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f, _ := fieldCache.LoadOrStore(t, fields(t))
	return f.(map[string]reflect.Type)
}

// fieldCache holds [Fields] by type: a trial's workload is checked field
// by field for every trial.
var fieldCache sync.Map

// fields computes [Fields] of t.
func fields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range Fields(ft) {
					if _, ok := fields[k]; !ok {
						fields[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
