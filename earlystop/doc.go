// Package earlystop holds the early-stopping rules of Katib's
// spec.earlyStopping: given the objective values running trials report and
// the curves of the trials that succeeded, a [Rule] says which running
// trial to stop and why. Rules are named as in Katib ([Names]); [New] builds
// one from its name, its algorithmSettings and the objective's goal, and
// [Settings] lists the settings each rule accepts with a check of each
// value, for the experiment's validation. A rule sees only objective values
// (the caller filters them) and decides; stopping the trial and recording
// why is the caller's. It bounds the memory each curve takes, however many
// steps a trial reports. Today's one rule is medianstop, the median
// stopping rule.
package earlystop
