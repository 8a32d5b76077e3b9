package sobol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnscrambledKnownPoints(t *testing.T) {
	// The first points of the Sobol sequence in Joe and Kuo's Gray-code
	// order, as SciPy's qmc.Sobol(d=3, scramble=False) prints them.
	want := [][]float64{
		{0, 0, 0},
		{0.5, 0.5, 0.5},
		{0.75, 0.25, 0.25},
		{0.25, 0.75, 0.75},
		{0.375, 0.375, 0.625},
		{0.875, 0.875, 0.125},
		{0.625, 0.125, 0.875},
		{0.125, 0.625, 0.375},
		{0.1875, 0.3125, 0.9375},
		{0.6875, 0.8125, 0.4375},
	}
	s, err := NewUnscrambledSequence(3)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]float64, len(want))
	for k := range got {
		got[k] = make([]float64, 3)
		s.Point(uint64(k), got[k])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
}

// TestUnscrambledHighDimensions pins coordinates in high dimensions. The
// values come from goptuna's independent generator (sobol/engine.go), which
// gives its dimension j the numbers this package gives dimension j+1 (it
// skips the table's line for dimension 2); every coordinate of points 1 to
// 1023 in all MaxDims dimensions was compared that way once.
func TestUnscrambledHighDimensions(t *testing.T) {
	tests := []struct {
		k    uint64
		dim  int    // 0-based
		want uint64 // coordinate · 2^32
	}{
		{37, 10, 67108864}, {37, 511, 201326592}, {37, 1023, 3154116608},
		{500, 10, 2810183680}, {500, 511, 2961178624}, {500, 1023, 3548381184},
		{1000, 10, 364904448}, {1000, 511, 1698693120}, {1000, 1023, 3066036224},
	}
	s, err := NewUnscrambledSequence(MaxDims)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, MaxDims)
	for _, tc := range tests {
		s.Point(tc.k, dst)
		if got := uint64(dst[tc.dim] * (1 << 32)); got != tc.want {
			t.Errorf("point %d dimension %d = %d·2^-32; want %d·2^-32", tc.k, tc.dim, got, tc.want)
		}
	}
}

func TestNewSequenceDims(t *testing.T) {
	tests := map[string]struct {
		dims    int
		wantErr bool
	}{
		"zero":     {dims: 0, wantErr: true},
		"negative": {dims: -1, wantErr: true},
		"one":      {dims: 1},
		"max":      {dims: MaxDims},
		"too many": {dims: MaxDims + 1, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, mk := range []func(int) (*Sequence, error){
				NewUnscrambledSequence,
				func(d int) (*Sequence, error) { return NewSequence(d, 7) },
			} {
				s, err := mk(tc.dims)
				if tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), "dimensions") {
						t.Errorf("got %v; want a dimensions error", err)
					}
					continue
				}
				if err != nil || s.Dims() != tc.dims {
					t.Errorf("got %v, %v; want %d dimensions", s, err, tc.dims)
				}
			}
		})
	}
}

// TestStratified checks the defining property of a Sobol sequence, which
// Owen scrambling keeps: for every m, each block of 2^m consecutive points
// starting at a multiple of 2^m puts exactly one point in each interval
// [i/2^m, (i+1)/2^m) of every coordinate. It runs over every dimension of
// the table, which also checks that each line yields valid direction
// numbers.
func TestStratified(t *testing.T) {
	const maxM = 10
	seqs := map[string]func() (*Sequence, error){
		"unscrambled": func() (*Sequence, error) { return NewUnscrambledSequence(MaxDims) },
		"seed 1":      func() (*Sequence, error) { return NewSequence(MaxDims, 1) },
		"seed 99":     func() (*Sequence, error) { return NewSequence(MaxDims, 99) },
	}
	for name, mk := range seqs {
		t.Run(name, func(t *testing.T) {
			s, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			const n = 2 << maxM // two blocks of the largest size
			pts := make([][]float64, n)
			for k := range pts {
				pts[k] = make([]float64, MaxDims)
				s.Point(uint64(k), pts[k])
			}
			for m := 1; m <= maxM; m++ {
				size := 1 << m
				for start := 0; start < n; start += size {
					for j := range MaxDims {
						seen := make([]bool, size)
						for k := start; k < start+size; k++ {
							u := pts[k][j]
							if u < 0 || u >= 1 {
								t.Fatalf("point %d coordinate %d = %v, outside [0, 1)", k, j, u)
							}
							cell := int(u * float64(size))
							if seen[cell] {
								t.Fatalf("m=%d, block at %d, dimension %d: two points in cell %d", m, start, j, cell)
							}
							seen[cell] = true
						}
					}
				}
			}
		})
	}
}

func TestScrambleDeterministic(t *testing.T) {
	point := func(seed uint64, k uint64) []float64 {
		s, err := NewSequence(5, seed)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float64, 5)
		s.Point(k, dst)
		return dst
	}
	for k := range uint64(20) {
		if diff := cmp.Diff(point(3, k), point(3, k)); diff != "" {
			t.Errorf("point %d differs between equal seeds:\n%s", k, diff)
		}
	}
	if cmp.Equal(point(3, 1), point(4, 1)) {
		t.Errorf("seeds 3 and 4 give the same point 1 %v", point(3, 1))
	}
	// Scrambling moves the origin.
	origin := point(3, 0)
	for j, u := range origin {
		if u == 0 {
			t.Errorf("scrambled point 0 has coordinate %d at 0: %v", j, origin)
		}
	}
}

func TestPointPeriod(t *testing.T) {
	s, err := NewSequence(2, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]float64, 2), make([]float64, 2)
	s.Point(5, a)
	s.Point(5+1<<32, b)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("point 5 and 5+2^32 differ:\n%s", diff)
	}
}

func BenchmarkPoint(b *testing.B) {
	for _, dims := range []int{2, 8, 64} {
		b.Run(fmt.Sprintf("dims=%d", dims), func(b *testing.B) {
			s, err := NewSequence(dims, 1)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float64, dims)
			var k uint64
			for b.Loop() {
				k++
				s.Point(k, dst)
			}
		})
	}
}
