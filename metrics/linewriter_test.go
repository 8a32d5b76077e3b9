package metrics_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
)

// collect returns a LineWriter with limit maxLine that appends copies of
// the lines it delivers to *lines.
func collect(maxLine int, lines *[]string) *metrics.LineWriter {
	return metrics.NewLineWriter(maxLine, func(b []byte) {
		*lines = append(*lines, string(b))
	})
}

func TestLineWriter(t *testing.T) {
	tests := map[string]struct {
		maxLine int
		chunks  []string
		want    []string
	}{
		"one write": {
			chunks: []string{"a=1\nb=2\n"},
			want:   []string{"a=1", "b=2"},
		},
		"split mid-line": {
			chunks: []string{"epoch 1: lo", "ss=0.", "23\nacc", "uracy=0.9", "1\n"},
			want:   []string{"epoch 1: loss=0.23", "accuracy=0.91"},
		},
		"byte by byte": {
			chunks: strings.Split("ab\ncd\n", ""),
			want:   []string{"ab", "cd"},
		},
		"crlf": {
			chunks: []string{"a=1\r\nb=2\r", "\n\r\n"},
			want:   []string{"a=1", "b=2", ""},
		},
		"only one cr removed": {
			chunks: []string{"a\r\r\n"},
			want:   []string{"a\r"},
		},
		"empty lines": {
			chunks: []string{"\n\n", "", "x\n"},
			want:   []string{"", "", "x"},
		},
		"close delivers last partial line": {
			chunks: []string{"a\nlast", " line"},
			want:   []string{"a", "last line"},
		},
		"close delivers nothing after newline": {
			chunks: []string{"a\n"},
			want:   []string{"a"},
		},
		"long line in one write": {
			maxLine: 4,
			chunks:  []string{"abcdefgh\nxy\n"},
			want:    []string{"abcd", "xy"},
		},
		"long line in chunks": {
			maxLine: 4,
			chunks:  []string{"ab", "cdef", "gh", "ij\nxy\n"},
			want:    []string{"abcd", "xy"},
		},
		"exactly max with crlf": {
			maxLine: 4,
			chunks:  []string{"ab", "cd\r", "\nabcd\r\n"},
			want:    []string{"abcd", "abcd"},
		},
		"max plus one": {
			maxLine: 4,
			chunks:  []string{"abcde", "\n"},
			want:    []string{"abcd"},
		},
		"long unterminated line on close": {
			maxLine: 4,
			chunks:  []string{"abcdefgh"},
			want:    []string{"abcd"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			w := collect(tc.maxLine, &got)
			for _, c := range tc.chunks {
				n, err := w.Write([]byte(c))
				if n != len(c) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", c, n, err, len(c))
				}
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineWriterAfterClose(t *testing.T) {
	var got []string
	w := collect(0, &got)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("a\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: error %v, want os.ErrClosed", err)
	}
	if len(got) != 0 {
		t.Errorf("lines = %q, want none", got)
	}
}

func TestLineWriterHugeLine(t *testing.T) {
	const (
		maxLine = 64 << 10
		size    = 10 << 20
	)
	huge := bytes.Repeat([]byte("x"), size)
	for _, chunk := range []int{size, 32 << 10, 4093} {
		var lens []int
		w := metrics.NewLineWriter(maxLine, func(b []byte) { lens = append(lens, len(b)) })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for p := huge; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := w.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if _, err := io.WriteString(w, "\nloss=1\n"); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if diff := cmp.Diff([]int{maxLine, len("loss=1")}, lens); diff != "" {
			t.Errorf("chunk %d: line lengths (-want +got):\n%s", chunk, diff)
		}
		// The writer buffers at most maxLine+1 bytes, however long the line.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*maxLine {
			t.Errorf("chunk %d: writing a %d-byte line allocated %d bytes, want at most %d", chunk, size, alloc, 4*maxLine)
		}
	}
}

func TestLineWriterDiscardingDoesNotAllocate(t *testing.T) {
	w := metrics.NewLineWriter(1024, func([]byte) {})
	chunk := bytes.Repeat([]byte("y"), 8192)
	if _, err := w.Write(chunk); err != nil { // fills the buffer
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { w.Write(chunk) }); n != 0 {
		t.Errorf("Write while discarding a long line: %v allocations, want 0", n)
	}
}

func BenchmarkLineWriter(b *testing.B) {
	var text bytes.Buffer
	for i := 0; text.Len() < 1<<20; i++ {
		text.WriteString("2024-05-01T12:00:00Z epoch 7: loss=0.2314 accuracy=0.9132 val-loss=0.3051\n")
		text.WriteString("Epoch 3/10 - 1250/1250 [==============================] - 12s 9ms/step\n")
	}
	data := text.Bytes()
	for _, chunk := range []int{32 << 10, 100} {
		b.Run("chunk="+strconv.Itoa(chunk), func(b *testing.B) {
			lines := 0
			w := metrics.NewLineWriter(0, func([]byte) { lines++ })
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for p := data; len(p) > 0; {
					n := min(chunk, len(p))
					w.Write(p[:n])
					p = p[n:]
				}
			}
		})
	}
}
