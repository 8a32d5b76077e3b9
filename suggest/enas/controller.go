package enas

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// config is the controller's shape and settings.
type config struct {
	layers, ops, hidden int
	temperature         float64 // 0: none
	tanhConst           float64 // 0: none
	entropyWeight       float64 // 0: none
	baselineDecay       float64
	learningRate        float64
	skipTarget          float64
	skipWeight          float64 // 0: none
	trainSteps          int
}

// net is the controller's parameters, or their gradient, as views on one
// flat slice (for Adam), laid out as Katib's Controller.py declares them.
type net struct {
	flat []float64
	lstm *mat.Dense    // 2H×4H: [x, h] → gates i, f, o, g
	gEmb *mat.VecDense // H: the first input
	emb  *mat.Dense    // ops×H: an operation's embedding, the next input
	soft *mat.Dense    // H×ops: h → operation logits
	w1   *mat.Dense    // H×H: attention, the earlier layer's side
	w2   *mat.Dense    // H×H: attention, the current layer's side
	v    *mat.VecDense // H: attention, to a scalar
}

func numParams(c *config) int {
	h := c.hidden
	return 2*h*4*h + h + c.ops*h + h*c.ops + 2*h*h + h
}

// newNet lays a net out on flat, which must have numParams(c) elements.
func newNet(c *config, flat []float64) *net {
	h := c.hidden
	off := 0
	take := func(n int) []float64 { s := flat[off : off+n : off+n]; off += n; return s }
	n := &net{flat: flat}
	n.lstm = mat.NewDense(2*h, 4*h, take(2*h*4*h))
	n.gEmb = mat.NewVecDense(h, take(h))
	n.emb = mat.NewDense(c.ops, h, take(c.ops*h))
	n.soft = mat.NewDense(h, c.ops, take(h*c.ops))
	n.w1 = mat.NewDense(h, h, take(h*h))
	n.w2 = mat.NewDense(h, h, take(h*h))
	n.v = mat.NewVecDense(h, take(h))
	return n
}

// controller is the policy with its optimiser's state: everything a replay
// rebuilds.
type controller struct {
	c        *config
	theta    *net
	grad     *net
	m, v     []float64 // Adam's moments
	step     int       // Adam steps taken
	baseline float64
	tp       tape // reused between passes
}

// Adam's constants: TensorFlow's AdamOptimizer defaults, which Katib uses.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// newController initialises the parameters uniformly in [-0.01, 0.01], as
// Katib's controller does, from its own stream of seed.
func newController(c *config, seed uint64) *controller {
	n := numParams(c)
	ct := &controller{c: c, theta: newNet(c, make([]float64, n)), grad: newNet(c, make([]float64, n)),
		m: make([]float64, n), v: make([]float64, n)}
	rng := rand.New(rand.NewPCG(seed, streamInit))
	for i := range ct.theta.flat {
		ct.theta.flat[i] = -0.01 + 0.02*rng.Float64()
	}
	return ct
}

// clone returns a deep copy of ct.
func (ct *controller) clone() *controller {
	n := len(ct.theta.flat)
	out := &controller{c: ct.c, theta: newNet(ct.c, append([]float64(nil), ct.theta.flat...)),
		grad: newNet(ct.c, make([]float64, n)), m: append([]float64(nil), ct.m...),
		v: append([]float64(nil), ct.v...), step: ct.step, baseline: ct.baseline}
	return out
}

// lstmStep is what one LSTM step keeps for its backward pass.
type lstmStep struct {
	xh            []float64 // [x, hPrev]
	i, f, o, g    []float64 // gate activations
	cPrev, c, tc  []float64 // tc = tanh(c)
	h             []float64
	embRow        int // the operation whose embedding x is, or -1
	skipFromLayer int // layer index whose skips made x, or -1 (x = gEmb when both -1 and first)
	isGEmb        bool
}

// tape records one pass over an architecture.
type tape struct {
	steps []lstmStep // 2 per layer: before the operation, after it
	// Per layer: the operation logits' pre-transform values and softmax,
	// and for layers > 0 the attention values of each earlier layer.
	opRaw, opP [][]float64
	hw         [][]float64   // W1ᵀ h_j of each layer j
	attA       [][][]float64 // [layer][j] tanh(W2ᵀ h_l + hw_j)
	attQ       [][]float64   // [layer][j] q = v·a
	ce         float64       // Σ −log p of every decision: −log π(arc)
	entropy    float64       // Katib's sample entropy: Σ −log p · p over decisions
	skipPen    float64       // mean over layers > 0 of Σ_j KL(sigmoid(logits) ‖ target)
}

// transform applies the temperature and tanh constant to a logit.
func (ct *controller) transform(x float64) float64 {
	if ct.c.temperature > 0 {
		x /= ct.c.temperature
	}
	if ct.c.tanhConst > 0 {
		x = ct.c.tanhConst * math.Tanh(x)
	}
	return x
}

// dtransform is the derivative of transform at x.
func (ct *controller) dtransform(x float64) float64 {
	d := 1.0
	if ct.c.temperature > 0 {
		x /= ct.c.temperature
		d /= ct.c.temperature
	}
	if ct.c.tanhConst > 0 {
		t := math.Tanh(x)
		d *= ct.c.tanhConst * (1 - t*t)
	}
	return d
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// lstm runs one step from (cPrev, hPrev) on input x, recording it.
func (ct *controller) lstm(x, cPrev, hPrev []float64) lstmStep {
	h := ct.c.hidden
	buf := make([]float64, 13*h) // xh, z, i, f, o, g, c, tc, h
	next := func(n int) []float64 { v := buf[:n:n]; buf = buf[n:]; return v }
	s := lstmStep{xh: next(2 * h), cPrev: cPrev, embRow: -1, skipFromLayer: -1}
	copy(s.xh, x)
	copy(s.xh[h:], hPrev)
	zr := next(4 * h)
	z := mat.NewVecDense(4*h, zr)
	z.MulVec(ct.theta.lstm.T(), mat.NewVecDense(2*h, s.xh))
	s.i, s.f, s.o, s.g = next(h), next(h), next(h), next(h)
	s.c, s.tc, s.h = next(h), next(h), next(h)
	for k := range h {
		s.i[k] = sigmoid(zr[k])
		s.f[k] = sigmoid(zr[h+k])
		s.o[k] = sigmoid(zr[2*h+k])
		s.g[k] = math.Tanh(zr[3*h+k])
		s.c[k] = s.i[k]*s.g[k] + s.f[k]*cPrev[k]
		s.tc[k] = math.Tanh(s.c[k])
		s.h[k] = s.o[k] * s.tc[k]
	}
	return s
}

// pass runs the policy over the layers. With arc nil it samples an
// architecture with rng; otherwise it follows arc. Either way it returns
// the architecture and records in ct.tp what backward needs.
func (ct *controller) pass(arc Arc, rng *rand.Rand) Arc {
	c := ct.c
	h := c.hidden
	sample := arc == nil
	if sample {
		arc = make(Arc, c.layers)
	}
	tp := tape{opRaw: make([][]float64, c.layers), opP: make([][]float64, c.layers),
		hw: make([][]float64, c.layers), attA: make([][][]float64, c.layers), attQ: make([][]float64, c.layers)}
	cPrev, hPrev := make([]float64, h), make([]float64, h)
	x := ct.theta.gEmb.RawVector().Data
	xIsGEmb, xSkipLayer := true, -1
	logits := make([]float64, c.ops)
	for l := range c.layers {
		// The operation.
		s := ct.lstm(x, cPrev, hPrev)
		s.isGEmb, s.skipFromLayer = xIsGEmb, xSkipLayer
		tp.steps = append(tp.steps, s)
		cPrev, hPrev = s.c, s.h
		raw := mat.NewVecDense(c.ops, nil)
		raw.MulVec(ct.theta.soft.T(), mat.NewVecDense(h, s.h))
		tp.opRaw[l] = raw.RawVector().Data
		for k, r := range tp.opRaw[l] {
			logits[k] = ct.transform(r)
		}
		p, lse := softmax(logits)
		tp.opP[l] = p
		var op int
		if sample {
			op = draw(p, rng)
			arc[l] = make([]int, l+1)
			arc[l][0] = op
		} else {
			op = arc[l][0]
		}
		ce := lse - logits[op]
		tp.ce += ce
		tp.entropy += ce * p[op]

		// The operation's embedding feeds the second step.
		s = ct.lstm(ct.theta.emb.RawRowView(op), cPrev, hPrev)
		s.embRow = op
		tp.steps = append(tp.steps, s)
		cPrev, hPrev = s.c, s.h
		hv := mat.NewVecDense(h, s.h)
		hw := mat.NewVecDense(h, nil)
		hw.MulVec(ct.theta.w1.T(), hv)
		tp.hw[l] = hw.RawVector().Data
		if l == 0 {
			x, xIsGEmb, xSkipLayer = ct.theta.gEmb.RawVector().Data, true, -1
			continue
		}
		// Skip connections from each earlier layer j: logits [−u, u].
		q2 := mat.NewVecDense(h, nil)
		q2.MulVec(ct.theta.w2.T(), hv)
		tp.attA[l] = make([][]float64, l)
		tp.attQ[l] = make([]float64, l)
		next := make([]float64, h)
		n := 0
		var kl float64
		for j := range l {
			a := make([]float64, h)
			for k := range h {
				a[k] = math.Tanh(q2.AtVec(k) + tp.hw[j][k])
			}
			q := floats.Dot(a, ct.theta.v.RawVector().Data)
			tp.attA[l][j], tp.attQ[l][j] = a, q
			u := ct.transform(q)
			p1 := sigmoid(2 * u) // softmax([−u, u])[1]
			var bit int
			if sample {
				if rng.Float64() < p1 {
					bit = 1
				}
				arc[l][j+1] = bit
			} else {
				bit = arc[l][j+1]
			}
			pb := p1
			if bit == 0 {
				pb = 1 - p1
			}
			ce := -logSigmoid(float64(2*(2*bit-1)) * u)
			tp.ce += ce
			tp.entropy += ce * pb
			// KL(sigmoid(logits) ‖ targets), Katib's sigmoid, not the softmax.
			sp := sigmoid(u)
			kl += sp*(logSigmoid(u)-math.Log(c.skipTarget)) + (1-sp)*(logSigmoid(-u)-math.Log(1-c.skipTarget))
			if bit == 1 {
				floats.Add(next, tp.steps[2*j+1].h)
				n++
			}
		}
		tp.skipPen += kl / float64(c.layers-1)
		floats.Scale(1/float64(1+n), next)
		x, xIsGEmb, xSkipLayer = next, false, l
	}
	ct.tp = tp
	return arc
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// logSigmoid is log σ(x), exact for large |x|.
func logSigmoid(x float64) float64 {
	if x < 0 {
		return x - math.Log1p(math.Exp(x))
	}
	return -math.Log1p(math.Exp(-x))
}

// softmax returns the softmax of x and log Σ exp(x).
func softmax(x []float64) ([]float64, float64) {
	p := make([]float64, len(x))
	m := floats.Max(x)
	var sum float64
	for i, v := range x {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	floats.Scale(1/sum, p)
	return p, m + math.Log(sum)
}

// draw returns an index drawn from the distribution p.
func draw(p []float64, rng *rand.Rand) int {
	u := rng.Float64()
	for i, pi := range p {
		u -= pi
		if u < 0 {
			return i
		}
	}
	return len(p) - 1
}

// backward sets ct.grad to the gradient of
// ceWeight·(−log π(arc)) + penWeight·skipPen for the pass in ct.tp,
// which must have followed arc.
func (ct *controller) backward(arc Arc, ceWeight, penWeight float64) {
	c, tp, th, gr := ct.c, &ct.tp, ct.theta, ct.grad
	h := c.hidden
	clear(gr.flat)
	// dH[l]: gradient into layer l's output h (after its second step),
	// gathered from later layers' attention and skip inputs.
	dH := make([][]float64, c.layers)
	for l := range dH {
		dH[l] = make([]float64, h)
	}
	dhw := make([][]float64, c.layers)
	for l := range dhw {
		dhw[l] = make([]float64, h)
	}
	dc := make([]float64, h) // into the cell state, from the step after
	dh := make([]float64, h) // into h, from the step after
	vData := th.v.RawVector().Data
	dv := gr.v.RawVector().Data
	dx := make([]float64, 2*h)
	for l := c.layers - 1; l >= 0; l-- {
		// Second step of layer l: h_l feeds the next step (dh), the
		// attention of layer l (this layer's skips) and later layers
		// (dH[l]), and W1 (dhw[l]).
		sB := &tp.steps[2*l+1]
		floats.Add(dh, dH[l])
		if l > 0 {
			for j := range l {
				u := ct.transform(tp.attQ[l][j])
				bit := float64(arc[l][j+1])
				dU := ceWeight * 2 * (sigmoid(2*u) - bit)
				sp := sigmoid(u)
				dU += penWeight / float64(c.layers-1) * sp * (1 - sp) * (u - logit(c.skipTarget))
				dq := dU * ct.dtransform(tp.attQ[l][j])
				a := tp.attA[l][j]
				floats.AddScaled(dv, dq, a)
				dpre := make([]float64, h)
				for k := range h {
					dpre[k] = dq * vData[k] * (1 - a[k]*a[k])
				}
				gr.w2.RankOne(gr.w2, 1, mat.NewVecDense(h, sB.h), mat.NewVecDense(h, dpre))
				addMulVec(dh, th.w2, dpre)
				floats.Add(dhw[j], dpre)
			}
		}
		gr.w1.RankOne(gr.w1, 1, mat.NewVecDense(h, sB.h), mat.NewVecDense(h, dhw[l]))
		addMulVec(dh, th.w1, dhw[l])
		ct.lstmBack(sB, dh, dc, dx)
		floats.Add(gr.emb.RawRowView(sB.embRow), dx[:h])
		copy(dh, dx[h:])

		// First step of layer l: h feeds the operation logits.
		sA := &tp.steps[2*l]
		dRaw := make([]float64, c.ops)
		for k, p := range tp.opP[l] {
			d := p
			if k == arc[l][0] {
				d -= 1
			}
			dRaw[k] = ceWeight * d * ct.dtransform(tp.opRaw[l][k])
		}
		gr.soft.RankOne(gr.soft, 1, mat.NewVecDense(h, sA.h), mat.NewVecDense(c.ops, dRaw))
		addMulVec(dh, th.soft, dRaw)
		ct.lstmBack(sA, dh, dc, dx)
		copy(dh, dx[h:])
		switch {
		case sA.isGEmb:
			floats.Add(gr.gEmb.RawVector().Data, dx[:h])
		case sA.skipFromLayer >= 0:
			sl := sA.skipFromLayer
			n := 0
			for _, b := range arc[sl][1:] {
				n += b
			}
			for j, b := range arc[sl][1:] {
				if b == 1 {
					floats.AddScaled(dH[j], 1/float64(1+n), dx[:h])
				}
			}
		}
	}
}

// addMulVec adds w·x to dst.
func addMulVec(dst []float64, w *mat.Dense, x []float64) {
	r, _ := w.Dims()
	y := mat.NewVecDense(r, nil)
	y.MulVec(w, mat.NewVecDense(len(x), x))
	floats.Add(dst, y.RawVector().Data)
}

// lstmBack backpropagates through step s given the gradients dh and dc
// into its outputs: it adds to the LSTM weights' gradient, writes the
// gradient into [x, hPrev] to dx and replaces dc with the gradient into
// cPrev.
func (ct *controller) lstmBack(s *lstmStep, dh, dc, dx []float64) {
	h := ct.c.hidden
	dz := make([]float64, 4*h)
	for k := range h {
		do := dh[k] * s.tc[k]
		dck := dc[k] + dh[k]*s.o[k]*(1-s.tc[k]*s.tc[k])
		di := dck * s.g[k]
		dg := dck * s.i[k]
		df := dck * s.cPrev[k]
		dc[k] = dck * s.f[k]
		dz[k] = di * s.i[k] * (1 - s.i[k])
		dz[h+k] = df * s.f[k] * (1 - s.f[k])
		dz[2*h+k] = do * s.o[k] * (1 - s.o[k])
		dz[3*h+k] = dg * (1 - s.g[k]*s.g[k])
	}
	ct.grad.lstm.RankOne(ct.grad.lstm, 1, mat.NewVecDense(2*h, s.xh), mat.NewVecDense(4*h, dz))
	y := mat.NewVecDense(2*h, dx)
	y.MulVec(ct.theta.lstm, mat.NewVecDense(4*h, dz))
}

// train takes Katib's training steps on one trial's architecture and
// reward: each step moves the baseline towards the reward (plus the
// entropy bonus), then takes an Adam step on
// −log π(arc)·(reward − baseline) + skip_weight·skip penalty.
func (ct *controller) train(arc Arc, reward float64) {
	for range ct.c.trainSteps {
		ct.pass(arc, nil)
		r := reward
		if ct.c.entropyWeight > 0 {
			r += ct.c.entropyWeight * ct.tp.entropy
		}
		ct.baseline -= (1 - ct.c.baselineDecay) * (ct.baseline - r)
		ct.backward(arc, r-ct.baseline, ct.c.skipWeight)
		ct.adam()
	}
}

// adam applies one Adam step with ct.grad, as TensorFlow's AdamOptimizer
// does. A gradient that is not finite is skipped whole.
func (ct *controller) adam() {
	g := ct.grad.flat
	if sum := floats.Sum(g); math.IsNaN(sum) || math.IsInf(sum, 0) {
		return
	}
	ct.step++
	t := float64(ct.step)
	lr := ct.c.learningRate * math.Sqrt(1-math.Pow(adamBeta2, t)) / (1 - math.Pow(adamBeta1, t))
	m, v, th := ct.m[:len(g)], ct.v[:len(g)], ct.theta.flat[:len(g)]
	for i, gi := range g {
		mi := adamBeta1*m[i] + (1-adamBeta1)*gi
		vi := adamBeta2*v[i] + (1-adamBeta2)*gi*gi
		m[i], v[i] = mi, vi
		th[i] -= lr * mi / (math.Sqrt(vi) + adamEps)
	}
}
