//go:build race

package enas_test

// raceEnabled says the tests run under the race detector.
const raceEnabled = true
