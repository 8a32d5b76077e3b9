package cmaes

import "gonum.org/v1/gonum/mat"

// eigenSym computes the eigendecomposition of the symmetric n×n row-major
// matrix a with gonum: on return column k of vecs (row-major n×n) is a unit
// eigenvector whose eigenvalue is vals[k]. a is not modified. A matrix
// gonum cannot factorise (non-finite entries) leaves the identity and ones,
// which the caller's stall tests then end.
func eigenSym(n int, a, vecs, vals []float64) {
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, append([]float64(nil), a...)), true) {
		for i := range vecs {
			vecs[i] = 0
		}
		for i := range n {
			vecs[i*n+i], vals[i] = 1, 1
		}
		return
	}
	es.Values(vals)
	var v mat.Dense
	es.VectorsTo(&v)
	for i := range n {
		for k := range n {
			vecs[i*n+k] = v.At(i, k)
		}
	}
}
