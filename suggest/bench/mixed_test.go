package bench

import (
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestMixed(t *testing.T) {
	checkMinimum(t, mixed(), 1e-12, suggest.Assignment{"x": "1.5", "n": "7", "lr": "0.01", "kind": "b"})
	// The best of every other kind is its offset.
	for kind, want := range map[string]float64{"a": 0.5, "c": 1, "d": 0.25} {
		shift, _, err := mixedKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		got, err := mixedValue(suggest.Assignment{"x": suggest.FormatFloat(shift), "n": "7", "lr": "0.01", "kind": kind})
		if err != nil || got != want {
			t.Errorf("best of kind %s = %v, %v; want %v", kind, got, err, want)
		}
	}
	if _, err := mixedValue(suggest.Assignment{"x": "0", "n": "7", "lr": "0.01", "kind": "e"}); err == nil {
		t.Error("kind e accepted")
	}
}
