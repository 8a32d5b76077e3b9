// Package suggest defines the interface between tune's experiment runner and
// its search algorithms.
//
// # Contract
//
// A [Suggester] is stateless: each call to Suggest receives the full search
// [Space], the [Goal] and the [Observation] history of the experiment, and
// returns up to N new [Assignment] values. Determinism for equal requests is
// what makes a resumed experiment continue where it stopped.
//
// Algorithms live in subpackages (suggest/random, suggest/grid, ...), each
// importing this package, never the other way round.
package suggest
