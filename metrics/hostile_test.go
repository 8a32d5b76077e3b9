package metrics_test

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
)

// wantLines returns what a LineWriter with limit maxLine delivers for data:
// each line without its "\n", without a "\r" before it unless the line
// was too long to keep whole, and cut to maxLine bytes.
func wantLines(data []byte, maxLine int) []string {
	var out []string
	for len(data) > 0 {
		line, rest, found := bytes.Cut(data, []byte("\n"))
		if len(line) <= maxLine+1 {
			line = bytes.TrimSuffix(line, []byte("\r"))
		}
		out = append(out, string(line[:min(len(line), maxLine)]))
		if !found {
			break
		}
		data = rest
	}
	return out
}

// FuzzLineWriter writes data to a LineWriter in chunks whose sizes come
// from cuts: whatever the chunking, the lines delivered must be those of
// data, cut to the limit, and no delivered line may exceed the limit.
func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("loss=1\naccuracy=0.5\r\nlast"), []byte{3, 1, 200}, uint8(8))
	f.Add([]byte("\r\n\n\r\r\n"), []byte{1}, uint8(1))
	f.Add([]byte(strings.Repeat("x", 300)+"\nshort\n"), []byte{7, 0, 255}, uint8(16))
	f.Add([]byte("12345678\r\n123456789\r\n"), []byte{9, 9}, uint8(8))
	f.Add([]byte(""), []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, limit uint8) {
		maxLine := int(limit%64) + 1
		var got []string
		w := metrics.NewLineWriter(maxLine, func(b []byte) {
			if len(b) > maxLine {
				t.Fatalf("line of %d bytes delivered, limit %d", len(b), maxLine)
			}
			got = append(got, string(b))
		})
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				c := int(cuts[i%len(cuts)])
				if c == 0 {
					// An empty write, then one byte to make progress.
					if n, err := w.Write(nil); err != nil || n != 0 {
						t.Fatalf("Write(nil) = %d, %v", n, err)
					}
					c = 1
				}
				n = min(n, c)
			}
			if m, err := w.Write(rest[:n]); err != nil || m != n {
				t.Fatalf("Write = %d, %v; want %d", m, err, n)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantLines(data, maxLine), got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})
}

// lazyReader produces left bytes: prefix, then copies of filler, made as
// they are read so that the stream takes no memory. (Filling with copy
// rather than a loop keeps it fast under -race.)
type lazyReader struct {
	prefix []byte
	filler []byte
	left   int64
}

func (r *lazyReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	n := copy(p, r.prefix)
	r.prefix = r.prefix[n:]
	for n < len(p) {
		n += copy(p[n:], r.filler)
	}
	r.left -= int64(len(p))
	return len(p), nil
}

// TestHugeLineStreamed sends a trial's 1 GB line with no newline through a
// LineWriter and a TextParser, as the runner does. The line is delivered
// once, cut to DefaultMaxLine, and the whole stream allocates less than
// 16 MiB. With -short the line is 256 MB.
func TestHugeLineStreamed(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 256 << 20
	}
	p, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	var (
		lines int
		got   []metrics.Log
	)
	w := metrics.NewLineWriter(0, func(line []byte) {
		lines++
		if len(line) != metrics.DefaultMaxLine {
			t.Errorf("line of %d bytes, want %d", len(line), metrics.DefaultMaxLine)
		}
		logs, _ := p.ParseLine(line, now)
		got = append(got, logs...)
	})
	r := &lazyReader{prefix: []byte("loss=0.5 "), filler: bytes.Repeat([]byte("a"), 4096), left: size}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.CopyBuffer(w, r, make([]byte, 64<<10))
	if err == nil {
		err = w.Close()
	}
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("copied %d bytes, %v; want %d", n, err, size)
	}
	if lines != 1 || len(got) != 1 || got[0].Value != 0.5 {
		t.Errorf("%d lines, logs %v; want one line with loss=0.5", lines, got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("streaming %d bytes allocated %d MiB, want < 16 MiB", size, alloc>>20)
	}
}

func TestHostileMetricValues(t *testing.T) {
	// Text a custom format matches ("garbage", "½") is kept as text, as
	// Katib keeps it; see TestParseLine.
	values := []string{"NaN", "nan", "+Inf", "-Inf", "inf", "Infinity", "1e999", "-1e999", "1e-400", "-2.5e-999", "0x1p-2", "0X10", "1_000", "0x_1p0", "", "-", "\x00", "\x1b[31m"}
	formats := map[string][]string{
		"default":    nil,
		"permissive": {`(\w+)=(\S*)`},
	}
	for fname, fs := range formats {
		p, err := metrics.NewTextParser(fs, []string{"loss"})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			line := "loss=" + v
			logs, invalid := p.ParseLine([]byte(line), now)
			if len(logs) != 0 {
				t.Errorf("%s format: %q gave logs %v, want none", fname, line, logs)
			}
			if len(invalid) != 1 || invalid[0] != line {
				t.Errorf("%s format: %q reported as invalid %q, want [%q]", fname, line, invalid, line)
			}
		}
	}
	// Decimal numbers with units still count.
	p, err := metrics.NewTextParser(nil, []string{"loss"})
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]float64{"loss=0.25s": 0.25, "loss=91%": 91, "loss=1e-3,": 0.001, "loss=0": 0} {
		logs, invalid := p.ParseLine([]byte(line), now)
		if len(logs) != 1 || logs[0].Value != want || len(invalid) != 0 {
			t.Errorf("%q: logs %v, invalid %q; want %v", line, logs, invalid, want)
		}
	}
}

func TestRecorderIgnoresNonFinite(t *testing.T) {
	r := metrics.NewRecorder(nil, 0)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r.Add(metrics.Log{Metric: "loss", Value: v, Step: -1})
	}
	if v, ok := r.Value("loss"); ok {
		t.Errorf("Value = %v, true; want no value from NaN and ±Inf", v)
	}
	if logs, _ := r.Drain(); len(logs) != 0 {
		t.Errorf("Drain = %v, want nothing", logs)
	}
}
