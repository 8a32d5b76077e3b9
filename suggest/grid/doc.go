// Package grid implements grid search: every combination of parameter values
// is tried once, as Katib's "grid" algorithm does.
//
// # Values
//
// Each parameter contributes an ordered list of values:
//
//   - [suggest.Double]: Min, Min+Step, Min+2·Step, … ≤ Max. Step is required;
//     a value that exceeds Max by float error only (a billionth of a step)
//     is kept, so 0.01..0.05 with step 0.005 has 9 values ending in 0.05.
//     Values are rounded to the decimal precision of Min and Step and written
//     cleanly ("0.025", not "0.025000000000000001"). The distribution is
//     ignored.
//   - [suggest.Int]: Min, Min+Step, … ≤ Max, with Step 1 when zero.
//   - [suggest.Discrete] and [suggest.Categorical]: their list, in order and
//     written exactly as listed.
//
// # Order
//
// Points are enumerated like nested loops over the parameters in the order
// the space declares them: the first parameter varies slowest and the last
// fastest. For a = [1, 2] and b = [x, y] the order is (1,x), (1,y), (2,x),
// (2,y).
//
// With the random_state setting, the same points are visited in an order
// shuffled by it: the i-th point visited is the one whose index is the
// image of i under a pseudorandom bijection of the indices chosen by the
// seed (a Feistel network, computed per index). Katib's grid (Optuna's
// GridSampler, seeded by random_state) also visits its grid in a random
// order; tune's is as reproducible, not the same sequence. Without
// random_state Katib's order is random and unreproducible; tune's is the
// declared order above.
//
// # Resuming
//
// Suggest is stateless. It walks the grid (in its order) from its first point and returns
// the first N points whose [suggest.Assignment.Key] is not in the history,
// whatever the status of the earlier trial: a failed point is not retried.
// Points are computed one at a time from their index (a mixed-radix number),
// so the grid is never materialised and a call costs time proportional to
// the history's length plus N, however large the grid.
//
// # Settings
//
// Grid search's one setting is Katib's random_state, a non-negative integer
// (Katib's grid service refuses anything else): see Order.
package grid
