// Command pipestep is the step program of the end-to-end pipeline tests:
// one binary, three steps, each reading and writing only the paths it is
// given on its command line (as a container would see them).
//
//	pipestep prepare --x X --y Y --epochs-out FILE --data-out FILE
//	pipestep train --data FILE --epochs N --fail-above T --model-out FILE
//	pipestep evaluate --model FILE --score-out FILE
//	pipestep loss --x X --y Y --loss-out FILE
//	pipestep kfp-prepare --epochs N --batches-out FILE
//	pipestep kfp-train --lr LR --batches N --metrics-out FILE
//
// prepare writes "X Y" to the data file and 3 to the epochs file, and
// prints a decoy loss=1000 (it is not the training step). train reads them
// and prints one "epoch e: loss=L" line per epoch, the last with
// L = (x−1)² + (y+2)², and writes L to the model file; when x > T it
// prints "diverged" to stderr and exits 3 instead. evaluate writes
// 1/(1+L) to the score file. loss writes L to the loss file. Every number is written with
// strconv.FormatFloat(v, 'g', -1, 64), so it reads back exactly.
//
// kfp-prepare and kfp-train are the two steps of examples/kfp-pipeline:
// kfp-prepare writes 30×epochs to the batches file; kfp-train writes
// Kubeflow Pipelines v1's metrics document, accuracy 1−lr and loss lr.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pipestep prepare|train|evaluate|loss|kfp-prepare|kfp-train [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	x := fs.Float64("x", 0, "")
	y := fs.Float64("y", 0, "")
	lr := fs.Float64("lr", 0, "")
	epochs := fs.Int("epochs", 0, "")
	batches := fs.Int("batches", 0, "")
	failAbove := fs.Float64("fail-above", 0, "")
	data := fs.String("data", "", "")
	model := fs.String("model", "", "")
	epochsOut := fs.String("epochs-out", "", "")
	dataOut := fs.String("data-out", "", "")
	modelOut := fs.String("model-out", "", "")
	scoreOut := fs.String("score-out", "", "")
	batchesOut := fs.String("batches-out", "", "")
	metricsOut := fs.String("metrics-out", "", "")
	lossOut := fs.String("loss-out", "", "")
	_ = fs.Parse(os.Args[2:])
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

	switch os.Args[1] {
	case "prepare":
		fmt.Printf("prepare: x=%s y=%s\nloss=1000\n", f(*x), f(*y))
		write(*dataOut, f(*x)+" "+f(*y)+"\n")
		write(*epochsOut, "3\n")
	case "train":
		fields := strings.Fields(read(*data))
		if len(fields) != 2 {
			fail("train: data file %s holds %q, want \"X Y\"", *data, fields)
		}
		xv, yv := parse(fields[0]), parse(fields[1])
		if *epochs < 1 {
			fail("train: --epochs %d", *epochs)
		}
		if xv > *failAbove {
			fmt.Fprintf(os.Stderr, "diverged: x=%s > %s\n", f(xv), f(*failAbove))
			os.Exit(3)
		}
		loss := (xv-1)*(xv-1) + (yv+2)*(yv+2)
		for e := 1; e <= *epochs; e++ {
			fmt.Printf("epoch %d: loss=%s\n", e, f(loss+float64(*epochs-e)))
		}
		write(*modelOut, f(loss))
	case "evaluate":
		loss := parse(strings.TrimSpace(read(*model)))
		write(*scoreOut, f(1/(1+loss))+"\n")
		fmt.Printf("evaluate: score=%s\n", f(1/(1+loss)))
	case "loss":
		write(*lossOut, f((*x-1)*(*x-1)+(*y+2)*(*y+2))+"\n")
	case "kfp-prepare":
		write(*batchesOut, strconv.Itoa(30**epochs))
	case "kfp-train":
		if *batches <= 0 {
			fail("kfp-train: --batches %d", *batches)
		}
		write(*metricsOut, fmt.Sprintf(`{"metrics": [{"name": "accuracy", "numberValue": %s, "format": "PERCENTAGE"}, {"name": "loss", "numberValue": %s}]}`, f(1-*lr), f(*lr)))
	default:
		fail("pipestep: unknown step %q", os.Args[1])
	}
}

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return string(b)
}

func write(path, s string) {
	if path == "" {
		fail("%s: an output path is missing", os.Args[1])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		fail("%v", err)
	}
}

func parse(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fail("%v", err)
	}
	return v
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
