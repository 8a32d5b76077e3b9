package grid

import "math/bits"

// identity is the grid's declared order.
func identity(i int) int { return i }

// permutation is a pseudorandom bijection of [0, n) chosen by a seed: a
// four-round Feistel network on the smallest even number of bits that
// holds n-1, walked until it lands below n. It is computed per index, so a
// grid of any size is shuffled without being materialised, and the same
// seed and size always give the same order.
type permutation struct {
	n    uint64
	half uint // bits in each half
	mask uint64
	keys [4]uint64
}

func newPermutation(n int, seed uint64) *permutation {
	b := uint(bits.Len64(uint64(max(n-1, 1))))
	b += b & 1
	p := &permutation{n: uint64(n), half: b / 2, mask: 1<<(b/2) - 1}
	x := seed
	for r := range p.keys {
		x += 0x9e3779b97f4a7c15
		p.keys[r] = mix(x)
	}
	return p
}

// at returns the index visited i-th, 0 ≤ i < n.
func (p *permutation) at(i int) int {
	x := uint64(i)
	for {
		x = p.encrypt(x)
		if x < p.n {
			return int(x)
		}
		// x is outside the grid but inside the network's domain: the
		// cycle through x comes back below n, as it started there.
	}
}

func (p *permutation) encrypt(x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for _, k := range p.keys {
		l, r = r, l^(mix(r^k)&p.mask)
	}
	return l<<p.half | r
}

// mix is SplitMix64's finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
