// Command mlp trains a small multilayer perceptron on a real data set and
// prints its validation metrics once per epoch, in the "name=value" form that
// tune's (and Katib's) standard-output metrics collector reads:
//
//	epoch=3 train-loss=0.0985686 loss=0.152973 accuracy=0.9610
//
// It is the objective program of the quickstart experiments in
// examples/quickstart. By default it trains on the embedded UCI
// "Optical Recognition of Handwritten Digits" data set (1,797 8×8 images,
// 10 classes; see data/README.md), split 80/20 per class into training and
// validation rows by a fixed seed, with features standardised on the
// training rows.
//
// The network has one or two hidden layers (ReLU or tanh) and a softmax
// output, trained with mini-batch SGD, momentum and L2 weight decay. The
// weight initialisation and batch order are seeded by --seed, so a run is
// reproducible. A run whose weights overflow stops early: it prints the
// epoch's metrics as measured, reports the divergence on standard error and
// exits 0, so a search records it as a poor trial rather than a failure.
//
// Usage:
//
//	go run ./examples/mlp --lr 0.05 --momentum 0.9 --hidden 32 --epochs 40
//
// Bad flags print a message on standard error and exit with status 2; a data
// file that cannot be read exits with status 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
)

// config holds the command-line flags.
type config struct {
	lr          float64
	momentum    float64
	hidden      int
	layers      int
	activation  activation
	epochs      int
	batchSize   int
	weightDecay float64
	seed        uint64
	data        string
	reportEvery int
	patience    int

	// The pipeline modes (pipeline.go).
	exportSplit string // directory to write train.csv and test.csv to
	countOut    string // file for the number of test rows (--export-split)
	saveModel   string // file to write the trained network to
	evaluate    string // saved network to score on --data
	metricsJSON string // Kubeflow Pipelines v1 metrics file (--evaluate)
	metricsV2   string // Kubeflow Pipelines v2 Metrics artifact file (--evaluate)
	expectRows  int    // rows --evaluate expects in --data
}

// usageError is an error in the command line; run exits with status 2.
// When reported is set, the flag package has already printed it.
type usageError struct {
	err      error
	reported bool
}

// Error returns the message of the underlying error.
func (e *usageError) Error() string { return e.err.Error() }

// Unwrap returns the underlying error.
func (e *usageError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it parses args, trains, writes metric
// lines to stdout and messages to stderr, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		if !ue.reported {
			fmt.Fprintf(stderr, "mlp: %v\n", err)
		}
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlp: %v\n", err)
		return 1
	}
	switch {
	case cfg.exportSplit != "":
		err = exportSplit(cfg, cfg.exportSplit, cfg.countOut, stdout)
	case cfg.evaluate != "":
		err = evaluateModel(cfg, stdout)
	default:
		err = train(cfg, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlp: %v\n", err)
		return 1
	}
	return 0
}

// parseFlags parses and validates the command line. Usage text and flag
// package messages go to stderr. Command-line errors are *usageError.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var act string
	fs := flag.NewFlagSet("mlp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&cfg.lr, "lr", 0.05, "learning rate, > 0")
	fs.Float64Var(&cfg.momentum, "momentum", 0.9, "SGD momentum, in [0, 1)")
	fs.IntVar(&cfg.hidden, "hidden", 32, "units in each hidden layer, >= 1")
	fs.IntVar(&cfg.layers, "layers", 1, "number of hidden layers, 1 or 2")
	fs.StringVar(&act, "activation", string(relu), "hidden-layer activation, relu or tanh")
	fs.IntVar(&cfg.epochs, "epochs", 30, "passes over the training rows, >= 1")
	fs.IntVar(&cfg.batchSize, "batch-size", 32, "examples per SGD step, >= 1")
	fs.Float64Var(&cfg.weightDecay, "weight-decay", 0, "L2 weight decay, >= 0")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed for weight initialisation and batch order")
	fs.IntVar(&cfg.reportEvery, "report-every", 1, "print metrics every N epochs (and always after the last), >= 1")
	fs.IntVar(&cfg.patience, "patience", 0, "stop when validation accuracy has not improved for N epochs (checked when metrics are reported); 0 = never")
	fs.StringVar(&cfg.data, "data", "", "CSV (or .csv.gz) of numeric features and an integer class label last; default: the embedded digits data set")
	fs.StringVar(&cfg.exportSplit, "export-split", "", "instead of training, write DIR/train.csv and DIR/test.csv, a per-class 80/20 split of the data set")
	fs.StringVar(&cfg.countOut, "count-out", "", "with --export-split, also write the number of test rows to this file")
	fs.StringVar(&cfg.saveModel, "save-model", "", "after training, write the network (and its feature scaling) to this JSON file")
	fs.StringVar(&cfg.evaluate, "evaluate", "", "instead of training, score the network saved in this file on every row of --data")
	fs.StringVar(&cfg.metricsJSON, "metrics-json", "", "with --evaluate, also write test-accuracy and test-loss to this file as Kubeflow Pipelines' metrics JSON")
	fs.StringVar(&cfg.metricsV2, "metrics-artifact", "", "with --evaluate, also write test-accuracy and test-loss to this file as a Kubeflow Pipelines v2 Metrics artifact (a JSON object of name to number)")
	fs.IntVar(&cfg.expectRows, "expect-rows", 0, "with --evaluate, fail unless --data has exactly this many rows (0 = any)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, &usageError{err: err, reported: true}
	}
	cfg.activation = activation(act)
	var problems []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			problems = append(problems, fmt.Errorf(format, a...))
		}
	}
	check(fs.NArg() == 0, "unexpected arguments: %q", fs.Args())
	check(cfg.lr > 0, "--lr must be > 0, got %v", cfg.lr)
	check(cfg.momentum >= 0 && cfg.momentum < 1, "--momentum must be in [0, 1), got %v", cfg.momentum)
	check(cfg.hidden >= 1, "--hidden must be >= 1, got %d", cfg.hidden)
	check(cfg.layers == 1 || cfg.layers == 2, "--layers must be 1 or 2, got %d", cfg.layers)
	check(cfg.activation == relu || cfg.activation == tanh, "--activation must be relu or tanh, got %q", act)
	check(cfg.epochs >= 1, "--epochs must be >= 1, got %d", cfg.epochs)
	check(cfg.batchSize >= 1, "--batch-size must be >= 1, got %d", cfg.batchSize)
	check(cfg.reportEvery >= 1, "--report-every must be >= 1, got %d", cfg.reportEvery)
	check(cfg.patience >= 0, "--patience must be >= 0, got %d", cfg.patience)
	check(cfg.weightDecay >= 0, "--weight-decay must be >= 0, got %v", cfg.weightDecay)
	check(cfg.exportSplit == "" || cfg.evaluate == "", "--export-split and --evaluate are different modes: give one")
	check(cfg.countOut == "" || cfg.exportSplit != "", "--count-out needs --export-split")
	check(cfg.metricsJSON == "" || cfg.evaluate != "", "--metrics-json needs --evaluate")
	check(cfg.metricsV2 == "" || cfg.evaluate != "", "--metrics-artifact needs --evaluate")
	check(cfg.expectRows >= 0, "--expect-rows must be >= 0, got %d", cfg.expectRows)
	if err := errors.Join(problems...); err != nil {
		return cfg, &usageError{err: err}
	}
	return cfg, nil
}

// train loads the data, trains the network for cfg.epochs epochs and writes
// a metrics line to stdout after every cfg.reportEvery epochs, after the last
// epoch, and after an epoch that diverged. Each line is a single write, so a
// reader sees whole lines as they happen.
func train(cfg config, stdout, stderr io.Writer) error {
	all, err := loadData(cfg.data)
	if err != nil {
		return err
	}
	tr, val := split(all)
	if len(tr.X) == 0 || len(val.X) == 0 {
		return fmt.Errorf("too few rows (%d) for a train/validation split", len(all.X))
	}
	sc := standardize(tr, val)
	fmt.Fprintf(stderr, "mlp: %d training and %d validation rows, %d features, %d classes\n",
		len(tr.X), len(val.X), tr.features(), tr.classes)

	rng := rand.New(rand.NewPCG(cfg.seed, 0x6d6c70))
	sizes := []int{tr.features()}
	for range cfg.layers {
		sizes = append(sizes, cfg.hidden)
	}
	sizes = append(sizes, tr.classes)
	net := newMLP(sizes, cfg.activation, rng)

	order := make([]int, len(tr.X))
	for i := range order {
		order[i] = i
	}
	bestAcc, bestEpoch := -1.0, 0
	for epoch := 1; epoch <= cfg.epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var trainLoss float64
		for start := 0; start < len(order); start += cfg.batchSize {
			batch := order[start:min(start+cfg.batchSize, len(order))]
			for _, i := range batch {
				trainLoss += net.accumulate(tr.X[i], tr.Y[i])
			}
			net.step(len(batch), cfg.lr, cfg.momentum, cfg.weightDecay)
		}
		trainLoss /= float64(len(order))
		diverged := !net.finite()
		if epoch%cfg.reportEvery != 0 && epoch != cfg.epochs && !diverged {
			continue
		}
		loss, acc := net.evaluate(val)
		line := fmt.Sprintf("epoch=%d%s%s accuracy=%.4f\n",
			epoch, metric("train-loss", trainLoss), metric("loss", loss), acc)
		if _, err := io.WriteString(stdout, line); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
		if diverged {
			fmt.Fprintf(stderr, "mlp: training diverged at epoch %d (weights overflowed); try a smaller --lr\n", epoch)
			if cfg.saveModel != "" {
				return fmt.Errorf("training diverged: no model to save to %s", cfg.saveModel)
			}
			return nil
		}
		if acc > bestAcc {
			bestAcc, bestEpoch = acc, epoch
		} else if cfg.patience > 0 && epoch-bestEpoch >= cfg.patience {
			fmt.Fprintf(stderr, "mlp: stopping early at epoch %d: validation accuracy has not improved since epoch %d\n", epoch, bestEpoch)
			return save(cfg, net, sc)
		}
	}
	return save(cfg, net, sc)
}

// save writes the trained network to cfg.saveModel, when set.
func save(cfg config, net *mlp, sc scaler) error {
	if cfg.saveModel == "" {
		return nil
	}
	return saveModel(cfg.saveModel, net, sc)
}

// metric formats " name=value", or "" when value is NaN or infinite: the
// metrics regex cannot read those, so a diverged epoch reports no loss.
func metric(name string, value float64) string {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return ""
	}
	return fmt.Sprintf(" %s=%.6g", name, value)
}
