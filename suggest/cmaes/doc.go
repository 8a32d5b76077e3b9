// Package cmaes implements the covariance matrix adaptation evolution
// strategy (CMA-ES), Katib's "cmaes" algorithm, as a stateless
// [suggest.Suggester].
//
// CMA-ES samples each generation of λ points from a multivariate normal
// distribution N(m, σ²C) and moves it towards the best of them: weighted
// recombination of the mean, cumulative step-size adaptation of σ, and
// rank-one plus active rank-μ updates of C, with the default constants of
// Hansen's tutorial ("The CMA Evolution Strategy: A Tutorial", 2016) that
// the cmaes library behind Optuna also uses. C is eigendecomposed after
// every update.
//
// # Search space
//
// The search needs at least two numeric parameters (double, int or
// discrete), as Katib's does; fewer is an error from [Suggester.Suggest].
// It works in unit coordinates ([suggest.Param.ToUnit]): each numeric
// parameter's range maps to [0, 1], logarithmically for logUniform and
// logNormal. A sampled point that leaves the unit cube is redrawn, up to
// 100 times, and then mirrored at the faces; the point is then mapped to an
// assignment by [suggest.Param.FromUnit], which snaps it to integers, steps
// or the list of a discrete parameter.
//
// Categorical parameters are not part of the distribution: each is drawn
// from its prior independently for every trial ([random.Prior]), as
// Optuna's CMA-ES sampler does.
//
// # Declared distributions
//
// The initial mean is the centre of each parameter's declared distribution
// in unit coordinates: the middle of the range for uniform and normal,
// the geometric middle √(Min·Max) for logUniform and logNormal (the centre
// of their log-scaled unit coordinate), the middle of the list for discrete
// parameters. The default initial σ of 1/6 is the deviation tune's normal
// and logNormal priors have ((Max−Min)/6, in log space for logNormal), so
// with default settings the first generation draws those parameters from
// their declared prior; uniform parameters start from the same normal
// distribution, as in Optuna. After the first generation the distribution
// is CMA-ES's own.
//
// # Statelessness and replay
//
// Every call rebuilds the search state from the history, so a resumed
// experiment continues exactly where it stopped. The trials of the
// history, in creation order, are cut into generations of λ trials each
// (λ of the run they belong to). A generation whose trials have all ended
// updates the distribution; the first generation with a trial still
// pending, or with fewer than λ trials, is the current one, and Suggest
// returns its next unissued members: with i trials of the current
// generation already in the history, the k-th assignment returned is
// member i+k. Member j of generation g of run r is drawn from the
// distribution after generation g−1 with its own generator,
// rand.New(rand.NewPCG(seed, stream(r, g, j))), so asking for N members at
// once or one at a time with the earlier ones pending gives the same
// assignments. When all λ members are issued and some still run, Suggest
// does not block: it hands out extra members j ≥ λ of the same
// distribution, each with its own stream. Those extra trials then count as
// the first members of the following generation when it is replayed.
//
// Only assignments are stored, so the update reads each point back with
// [suggest.Param.ToUnit] instead of using the exact sampled coordinate.
// For continuous doubles the two agree to twelve significant digits; for
// ints, stepped doubles and discrete parameters the point read back is the
// centre of the value's cell, not the sampled position inside it. Extra
// members and points of a changed space are likewise not quite samples of
// the distribution they update. Each step (x − m)/σ is therefore clipped
// to a Mahalanobis length of √n + 2n/(n+2), Hansen's rule for injecting
// external solutions, which bounds the effect of all such differences.
//
// Replaying costs time linear in the history, dominated by parsing the
// assignments and one n×n eigendecomposition per generation: about 0.2 ms
// per suggestion after 100 trials in six dimensions
// (BenchmarkSuggest100x6) and under 2 ms after 1000.
//
// # Failed trials
//
// Failed trials, and completed ones whose value is NaN, rank below every
// completed trial. Their weights are dropped rather than applied: a
// failure may be an infrastructure problem and says nothing about the
// objective near the point, so it neither pulls the mean nor shapes C.
// When fewer than μ = ⌊λ/2⌋ trials of a generation completed the
// generation is discarded and the next one is drawn from the same
// distribution, which resamples it.
//
// # Restarts
//
// With restart_strategy ipop or bipop a run that stalls ends and a new one
// starts from a uniformly random mean, drawn from a generator seeded by
// the restart number. A run stalls when, after an update, one of the
// tests of Hansen's tutorial holds: the best values of the last
// 10 + ⌈30n/λ⌉ generations and the values of the last one all lie within
// 1e-12 (tolFun), every coordinate deviation and the evolution path are
// below 1e-11 (tolX, finer than the twelve significant digits of
// assignments), σ·max(D) grew 10⁴-fold (tolXUp), the condition number of C
// exceeds 10¹⁴, a step of a tenth of a deviation no longer moves the mean
// (noEffectAxis, noEffectCoord), or the median best value of the last 20 of
// 120 + ⌈30n/λ⌉ generations is no better than that of the first 20
// (stagnation). The tests read only the replayed state, so restarts too
// are derived from the history. IPOP multiplies λ by inc_popsize on each
// restart and restores σ. BIPOP (Hansen 2009) alternates: while the small
// regime has used fewer evaluations than the large one it restarts with
// λ = ⌊λ0·(λl/(2λ0))^(u²)⌋ and σ = σ0·10^(−2v) for uniform u and v and the
// largest population so far λl; otherwise it multiplies the large
// population by inc_popsize. With restart_strategy none the run continues
// however it stalls.
//
// # Settings
//
// Katib's settings are sigma (the initial σ in unit coordinates, default
// 1/6), restart_strategy (none, ipop or bipop; default none) and
// random_state (a non-negative integer that replaces
// [suggest.Request.Seed]). tune adds popsize (λ of the first run, an
// integer ≥ 2, default 4 + ⌊3 ln n⌋ for n numeric parameters) and
// inc_popsize (the IPOP and BIPOP growth factor, a number > 1, default 2).
// Any other setting is an error.
//
// # Caveats
//
// When σ shrinks below the width of an int's or a discrete parameter's
// cell, every member snaps to the same value and the search can propose
// the same assignment repeatedly; a restart strategy ends such a run once
// its values stop changing (tolFun). The eigendecomposition of C is
// gonum's mat.EigenSym.
package cmaes
