package enas

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/tune-hpo/tune/suggest"
)

// Names of the settings [New] accepts: Katib's, and random_state.
const (
	SettingHiddenSize    = "controller_hidden_size"
	SettingTemperature   = "controller_temperature"
	SettingTanhConst     = "controller_tanh_const"
	SettingEntropyWeight = "controller_entropy_weight"
	SettingBaselineDecay = "controller_baseline_decay"
	SettingLearningRate  = "controller_learning_rate"
	SettingSkipTarget    = "controller_skip_target"
	SettingSkipWeight    = "controller_skip_weight"
	SettingTrainSteps    = "controller_train_steps"
	SettingLogEverySteps = "controller_log_every_steps"
	SettingRandomState   = suggest.SettingRandomState
)

// Names of the values each assignment holds (Katib's service's).
const (
	// OutputArchitecture is the architecture: [Arc.String].
	OutputArchitecture = "architecture"
	// OutputNNConfig is the description of its operations: [NNConfig].
	OutputNNConfig = "nn_config"
)

const (
	none          = "None" // Katib's word for an unset optional setting
	maxHiddenSize = 1024
	// maxSkipTarget replaces a controller_skip_target of 1, whose
	// penalty log(1/0) Katib's controller makes infinite.
	maxSkipTarget = 1 - 1e-6
)

// Samples of the outputs, for rendering a trial before any is suggested:
// a two-layer architecture whose second layer has a skip connection from
// the first, as Katib's service writes it for a space whose operation 0
// is a 3x3 convolution and operation 1 a 5x5 one.
const (
	SampleArchitecture = "[[0], [1, 1]]"
	SampleNNConfig     = "{'num_layers': 2, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {'0': {'opt_id': 0, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', 'num_filter': '32', 'stride': '1'}}, '1': {'opt_id': 1, 'opt_type': 'convolution', 'opt_params': {'filter_size': '5', 'num_filter': '32', 'stride': '1'}}}}"
)

// Defaults of the settings: Katib's (AlgorithmSettings.py).
const (
	DefaultHiddenSize    = 64
	DefaultTemperature   = 5.0
	DefaultTanhConst     = 2.25
	DefaultEntropyWeight = 1e-5
	DefaultBaselineDecay = 0.999
	DefaultLearningRate  = 5e-5
	DefaultSkipTarget    = 0.4
	DefaultSkipWeight    = 0.8
	DefaultTrainSteps    = 50
	DefaultLogEverySteps = 10
)

// Stream tags keep the random streams of different purposes apart.
const (
	tagInit   = 1
	tagSample = 2
)

func stream(tag uint64, i int) uint64 { return tag<<56 ^ uint64(i) }

var streamInit = stream(tagInit, 0)

// Suggester is the ENAS [suggest.Suggester]. It holds its settings and a
// cache of the last replayed controller (an optimisation only: results
// equal a replay from scratch), and is safe for concurrent use.
type Suggester struct {
	cfg     config // layers and ops are set per request
	seed    uint64
	hasSeed bool

	mu    sync.Mutex
	cache *replayCache
}

// replayCache is a controller after training on events, for a request key.
type replayCache struct {
	key    string
	events []string
	ct     *controller
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns an ENAS Suggester configured by Katib's algorithmSettings
// for ENAS, with Katib's defaults: controller_hidden_size (an integer
// 1 to 1024, default 64), controller_temperature (> 0 or None, default 5),
// controller_tanh_const (> 0 or None, default 2.25),
// controller_entropy_weight (> 0 or None, default 1e-5),
// controller_baseline_decay, controller_learning_rate and
// controller_skip_target (each in (0, 1], defaults 0.999, 5e-5 and 0.4),
// controller_skip_weight (> 0 or None, default 0.8),
// controller_train_steps (a positive integer, default 50) and
// controller_log_every_steps (a positive integer, default 10, checked and
// otherwise unused: tune does not log controller steps), plus tune's
// random_state (a non-negative integer). Unknown or malformed settings are
// an error naming every problem. A nil map means no settings.
func New(settings map[string]string) (*Suggester, error) {
	s := &Suggester{cfg: config{
		hidden:        DefaultHiddenSize,
		temperature:   DefaultTemperature,
		tanhConst:     DefaultTanhConst,
		entropyWeight: DefaultEntropyWeight,
		baselineDecay: DefaultBaselineDecay,
		learningRate:  DefaultLearningRate,
		skipTarget:    DefaultSkipTarget,
		skipWeight:    DefaultSkipWeight,
		trainSteps:    DefaultTrainSteps,
	}}
	r := suggest.ReadSettings("enas", settings)
	if n, ok := r.Choice(SettingHiddenSize, fmt.Sprintf("an integer from 1 to %d", maxHiddenSize), func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= 1 && n <= maxHiddenSize
	}); ok {
		s.cfg.hidden, _ = strconv.Atoi(n)
	}
	positiveOrNone := func(name string, dst *float64) {
		if v, ok := r.Choice(name, "a positive number or None", func(v string) bool {
			f, err := strconv.ParseFloat(v, 64)
			return v == none || (err == nil && f > 0 && !math.IsInf(f, 0))
		}); ok {
			*dst = 0 // None
			if v != none {
				*dst, _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	positiveOrNone(SettingTemperature, &s.cfg.temperature)
	positiveOrNone(SettingTanhConst, &s.cfg.tanhConst)
	positiveOrNone(SettingEntropyWeight, &s.cfg.entropyWeight)
	unit := func(name string, dst *float64) {
		if v, ok := r.Choice(name, "a number in (0, 1]", func(v string) bool {
			f, err := strconv.ParseFloat(v, 64)
			return err == nil && f > 0 && f <= 1
		}); ok {
			*dst, _ = strconv.ParseFloat(v, 64)
		}
	}
	unit(SettingBaselineDecay, &s.cfg.baselineDecay)
	unit(SettingLearningRate, &s.cfg.learningRate)
	unit(SettingSkipTarget, &s.cfg.skipTarget)
	s.cfg.skipTarget = min(s.cfg.skipTarget, maxSkipTarget)
	positiveOrNone(SettingSkipWeight, &s.cfg.skipWeight)
	if n, ok := r.Int(SettingTrainSteps, 1); ok {
		s.cfg.trainSteps = n
	}
	r.Int(SettingLogEverySteps, 1)
	s.seed, s.hasSeed = r.Seed()
	if err := r.Done(); err != nil {
		return nil, err
	}
	return s, nil
}

// Suggest returns req.N architectures sampled from the controller, each
// as the assignment of [OutputArchitecture] and [OutputNNConfig] in
// Katib's form ([Arc.String], [NNConfig]). The controller is rebuilt by
// replaying req.History (see the package documentation). req.Space is
// ignored: ENAS searches req.NAS, and it is an error when that is nil,
// has fewer than 1 or more than [MaxLayers] layers, or does not expand
// into operations ([Expand]).
// req.Settings is ignored: settings are read by [New].
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "enas", req); err != nil {
		return nil, err
	}
	ops, err := Expand(req.NAS)
	if err != nil {
		return nil, fmt.Errorf("enas: %w", err)
	}
	if req.NAS.NumLayers < 1 || req.NAS.NumLayers > MaxLayers {
		return nil, fmt.Errorf("enas: nasConfig.graphConfig.numLayers is %d, want 1 to %d", req.NAS.NumLayers, MaxLayers)
	}
	seed := req.PickSeed(s.seed, s.hasSeed)
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, err := s.replay(ctx, req, len(ops), seed)
	if err != nil {
		return nil, err
	}
	out := make([]suggest.Assignment, req.N)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, stream(tagSample, len(req.History)+i)))
		arc := ct.pass(nil, rng)
		out[i] = suggest.Assignment{
			OutputArchitecture: arc.String(),
			OutputNNConfig:     NNConfig(arc, req.NAS, ops),
		}
	}
	return out, nil
}

// event is one trial the controller learns from.
type event struct {
	arc    Arc
	reward float64
	key    string
}

// Events returns the trials of history the controller learns from, in
// order: the completed trials with a finite value and an architecture of
// the space, up to the first pending trial. The reward is the objective
// value, negated when goal is [suggest.Minimize].
func events(history []suggest.Observation, goal suggest.Goal, layers, ops int) []event {
	var out []event
	for _, o := range history {
		if o.Status == suggest.Pending {
			break
		}
		if o.Status != suggest.Completed || math.IsNaN(o.Value) || math.IsInf(o.Value, 0) {
			continue
		}
		a, err := ParseArc(o.Assignment[OutputArchitecture], layers, ops)
		if err != nil {
			continue
		}
		r := o.Value
		if goal == suggest.Minimize {
			r = -r
		}
		out = append(out, event{arc: a, reward: r, key: a.String() + "\x00" + strconv.FormatFloat(r, 'x', -1, 64)})
	}
	return out
}

// replay returns the controller trained on the events of req.History,
// continuing the cached one when its events are a prefix of them.
func (s *Suggester) replay(ctx context.Context, req suggest.Request, numOps int, seed uint64) (*controller, error) {
	cfg := s.cfg
	cfg.layers, cfg.ops = req.NAS.NumLayers, numOps
	evs := events(req.History, req.Goal, cfg.layers, cfg.ops)
	key := fmt.Sprintf("%d\x00%d\x00%#v", seed, req.Goal, *req.NAS)
	c := s.cache
	if c == nil || c.key != key || len(c.events) > len(evs) ||
		!slices.Equal(c.events, keys(evs[:len(c.events)])) {
		c = &replayCache{key: key, ct: newController(&cfg, seed)}
		s.cache = c
	}
	for _, ev := range evs[len(c.events):] {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("enas: replay: %w", err)
		}
		c.ct.train(ev.arc, ev.reward)
		c.events = append(c.events, ev.key)
	}
	return c.ct, nil
}

func keys(evs []event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.key
	}
	return out
}
