package random

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/tune-hpo/tune/suggest"
)

// The statistical tests below draw with a fixed seed, so they are
// deterministic: a pass is a pass on every run. The thresholds are the
// critical values at significance 0.001, so a correct sampler passes with
// a seed chosen at random too, and a wrong one (a mutated formula) fails by
// a wide margin.

const distSamples = 20000

// truncNormalCDF returns the CDF of N(mu, sigma²) truncated to [a, b].
func truncNormalCDF(mu, sigma, a, b float64) func(float64) float64 {
	n := distuv.Normal{Mu: mu, Sigma: sigma}
	fa, fb := n.CDF(a), n.CDF(b)
	return func(x float64) float64 {
		switch {
		case x <= a:
			return 0
		case x >= b:
			return 1
		}
		return (n.CDF(x) - fa) / (fb - fa)
	}
}

// targetCDF returns the CDF of the distribution tune documents for a
// continuous double parameter on [lo, hi]: uniform; log-uniform (log x
// uniform on [log lo, log hi]); normal with mean (lo+hi)/2 and deviation
// (hi-lo)/6 truncated to [lo, hi]; log-normal whose log is that normal
// built in log space, truncated to [log lo, log hi].
func targetCDF(dist suggest.Distribution, lo, hi float64) func(float64) float64 {
	switch dist {
	case suggest.LogUniform:
		la, lb := math.Log(lo), math.Log(hi)
		return func(x float64) float64 { return min(max((math.Log(x)-la)/(lb-la), 0), 1) }
	case suggest.Normal:
		return truncNormalCDF((lo+hi)/2, (hi-lo)/6, lo, hi)
	case suggest.LogNormal:
		la, lb := math.Log(lo), math.Log(hi)
		f := truncNormalCDF((la+lb)/2, (lb-la)/6, la, lb)
		return func(x float64) float64 { return f(math.Log(x)) }
	default:
		return func(x float64) float64 { return min(max((x-lo)/(hi-lo), 0), 1) }
	}
}

// ksStatistic returns the Kolmogorov–Smirnov distance between the empirical
// distribution of xs and cdf.
func ksStatistic(xs []float64, cdf func(float64) float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		f := cdf(x)
		d = max(d, f-float64(i)/n, float64(i+1)/n-f)
	}
	return d
}

// ksCritical is the asymptotic critical value of the one-sample KS
// statistic at significance 0.001 for n samples.
func ksCritical(n int) float64 {
	return 1.949 / math.Sqrt(float64(n))
}

// TestContinuousDistributionsKS checks each distribution of a double
// parameter without step against its exact target CDF. Bounds away from 0
// make a wrong width (b+a for b-a) or a wrong centre visible.
func TestContinuousDistributionsKS(t *testing.T) {
	ranges := []struct{ lo, hi float64 }{{1, 3}, {0.001, 0.1}, {5, 1000}}
	dists := []suggest.Distribution{"", suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal}
	for _, dist := range dists {
		for _, r := range ranges {
			t.Run(fmt.Sprintf("%s[%v,%v]", dist, r.lo, r.hi), func(t *testing.T) {
				p := suggest.Param{Name: "x", Type: suggest.Double, Min: r.lo, Max: r.hi, Distribution: dist}
				xs := floats(t, draws(t, p, distSamples))
				for _, x := range xs {
					if x < r.lo || x > r.hi {
						t.Fatalf("value %v outside [%v, %v]", x, r.lo, r.hi)
					}
				}
				d := ksStatistic(xs, targetCDF(dist, r.lo, r.hi))
				if crit := ksCritical(len(xs)); !(d <= crit) {
					t.Errorf("KS distance %.4f > critical %.4f: the draws do not follow %q on [%v, %v]", d, crit, dist, r.lo, r.hi)
				}
			})
		}
	}
}

// TestKSDetectsWrongDistribution guards the KS test itself: draws from one
// distribution are rejected against another's CDF.
func TestKSDetectsWrongDistribution(t *testing.T) {
	p := suggest.Param{Name: "x", Type: suggest.Double, Min: 1, Max: 3, Distribution: suggest.Normal}
	xs := floats(t, draws(t, p, distSamples))
	if d := ksStatistic(xs, targetCDF(suggest.Uniform, 1, 3)); !(d > ksCritical(len(xs))) {
		t.Errorf("normal draws pass as uniform (KS %.4f)", d)
	}
}

// steppedProbs returns the exact probability of each index k in [0, n) of
// a stepped parameter whose values are lo + k·step and whose declared
// bounds are [pmin, pmax]. Uniform gives every index 1/n. Other
// distributions draw a continuous value on [lo-step/2, lo+(n-1)·step+step/2]
// (the lower end raised to lo for log distributions when it is not
// positive) and round it to the nearest index.
func steppedProbs(dist suggest.Distribution, pmin, pmax, lo, step float64, n int) []float64 {
	probs := make([]float64, n)
	if dist == "" || dist == suggest.Uniform {
		for k := range probs {
			probs[k] = 1 / float64(n)
		}
		return probs
	}
	half := step / 2
	a, b := lo-half, lo+float64(n-1)*step+half
	if (dist == suggest.LogUniform || dist == suggest.LogNormal) && a <= 0 {
		a = lo
	}
	var cdf func(float64) float64
	switch dist {
	case suggest.LogUniform:
		la, lb := math.Log(a), math.Log(b)
		cdf = func(x float64) float64 {
			if x <= 0 {
				return 0
			}
			return min(max((math.Log(x)-la)/(lb-la), 0), 1)
		}
	case suggest.Normal:
		cdf = truncNormalCDF((pmin+pmax)/2, (pmax-pmin)/6, a, b)
	case suggest.LogNormal:
		lmin, lmax := math.Log(pmin), math.Log(pmax)
		f := truncNormalCDF((lmin+lmax)/2, (lmax-lmin)/6, math.Log(a), math.Log(b))
		cdf = func(x float64) float64 {
			if x <= 0 {
				return 0
			}
			return f(math.Log(x))
		}
	}
	for k := range probs {
		lower, upper := lo+(float64(k)-0.5)*step, lo+(float64(k)+0.5)*step
		if k == 0 {
			lower = math.Inf(-1)
		}
		if k == n-1 {
			upper = math.Inf(1)
		}
		probs[k] = cdf(upper) - cdf(lower)
	}
	return probs
}

// TestSteppedSupportAndFrequencies checks stepped double and int
// parameters: every value drawn is on the grid lo + k·step, none exceeds
// max, the smallest and largest values are reached, and the index
// frequencies match the exact probabilities (chi-square test).
func TestSteppedSupportAndFrequencies(t *testing.T) {
	cases := []struct {
		name     string
		typ      suggest.ParamType
		min, max float64
		step     float64
		grid     []string // every value, in order
	}{
		{"double", suggest.Double, 0.5, 3.5, 0.3, []string{"0.5", "0.8", "1.1", "1.4", "1.7", "2", "2.3", "2.6", "2.9", "3.2", "3.5"}},
		{"double-off-grid", suggest.Double, 1, 2.9, 0.5, []string{"1", "1.5", "2", "2.5"}},
		{"int", suggest.Int, 1, 10, 0, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
		{"int-step", suggest.Int, 2, 23, 3, []string{"2", "5", "8", "11", "14", "17", "20", "23"}},
		{"int-step-off-grid", suggest.Int, 2, 21, 4, []string{"2", "6", "10", "14", "18"}},
	}
	dists := []suggest.Distribution{"", suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal}
	for _, c := range cases {
		for _, dist := range dists {
			t.Run(c.name+"/"+string(dist), func(t *testing.T) {
				p := suggest.Param{Name: "x", Type: c.typ, Min: c.min, Max: c.max, Step: c.step, Distribution: dist}
				step := c.step
				if step == 0 {
					step = 1
				}
				index := make(map[string]int, len(c.grid))
				for k, v := range c.grid {
					index[v] = k
				}
				counts := make([]int, len(c.grid))
				for _, v := range draws(t, p, distSamples) {
					k, ok := index[v]
					if !ok {
						f, _ := strconv.ParseFloat(v, 64)
						if f > c.max {
							t.Fatalf("value %s above max %v", v, c.max)
						}
						t.Fatalf("value %s is not on the grid %v", v, c.grid)
					}
					counts[k]++
				}
				if counts[0] == 0 || counts[len(counts)-1] == 0 {
					t.Errorf("counts %v: the first (%s) or last (%s) value is never drawn", counts, c.grid[0], c.grid[len(c.grid)-1])
				}
				probs := steppedProbs(dist, c.min, c.max, c.min, step, len(c.grid))
				chi2, df := 0.0, -1
				for k, pk := range probs {
					want := pk * distSamples
					if want < 5 {
						// Too rare for the chi-square approximation; a value
						// this rare drawn often still fails below.
						if float64(counts[k]) > 5*want+20 {
							t.Errorf("value %s drawn %d times, expected %.1f", c.grid[k], counts[k], want)
						}
						continue
					}
					diff := float64(counts[k]) - want
					chi2 += diff * diff / want
					df++
				}
				if df < 1 {
					return
				}
				if crit := (distuv.ChiSquared{K: float64(df)}).Quantile(0.999); !(chi2 <= crit) {
					t.Errorf("chi-square %.1f > critical %.1f (df %d): counts %v, probabilities %v", chi2, crit, df, counts, probs)
				}
			})
		}
	}
}
