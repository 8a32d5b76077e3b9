// Package grid implements grid search: every combination of parameter values
// is tried once, in a fixed order, as Katib's "grid" algorithm does.
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
// # Resuming
//
// Suggest is stateless. It walks the grid from its first point and returns
// the first N points whose [suggest.Assignment.Key] is not in the history,
// whatever the status of the earlier trial: a failed point is not retried.
// Points are computed one at a time from their index (a mixed-radix number),
// so the grid is never materialised and a call costs time proportional to
// the history's length plus N, however large the grid.
//
// # Settings
//
// Grid search has no settings of its own; Katib's random_state is accepted and ignored.
package grid
