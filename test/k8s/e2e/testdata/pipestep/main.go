// Command pipestep is the step program of the end-to-end pipeline tests:
// one binary, three steps, each reading and writing only the paths it is
// given on its command line (as a container would see them).
//
//	pipestep prepare --x X --y Y --epochs-out FILE --data-out FILE
//	pipestep train --data FILE --epochs N --fail-above T --model-out FILE
//	pipestep evaluate --model FILE --score-out FILE
//	pipestep loss --x X --y Y [--add A] --loss-out FILE
//	pipestep write --content TEXT --to FILE
//	pipestep copy --from FILE --to FILE
//	pipestep exit --code N
//	pipestep sleep
//	pipestep katib-prep --epochs-out FILE
//	pipestep katib-train --lr LR --epochs N
//	pipestep kfp --x X [--y Y] [--to FILE] [--metrics-json FILE] [--ui-metadata FILE]
//
// prepare writes "X Y" to the data file and 3 to the epochs file, and
// prints a decoy loss=1000 (it is not the training step). train reads them
// and prints one "epoch e: loss=L" line per epoch, the last with
// L = (x−1)² + (y+2)², and writes L to the model file; when x > T it
// prints "diverged" to stderr and exits 3 instead. evaluate writes
// 1/(1+L) to the score file. loss writes L+A to the loss file. Every number is written with
// strconv.FormatFloat(v, 'g', -1, 64), so it reads back exactly.
//
// write writes TEXT to FILE; copy copies a file; exit exits with code N
// after printing "exiting with N" to stderr; sleep prints "sleeping" and
// waits for SIGTERM, then prints "terminated" and exits 143.
//
// katib-prep and katib-train are the two steps of Katib's Argo example:
// katib-prep prints a decoy loss=1000 and writes 4 to the epochs file;
// katib-train prints "epoch e: loss=L" for each epoch, the last with
// L = lr×epochs/4 (so lr when the epochs parameter arrived).
//
// kfp is a Kubeflow Pipelines v1 component: it writes X to --to, the
// metrics file of KFP v1 ({"metrics": [{"name": "loss", "numberValue":
// L, ...}]}, L = (x−1)² + (y+2)²) to --metrics-json and a markdown
// visualization to --ui-metadata, each when given.

package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pipestep prepare|train|evaluate|loss|write|copy|exit|sleep|katib-prep|katib-train|kfp [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	x := fs.Float64("x", 0, "")
	y := fs.Float64("y", 0, "")
	lr := fs.Float64("lr", 0, "")
	epochs := fs.Int("epochs", 0, "")
	failAbove := fs.Float64("fail-above", 0, "")
	data := fs.String("data", "", "")
	model := fs.String("model", "", "")
	epochsOut := fs.String("epochs-out", "", "")
	dataOut := fs.String("data-out", "", "")
	modelOut := fs.String("model-out", "", "")
	scoreOut := fs.String("score-out", "", "")
	lossOut := fs.String("loss-out", "", "")
	content := fs.String("content", "", "")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	code := fs.Int("code", 0, "")
	add := fs.Float64("add", 0, "")
	metricsJSON := fs.String("metrics-json", "", "")
	uiMetadata := fs.String("ui-metadata", "", "")
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
		write(*lossOut, f((*x-1)*(*x-1)+(*y+2)*(*y+2)+*add)+"\n")
	case "write":
		write(*to, *content)
	case "copy":
		write(*to, read(*from))
	case "exit":
		fmt.Fprintf(os.Stderr, "exiting with %d\n", *code)
		os.Exit(*code)
	case "sleep":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Println("sleeping")
		<-term
		fmt.Println("terminated")
		os.Exit(143)
	case "katib-prep":
		fmt.Println("loss=1000")
		write(*epochsOut, "4\n")
	case "katib-train":
		for e := 1; e <= *epochs; e++ {
			fmt.Printf("epoch %d: loss=%s\n", e, f(*lr*float64(*epochs)/4*float64(*epochs-e+1)))
		}
	case "kfp":
		if *to != "" {
			write(*to, f(*x))
		}
		if *metricsJSON != "" {
			write(*metricsJSON, fmt.Sprintf(`{"metrics": [{"name": "loss", "numberValue": %s, "format": "RAW"}]}`, f((*x-1)*(*x-1)+(*y+2)*(*y+2))))
		}
		if *uiMetadata != "" {
			write(*uiMetadata, fmt.Sprintf(`{"outputs": [{"type": "markdown", "storage": "inline", "source": "x = %s"}]}`, f(*x)))
		}
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
