// Package sobol implements quasi-random search with a scrambled Sobol
// sequence, Katib's "sobol" algorithm: trials fill the search space more
// evenly than independent random draws, without looking at objective
// values.
//
// # Sequence
//
// [Sequence] is a Sobol low-discrepancy sequence in [0, 1)^d with the
// Joe–Kuo new-joe-kuo-6.21201 direction numbers (the set Katib uses through
// goptuna), for up to [MaxDims] dimensions, in Gray-code order. Its defining
// property is stratification: every block of 2^m consecutive points that
// starts at a multiple of 2^m puts one point in each of the 2^m equal
// intervals of every coordinate, and Joe and Kuo chose the direction numbers
// for well-spread two-dimensional projections. [NewSequence] Owen-scrambles
// it with a seed (a nested scramble by Burley's hash), which keeps the
// stratification, moves the first point away from the origin and makes runs
// with different seeds independent; [NewUnscrambledSequence] gives the plain
// sequence. Points are computed from their index, so other algorithms (the
// Bayesian optimiser's initial design, for example) can use a Sequence
// directly.
//
// # Determinism
//
// Trial k of an experiment (k counts every trial in the history, whatever
// its status, from 0) gets point k+1 of the sequence scrambled by the seed,
// with one dimension per parameter in the order of the space. The same seed
// therefore gives the same trials whether they are requested one at a time
// or in batches, and a resumed experiment continues where it stopped. Point
// 0 is skipped, as goptuna does, because unscrambled it is the origin, a
// corner of the space.
//
// # Mapping
//
// Each coordinate u ∈ [0, 1) becomes a value as follows:
//
//   - uniform and logUniform doubles and ints: [suggest.Param.FromUnit],
//     which gives every int or stepped value an equal share of [0, 1);
//   - normal and logNormal doubles and ints: the inverse distribution
//     function of the distribution random search draws from (package
//     random): mean (Min+Max)/2, deviation (Max−Min)/6, in log space for
//     logNormal, truncated to the bounds (widened by half a step for
//     stepped parameters), then rounded to the step, so the values follow
//     the declared prior as random search's do, only more evenly;
//   - discrete: [suggest.Param.FromUnit], by rank of the listed numbers;
//   - categorical: the value at index ⌊u·len⌋ of the list.
//
// # Settings
//
// The only setting is random_state, a non-negative integer that replaces
// [suggest.Request.Seed] as the scrambling seed. Any other setting is an
// error rather than silently ignored.
//
// # Compatibility
//
// Katib's sobol (goptuna's sampler) takes no settings, does not scramble, so
// every experiment gets the same points, and maps the sequence with uniform
// priors only. Its generator also skips the direction numbers of Joe and
// Kuo's dimension 2, so its points differ from the standard sequence's from
// the second coordinate on; [NewUnscrambledSequence] is the standard one.
//
// # Caveats
//
// The sequence has period 2^32; after 2^32−1 trials Suggest returns
// [suggest.ErrExhausted]. Sobol points are best used in blocks of a power of
// two; a budget of, say, 100 trials still covers the space better than
// random search but without the exact balance of 128. Like random search,
// the algorithm may repeat an assignment when the space has few distinct
// values.
package sobol
