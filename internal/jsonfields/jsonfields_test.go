package jsonfields_test

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/internal/jsonfields"
)

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

func TestOf(t *testing.T) {
	got := jsonfields.Of(reflect.TypeFor[outer]())
	want := map[string]reflect.Type{
		"kind":     reflect.TypeFor[string](),
		"name":     reflect.TypeFor[int](), // the outer field wins
		"Plain":    reflect.TypeFor[bool](),
		"optional": reflect.TypeFor[*int](),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b reflect.Type) bool { return a == b })); diff != "" {
		t.Errorf("Of (-want +got):\n%s", diff)
	}
	_ = outer{}.hidden
}
