// Package random implements random search: every trial's parameters are drawn
// independently from their priors, as Katib's "random" algorithm does.
//
// # Determinism
//
// The k-th trial of an experiment (k counts every trial in the history,
// whatever its status, from 0) is drawn from its own generator,
// rand.New(rand.NewPCG(seed, k)), so it is a pure function of the seed and
// k. The same seed therefore gives the same sequence of trials whether they
// are requested one at a time or in batches, and a resumed experiment
// continues the sequence where it stopped. Random search never looks at
// objective values and does not avoid repeating an earlier assignment.
//
// # Sampling
//
// For [suggest.Double] and [suggest.Int] parameters, Min and Max are
// inclusive bounds and the distribution is:
//
//   - uniform (or empty): uniform on [Min, Max];
//   - logUniform: uniform in log space;
//   - normal: mean (Min+Max)/2 and standard deviation (Max−Min)/6, truncated
//     to the bounds by resampling (100 tries, then the last draw is clamped),
//     so that the bounds lie three deviations from the mean;
//   - logNormal: normal in log space, with the same mean and deviation
//     computed from log Min and log Max.
//
// A parameter with a step (every Int parameter, whose step defaults to 1)
// takes values Min + k·Step ≤ Max. Uniform picks one of them with equal
// probability; the other distributions draw a continuous value on the bounds
// widened by half a step on each side (never below Min for log
// distributions) and round it to the nearest allowed value. Stepped doubles
// are rounded to the decimal precision of Min and Step, so 0.01 + 3·0.005
// is written "0.025".
//
// [suggest.Discrete] and [suggest.Categorical] parameters take one of their
// listed values with equal probability, written exactly as listed.
//
// # Settings
//
// The only setting is random_state, a non-negative integer that replaces
// [suggest.Request.Seed].
package random
