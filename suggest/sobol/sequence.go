package sobol

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// bitsPerCoord is the precision of a coordinate: points are multiples of
// 2^-32, and the sequence has period 2^32.
const bitsPerCoord = 32

// scrambleStream is the PCG stream that derives the per-dimension scrambling
// seeds from a [Sequence]'s seed ("sobol" in ASCII).
const scrambleStream = 0x736f626f6c

// Sequence is a Sobol low-discrepancy sequence in the unit cube [0, 1)^d,
// built from the Joe–Kuo direction numbers in Gray-code order (the order of
// Joe and Kuo's reference generator, of SciPy and of goptuna), optionally
// Owen-scrambled. Points are computed directly from their index, so any
// point can be had without generating the ones before it. A Sequence is
// immutable and safe for concurrent use.
type Sequence struct {
	// v[j][i] is the direction number of dimension j for bit i of the
	// Gray-coded index, as a 32-bit binary fraction.
	v [][bitsPerCoord]uint32
	// seeds[j] scrambles dimension j; nil means no scrambling.
	seeds []uint32
}

// NewSequence returns the d-dimensional Sobol sequence Owen-scrambled by
// seed: each coordinate goes through a nested (Owen) scramble, in which
// every binary digit is flipped or not according to a hash of the seed and
// of the digits above it, Burley's "Practical Hash-based Owen Scrambling"
// (JCGT 9(4), 2020), with a seed per dimension drawn from PCG. The scramble
// keeps the sequence's stratification (every 2^m consecutive points from a
// multiple of 2^m put one point in each of the 2^m equal intervals of every
// coordinate), moves point 0 away from the origin and makes the points of
// different seeds independent. dims must be in [1, MaxDims].
func NewSequence(dims int, seed uint64) (*Sequence, error) {
	s, err := NewUnscrambledSequence(dims)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, scrambleStream))
	s.seeds = make([]uint32, dims)
	for j := range s.seeds {
		s.seeds[j] = r.Uint32()
	}
	return s, nil
}

// NewUnscrambledSequence returns the plain d-dimensional Sobol sequence, as
// Joe and Kuo define it: point 0 is the origin, point 1 is (½, …, ½), and
// the first two coordinates of points 2 and 3 are (¾, ¼) and (¼, ¾). dims
// must be in [1, MaxDims].
func NewUnscrambledSequence(dims int) (*Sequence, error) {
	if dims < 1 || dims > MaxDims {
		return nil, fmt.Errorf("sobol: %d dimensions, want 1 to %d", dims, MaxDims)
	}
	v := make([][bitsPerCoord]uint32, dims)
	// The first dimension has m_i = 1: v_i = 2^-i, the van der Corput
	// sequence.
	for i := range bitsPerCoord {
		v[0][i] = 1 << (bitsPerCoord - 1 - i)
	}
	for j := 1; j < dims; j++ {
		p := joeKuo[j-1]
		s := int(p.s)
		// v[j][i] holds m_{i+1}·2^(32−(i+1)).
		for i := 0; i < s && i < bitsPerCoord; i++ {
			v[j][i] = p.m[i] << (bitsPerCoord - 1 - i)
		}
		// Bratley and Fox's recurrence:
		// v_i = a_1 v_{i−1} ⊕ … ⊕ a_{s−1} v_{i−s+1} ⊕ v_{i−s} ⊕ (v_{i−s} ≫ s).
		for i := s; i < bitsPerCoord; i++ {
			x := v[j][i-s] ^ (v[j][i-s] >> s)
			for k := 1; k < s; k++ {
				if (p.a>>(s-1-k))&1 == 1 {
					x ^= v[j][i-k]
				}
			}
			v[j][i] = x
		}
	}
	return &Sequence{v: v}, nil
}

// Dims returns the number of coordinates of each point.
func (s *Sequence) Dims() int {
	return len(s.v)
}

// Point writes the coordinates of point k into dst, which must have length
// at least [Sequence.Dims]; it panics otherwise. Coordinates lie in [0, 1) and are multiples of
// 2^-32. Only the low 32 bits of k count: the sequence has period 2^32.
func (s *Sequence) Point(k uint64, dst []float64) {
	_ = dst[len(s.v)-1]
	g := uint32(k) ^ uint32(k)>>1 // Gray code of k
	for j := range s.v {
		var x uint32
		for b := g; b != 0; b &= b - 1 {
			x ^= s.v[j][bits.TrailingZeros32(b)]
		}
		if s.seeds != nil {
			x = owen(x, s.seeds[j])
		}
		dst[j] = float64(x) / (1 << bitsPerCoord)
	}
}

// owen applies the nested uniform scramble seeded by seed to the binary
// fraction x: bit b of the result is bit b of x flipped by a hash of seed
// and the bits of x above b. Reversing the bits turns "above" into "below",
// where multiplication and addition carry information only upwards.
func owen(x, seed uint32) uint32 {
	x = bits.Reverse32(x)
	x ^= x * 0x3d20adea
	x += seed
	x *= (seed >> 16) | 1
	x ^= x * 0x05526c56
	x ^= x * 0x53a22864
	return bits.Reverse32(x)
}
