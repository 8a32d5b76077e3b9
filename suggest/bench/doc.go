// Package bench compares tune's search algorithms on standard test
// functions with known minima, in process, and prints the results as
// markdown; [Run] is `tune bench suggest`:
//
//	tune bench suggest [flags]
//
// # Method
//
// For each parallelism, test function, algorithm and seed, bench runs one
// simulated experiment of the largest budget. The algorithm comes from
// [github.com/tune-hpo/tune/suggest/algorithms.NewFor] with default
// settings, so a newly registered algorithm is benchmarked as soon as
// -algorithms names it; names the registry does not implement are skipped
// with a note on standard error. auto chooses as tune run does
// ([github.com/tune-hpo/tune/suggest/algorithms.Choose]), from the
// function's space, the largest budget as maxTrialCount and the
// parallelism as parallelTrialCount; the report says what it ran. The seed
// is the run's index, passed as
// [github.com/tune-hpo/tune/suggest.Request.Seed].
//
// The simulated driver behaves like an experiment with parallelTrialCount p
// whose trials all take equally long: it asks for p trials, then, each time
// the oldest pending trial completes, for as many as there are free slots
// (Katib's requiredActive − active), until the budget is created. Every
// Suggest call receives the whole history, the pending trials included with
// status Pending and the completed ones with their values; the objective is
// minimised. Parallelism 1 is sequential optimisation.
//
// The simple regret at budget b is the best value among the first b trials
// created minus the function's minimum; each cell of the report is its
// median [first quartile, third quartile] over the seeds, and the best
// median of each row is in bold. Below it, each algorithm's average rank
// at each budget: per function the algorithms are ranked by median regret
// (1 the lowest, ties sharing the mean of their ranks), and the ranks are
// averaged over the functions. A last table gives the mean and 95th
// percentile of the wall time of a Suggest call per algorithm. Runs execute
// concurrently on -workers goroutines (GOMAXPROCS by default), so times are
// measured on a loaded machine and are comparable only within one report.
//
// # Test functions
//
// All are minimised; the regret is meaningful because each file's test
// checks the value at the known minimisers and that no random point falls
// below the minimum.
//
//	branin           2D  x1 ∈ [−5, 10], x2 ∈ [0, 15]   f* = 10/(8π) ≈ 0.397887
//	hartmann6        6D  [0, 1]^6                       f* ≈ −3.32237
//	rosenbrock4      4D  [−5, 10]^4                     f* = 0 at (1, …, 1)
//	ackley5          5D  [−32.768, 32.768]^5            f* = 0 at the origin
//	levy4            4D  [−10, 10]^4                    f* = 0 at (1, …, 1)
//	styblinskitang8  8D  [−5, 5]^8                      f* = 8 · −39.1661657
//	mixed            4D  double, int, logUniform double, categorical; f* = 0
//	decoy            4D  2 doubles, categorical (3), int; f* = 0
//	conditional      6D  categorical (3), 2 logUniform doubles, 2 doubles,
//	                     int; f* = 0
//	ackley5shift     5D  [−32.768, 32.768]^5   f* = 0 at (−7.1, 12.4, 3.3,
//	                     −21.7, 9.6)
//	levy16          16D  [−10, 10]^16          f* = 0 at (1, …, 1)
//	levy16shift     16D  [−10, 10]^16          f* = 0 at (−5.5, 6.2, …, 1.8),
//	                     off-centre in every coordinate
//	styblinskitang16 16D [−5, 5]^16          f* = 16 · −39.1661657
//
// The mixed function, of this benchmark's design, is
// (x − shift(kind))² + ¼(n − 7)² + (log₁₀ lr + 2)² + offset(kind) over
// x ∈ [−5, 5] (double), n ∈ [0, 10] (int), lr ∈ [1e-4, 1] (logUniform) and
// kind ∈ {a, b, c, d} (categorical), with shift = {a: −2, b: 1.5, c: 3,
// d: 0} and offset = {a: ½, b: 0, c: 1, d: ¼}: its minimum 0 is at x = 1.5,
// n = 7, lr = 0.01, kind = b, and the best x depends on the kind. decoy
// and conditional, also of this design, hide the optimum in the category
// that looks worst at first (a narrow, deep basin beside a broad, shallow
// one; an optimiser-like categorical that decides which continuous
// parameters matter): see their files.
//
// Besides the regret, the report gives, for mixed, decoy and conditional, the
// share of seeds whose best trial is in the category holding the optimum,
// and for every function the share of trials after the 50th with half or
// more of their double parameters exactly on a bound (every optimum is
// inside the box). When -parallel has 1 and another value, a last section
// sets each parallel run against the sequential one after the largest
// budget B: the ratio of their median regrets, and the fewest trials after
// which the sequential median is as low as the parallel one after B (what
// the parallel run is worth in sequential trials).
//
// # Flags
//
//	-budgets 50,100   budgets at which the regret is reported
//	-seeds 10         runs per cell
//	-parallel 1,4     parallelisms, one report section each
//	-functions LIST   test functions (default all)
//	-algorithms LIST  default random,sobol,tpe,multivariate-tpe,cmaes,bayesianoptimization
//	-o FILE           also write the markdown to FILE
//	-raw FILE         also write every run's regret at each budget, as JSON
//	                  lines (reference/compare.py reads them)
//	-workers N        concurrent runs (default GOMAXPROCS)
//	-quick            smoke run: budgets 10,20, 2 seeds, parallelism 1,2,
//	                  unless those flags are given
package bench
