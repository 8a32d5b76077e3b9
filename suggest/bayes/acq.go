package bayes

import "math"

// logSqrt2Pi is log √(2π).
const logSqrt2Pi = 0.918938533204672741780329736405617639861397473637783412817152

// tailZ is the z below which the tail formulas use the continued fraction
// of Mills' ratio instead of erfc, which would lose accuracy or underflow.
const tailZ = -5

// cfTerms is how many terms of the continued fraction are evaluated; at
// |z| ≥ 5 it converges to machine precision well before.
const cfTerms = 60

// millsTail returns c(t) = 1/(t + 2/(t + 3/(t + …))) for t > 0, so that
// Mills' ratio Φ(−t)/φ(t) is 1/(t + c(t)) (Laplace's continued fraction).
func millsTail(t float64) float64 {
	f := t
	for k := cfTerms; k >= 2; k-- {
		f = t + float64(k)/f
	}
	return 1 / f
}

// logPhi returns log φ(z), the log density of the standard normal.
func logPhi(z float64) float64 {
	return -0.5*z*z - logSqrt2Pi
}

// logCDF returns log Φ(z), accurate for every finite z: erfc above −5, and
// log φ(z) − log(t + c(t)) with t = −z in the tail.
func logCDF(z float64) float64 {
	if z > tailZ {
		return math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
	}
	t := -z
	return logPhi(z) - math.Log(t+millsTail(t))
}

// logH returns log h(z) with h(z) = φ(z) + zΦ(z), the expected improvement
// of a unit-variance normal with margin z. Above −5 it is computed directly;
// in the tail it uses h(z) = φ(z)·(1 − tR(t)) with t = −z and Mills' ratio
// R(t) = 1/(t + c(t)), so 1 − tR(t) = c/(t + c) without cancellation. It
// never underflows: log h(z) ≈ −z²/2 − 2 log|z| for very negative z.
func logH(z float64) float64 {
	if z > tailZ {
		phi := math.Exp(logPhi(z))
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		return math.Log(phi + z*cdf)
	}
	t := -z
	c := millsTail(t)
	return logPhi(z) + math.Log(c) - math.Log(t+c)
}

// logEI returns the log expected improvement, for minimisation, of a normal
// posterior N(mu, sd²) below best − xi.
func logEI(mu, sd, best, xi float64) float64 {
	z := (best - xi - mu) / sd
	return math.Log(sd) + logH(z)
}

// logPI returns the log probability that N(mu, sd²) is below best − xi.
func logPI(mu, sd, best, xi float64) float64 {
	return logCDF((best - xi - mu) / sd)
}

// ucb returns the negated lower confidence bound −(mu − kappa·sd), which is
// maximised to minimise the objective (Katib's "LCB", our "ucb").
func ucb(mu, sd, kappa float64) float64 {
	return -(mu - kappa*sd)
}
