package metrics_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/metrics"
)

func TestUnmatched(t *testing.T) {
	u := metrics.NewUnmatched([]string{"accuracy", "loss"})
	for _, l := range []string{
		"epoch 1: acc=0.5 loss=0.9 lr = 1e-3",
		"12:00:01 starting",                     // a time, not a metric
		"Epoch 1/3 - loss: 0.3 - accuracy: 0.9", // Keras
		"val_accuracy: 0.8 step=7",              // a longer name is not accuracy
		`{"accuracy": 0.97, "note": "x"}`,       // JSON
		"epoch 2: acc=0.91 name=abc bad=nan",    // acc updated; abc and nan are no values
		"accuracy: high",                        // not a number
		"accuracy: 0.99",                        // latest value kept
	} {
		u.Line([]byte(l))
	}
	if diff := cmp.Diff([]string{"acc=0.91", "lr=1e-3", "step=7"}, u.Pairs()); diff != "" {
		t.Errorf("Pairs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"accuracy: 0.99", "loss: 0.3"}, u.Colons()); diff != "" {
		t.Errorf("Colons (-want +got):\n%s", diff)
	}
}

// TestUnmatchedBounded: however many names a trial prints, Unmatched keeps
// 6 of them and 3 colon-written metrics, and values cut to 24 bytes.
func TestUnmatchedBounded(t *testing.T) {
	names := []string{"m0", "m1", "m2", "m3", "m4"}
	u := metrics.NewUnmatched(names)
	for i := range 10000 {
		u.Line(fmt.Appendf(nil, "other%d=%d m%d: %d", i, i, i%5, i))
	}
	u.Line([]byte("other0=1.00000000000000000000000000000001"))
	p := u.Pairs()
	if len(p) != 6 || p[0] != "other0=1.0000000000000000000000" || p[5] != "other5=5" {
		t.Errorf("Pairs = %q, want other0..other5 with other0's value cut to 24 bytes", p)
	}
	if c := u.Colons(); len(c) != 3 || c[0] != "m0: 9995" {
		t.Errorf("Colons = %q, want 3 names with their latest values", c)
	}
}

// BenchmarkUnmatchedLine measures the cost per line of watching a trial's
// output that never reports its objective: a training log line with an
// unrelated name=value pair and a colon.
func BenchmarkUnmatchedLine(b *testing.B) {
	u := metrics.NewUnmatched([]string{"accuracy", "loss"})
	line := []byte("2026-12-02T08:00:00Z step 1200/5000: lr=0.001 grad_norm=1.25 throughput: 512 samples/s")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		u.Line(line)
	}
}
