package cmaes

import "math"

// maxSweeps bounds the Jacobi iteration; it converges quadratically and
// takes well under ten sweeps for the matrices CMA-ES produces.
const maxSweeps = 50

// eigenSym computes the eigendecomposition of the symmetric n×n row-major
// matrix a with the cyclic Jacobi method: on return column k of vecs is a
// unit eigenvector whose eigenvalue is vals[k]. a is not modified.
//
// The module does not depend on gonum, and Jacobi is exact to rounding and
// fast enough for the dimensions a hyperparameter search has (a 20×20
// matrix takes tens of microseconds).
func eigenSym(n int, a, vecs, vals []float64) {
	m := make([]float64, n*n)
	copy(m, a)
	for i := range vecs {
		vecs[i] = 0
	}
	for i := range n {
		vecs[i*n+i] = 1
	}
	for range maxSweeps {
		var off, diag float64
		for i := range n {
			diag += m[i*n+i] * m[i*n+i]
			for j := i + 1; j < n; j++ {
				off += m[i*n+j] * m[i*n+j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				apq := m[p*n+q]
				if apq == 0 {
					continue
				}
				app, aqq := m[p*n+p], m[q*n+q]
				theta := (aqq - app) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n {
					mkp, mkq := m[k*n+p], m[k*n+q]
					m[k*n+p] = c*mkp - s*mkq
					m[k*n+q] = s*mkp + c*mkq
				}
				for k := range n {
					mpk, mqk := m[p*n+k], m[q*n+k]
					m[p*n+k] = c*mpk - s*mqk
					m[q*n+k] = s*mpk + c*mqk
				}
				m[p*n+q], m[q*n+p] = 0, 0
				for k := range n {
					vkp, vkq := vecs[k*n+p], vecs[k*n+q]
					vecs[k*n+p] = c*vkp - s*vkq
					vecs[k*n+q] = s*vkp + c*vkq
				}
			}
		}
	}
	for i := range n {
		vals[i] = m[i*n+i]
	}
}
