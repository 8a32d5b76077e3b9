package metrics_test

import (
	"bytes"
	"testing"

	"github.com/tune-hpo/tune/metrics"
)

// BenchmarkStream measures the StdOut path as a trial's output takes it: a
// LineWriter cutting the stream into lines, each parsed with Katib's
// default format for three metrics; one line in a hundred reports them.
//
//	go test ./metrics -run '^$' -bench Stream -cpu 1 -benchmem
func BenchmarkStream(b *testing.B) {
	var log bytes.Buffer
	if err := metrics.SyntheticLog(&log, 8<<20); err != nil {
		b.Fatal(err)
	}
	benchmarkStream(b, log.Bytes())
}

// BenchmarkStreamKeras is BenchmarkStream on a log whose progress bars
// also name the metrics, Keras style ("- loss: 0.2314 - accuracy: 0.9132"),
// so that the parser's cheap rejection of lines without a metric name
// does not apply to a sixth of the lines: they are scanned for name=value
// pairs and hold none.
func BenchmarkStreamKeras(b *testing.B) {
	var log bytes.Buffer
	if err := metrics.SyntheticLog(&log, 8<<20); err != nil {
		b.Fatal(err)
	}
	data := bytes.ReplaceAll(log.Bytes(), []byte("- lr: 0.0010\n"), []byte("- loss: 0.2314 - accuracy: 0.9132 - lr: 0.0010\n"))
	if len(data) == log.Len() {
		b.Fatal("no progress bars to rewrite")
	}
	benchmarkStream(b, data)
}

func benchmarkStream(b *testing.B, data []byte) {
	p, err := metrics.NewTextParser(nil, []string{"loss", "accuracy", "val-loss"})
	if err != nil {
		b.Fatal(err)
	}
	found := 0
	lw := metrics.NewLineWriter(0, func(line []byte) {
		logs, _ := p.ParseLine(line, now)
		found += len(logs)
	})
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 32<<10) // pipe-sized writes
			lw.Write(rest[:n])
			rest = rest[n:]
		}
	}
	lw.Close()
	if found == 0 {
		b.Fatal("no metrics found")
	}
}

// TestSyntheticLog checks the benchmark's input: its size, and one metric
// line in a hundred, each giving two values.
func TestSyntheticLog(t *testing.T) {
	var log bytes.Buffer
	if err := metrics.SyntheticLog(&log, 1<<20); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 1<<20 {
		t.Errorf("%d bytes, want %d", log.Len(), 1<<20)
	}
	p, err := metrics.NewTextParser(nil, []string{"loss", "accuracy"})
	if err != nil {
		t.Fatal(err)
	}
	lines, withMetrics := 0, 0
	for line := range bytes.Lines(log.Bytes()) {
		lines++
		if logs, _ := p.ParseLine(line, now); len(logs) > 0 {
			withMetrics++
			if len(logs) != 2 {
				t.Fatalf("line %q gave %v", line, logs)
			}
		}
	}
	if ratio := float64(lines) / float64(withMetrics); ratio < 95 || ratio > 105 {
		t.Errorf("%d lines, %d with metrics: want about 1 in 100", lines, withMetrics)
	}
}
