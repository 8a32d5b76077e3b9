// Package enas implements Katib's "enas" algorithm, efficient neural
// architecture search (Pham et al., 2018, macro search space), as a
// stateless [suggest.Suggester] written on gonum.
//
// # Search space
//
// The space is the experiment's nasConfig ([suggest.Request.NAS]): each
// operationType expands into concrete operations, one per combination of
// its parameters' values ([Expand], numbered as Katib's Operation.py
// numbers them), and an architecture picks one operation for each of
// numLayers layers and, for each layer, which earlier layers feed it
// through skip connections ([Arc]). Each assignment holds two values,
// architecture and nn_config, byte for byte as Katib's service writes them
// ([Arc.String], [NNConfig]), for trialTemplate.trialParameters to
// reference. spec.parameters are ignored.
//
// # Controller
//
// The policy is Katib's controller (Controller.py): an LSTM of
// controller_hidden_size units with its weights, an embedding per
// operation and a softmax over the operations, and, from the second layer
// on, an attention that gives each earlier layer's skip connection the
// logits [−q, q]. Logits are divided by controller_temperature and
// squashed by controller_tanh_const·tanh when those are set. The
// parameters start uniform in [−0.01, 0.01]. It learns by REINFORCE: for a
// finished trial with architecture a and reward R (the objective value,
// negated when minimising, plus controller_entropy_weight times the
// sample's entropy), each of controller_train_steps steps moves the
// baseline b ← b − (1 − controller_baseline_decay)(b − R), starting at 0,
// and takes an Adam step (TensorFlow's constants) of
// controller_learning_rate on
//
//	−log π(a)·(R − b) + controller_skip_weight · skip penalty,
//
// the skip penalty being Katib's KL divergence of the skip probabilities
// from controller_skip_target, averaged over the layers. The gradient is
// computed by hand (backpropagation through the LSTM, the attention and
// the transforms) and checked against finite differences in the tests.
//
// # Where tune differs from Katib's service
//
//   - Katib's TensorFlow graph draws a new architecture at every training
//     step and rewards it with the mean objective of all succeeded trials,
//     so the reward it learns from is not the reward of the architecture
//     it reinforces. tune reinforces each trial's own architecture with its
//     own objective value, which is what REINFORCE and the ENAS paper
//     prescribe; the settings keep their meaning.
//   - Katib trains once per GetSuggestions call; tune trains once per
//     finished trial (in creation order), so what is learnt does not depend
//     on when the runner happened to ask.
//   - With one layer Katib's skip penalty is the mean of nothing (NaN);
//     tune's is zero. controller_skip_target 1 makes Katib's penalty
//     infinite; tune uses 1 − 1e−6. A gradient that is not finite is
//     skipped rather than applied.
//   - A discrete parameter of an operation takes its list as a categorical
//     one does (Katib's service leaves it out); a double parameter's value
//     above max is dropped, as Katib's code means to (its del on a numpy
//     array raises).
//   - controller_hidden_size is at most 1024, numLayers at most
//     [MaxLayers] and the operations at most [MaxOperations], so that a
//     mistyped file fails with a message rather than exhausting memory.
//   - random_state (tune's addition) seeds the controller and the
//     sampling; controller_log_every_steps is checked and unused (tune's
//     algorithms do not log).
//
// # Statelessness and replay
//
// Every call rebuilds the controller from the seed and the history: the
// trials are replayed in creation order, each completed one with a finite
// value and an architecture of the space training the controller as
// above, up to the first trial still pending (later ones wait for it, so
// that the order of learning is the order of creation, whatever order the
// trials finish in). Failed, abandoned and foreign trials teach nothing.
// The k-th assignment of a call is drawn with its own generator,
// rand.NewPCG(seed, stream(len(history)+k)), so a batch equals the same
// trials asked one at a time. The Suggester keeps its last replay and
// continues it when the new history extends it, which gives the same
// result as replaying from scratch.
//
// Replay costs controller_train_steps forward and backward passes per
// completed trial: BenchmarkReplay measures it (about 30 ms per trial with
// Katib's defaults on a 6-layer space, see docs/suggest.md), so a running
// experiment pays it once per trial and a resumed one for its whole
// history once.
package enas
