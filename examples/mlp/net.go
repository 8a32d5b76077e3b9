package main

import (
	"math"
	"math/rand/v2"
)

// activation names the non-linearity of the hidden layers.
type activation string

const (
	relu activation = "relu"
	tanh activation = "tanh"
)

// mlp is a fully connected network: hidden layers with the same activation,
// then a linear output layer whose logits feed a softmax. It is trained by
// mini-batch SGD with momentum and L2 weight decay. An mlp is not safe for
// concurrent use: it owns its scratch buffers.
type mlp struct {
	sizes []int       // units per layer, input first, classes last
	act   activation  // hidden-layer non-linearity
	w     [][]float64 // w[l]: sizes[l+1]×sizes[l], row-major
	b     [][]float64 // b[l]: sizes[l+1]
	vw    [][]float64 // momentum buffers, shaped like w
	vb    [][]float64 // momentum buffers, shaped like b
	gw    [][]float64 // gradient accumulators, shaped like w
	gb    [][]float64 // gradient accumulators, shaped like b
	a     [][]float64 // a[l]: output of layer l (a[0] is the input)
	delta [][]float64 // delta[l]: d loss / d pre-activation of layer l+1
}

// newMLP returns a network with the given layer sizes, its weights drawn
// from rng: He initialisation for ReLU, Glorot for tanh; biases start at 0.
// With a nil rng every weight is 0.
func newMLP(sizes []int, act activation, rng *rand.Rand) *mlp {
	m := &mlp{sizes: sizes, act: act}
	layers := len(sizes) - 1
	alloc := func(n func(l int) int) [][]float64 {
		s := make([][]float64, layers)
		for l := range s {
			s[l] = make([]float64, n(l))
		}
		return s
	}
	weights := func(l int) int { return sizes[l+1] * sizes[l] }
	units := func(l int) int { return sizes[l+1] }
	m.w, m.vw, m.gw = alloc(weights), alloc(weights), alloc(weights)
	m.b, m.vb, m.gb = alloc(units), alloc(units), alloc(units)
	m.delta = alloc(units)
	m.a = make([][]float64, len(sizes))
	for l := 1; l < len(sizes); l++ {
		m.a[l] = make([]float64, sizes[l])
	}
	if rng == nil {
		return m // weights to be filled in by the caller (loadModel)
	}
	for l := range m.w {
		in, out := float64(sizes[l]), float64(sizes[l+1])
		scale := math.Sqrt(2 / in) // He
		if act == tanh || l == layers-1 {
			scale = math.Sqrt(2 / (in + out)) // Glorot
		}
		for i := range m.w[l] {
			m.w[l][i] = rng.NormFloat64() * scale
		}
	}
	return m
}

// forward runs x through the network and returns the output logits, which
// stay valid until the next call.
func (m *mlp) forward(x []float64) []float64 {
	m.a[0] = x
	last := len(m.w) - 1
	for l, w := range m.w {
		in, out := m.a[l], m.a[l+1]
		n := len(in)
		for i := range out {
			row := w[i*n : (i+1)*n]
			s := m.b[l][i]
			for j, v := range in {
				s += row[j] * v
			}
			if l < last {
				switch m.act {
				case relu:
					s = max(s, 0)
				case tanh:
					s = math.Tanh(s)
				}
			}
			out[i] = s
		}
	}
	return m.a[len(m.a)-1]
}

// softmaxLoss turns logits into probabilities in place and returns the
// cross-entropy of class y, computed stably via log-sum-exp.
func softmaxLoss(logits []float64, y int) float64 {
	hi := logits[0]
	for _, v := range logits[1:] {
		hi = max(hi, v)
	}
	zy := logits[y] - hi
	var sum float64
	for i, v := range logits {
		logits[i] = math.Exp(v - hi)
		sum += logits[i]
	}
	loss := math.Log(sum) - zy
	for i := range logits {
		logits[i] /= sum
	}
	return loss
}

// accumulate runs one example forward and backward, adds its gradient to the
// accumulators and returns its loss.
func (m *mlp) accumulate(x []float64, y int) float64 {
	p := m.forward(x)
	loss := softmaxLoss(p, y)
	last := len(m.w) - 1
	copy(m.delta[last], p)
	m.delta[last][y]--
	for l := last; l >= 0; l-- {
		in, d := m.a[l], m.delta[l]
		n := len(in)
		gw := m.gw[l]
		for i, di := range d {
			if di == 0 {
				continue
			}
			m.gb[l][i] += di
			row := gw[i*n : (i+1)*n]
			for j, v := range in {
				row[j] += di * v
			}
		}
		if l == 0 {
			break
		}
		prev := m.delta[l-1]
		clear(prev)
		w := m.w[l]
		for i, di := range d {
			if di == 0 {
				continue
			}
			row := w[i*n : (i+1)*n]
			for j := range prev {
				prev[j] += di * row[j]
			}
		}
		for j, a := range in {
			switch m.act {
			case relu:
				if a <= 0 {
					prev[j] = 0
				}
			case tanh:
				prev[j] *= 1 - a*a
			}
		}
	}
	return loss
}

// step applies the accumulated gradient of a batch of n examples with
// learning rate lr, momentum mu and L2 weight decay wd (weights only, not
// biases), then clears the accumulators.
func (m *mlp) step(n int, lr, mu, wd float64) {
	inv := 1 / float64(n)
	for l := range m.w {
		w, vw, gw := m.w[l], m.vw[l], m.gw[l]
		for i := range w {
			vw[i] = mu*vw[i] - lr*(gw[i]*inv+wd*w[i])
			w[i] += vw[i]
		}
		b, vb, gb := m.b[l], m.vb[l], m.gb[l]
		for i := range b {
			vb[i] = mu*vb[i] - lr*gb[i]*inv
			b[i] += vb[i]
		}
		clear(gw)
		clear(gb)
	}
}

// finite reports whether every weight and bias is a finite number.
func (m *mlp) finite() bool {
	for l := range m.w {
		for _, s := range [][]float64{m.w[l], m.b[l]} {
			for _, v := range s {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return false
				}
			}
		}
	}
	return true
}

// evaluate returns the mean cross-entropy and the accuracy of the network
// on d.
func (m *mlp) evaluate(d *dataset) (loss, accuracy float64) {
	correct := 0
	for i, x := range d.X {
		logits := m.forward(x)
		best := 0
		for k, v := range logits {
			if v > logits[best] {
				best = k
			}
		}
		if best == d.Y[i] {
			correct++
		}
		loss += softmaxLoss(logits, d.Y[i])
	}
	n := float64(len(d.X))
	return loss / n, float64(correct) / n
}
