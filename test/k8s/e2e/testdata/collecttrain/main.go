// Command collecttrain is the training program of the end-to-end
// collector tests: it computes L = (x−1)² + (y+2)² from --x and --y and
// reports it, for epochs 1 to 3, as L+2, L+1 and L, the way the
// experiment's metrics collector reads it:
//
//	collecttrain --x X --y Y --to file --log-path FILE     # TEXT lines: epoch=E loss=V
//	collecttrain --x X --y Y --to json --log-path FILE     # JSON lines: {"epoch": E, "loss": V}
//	collecttrain --x X --y Y --to tfevent --dir DIR        # a TensorFlow event file in DIR (float32 scalars tagged loss)
//	collecttrain --x X --y Y --to prometheus               # gauge loss L on 127.0.0.1:$TUNE_METRICS_PORT/metrics
//	collecttrain --x X --y Y --to push                     # one report to $TUNE_REPORT_URL with $TUNE_REPORT_TOKEN
//
// The Prometheus endpoint serves L (the last epoch's value) until it has
// answered one scrape, then the program exits.
//
// Whatever the destination, it first prints an ordinary line,
// "collecttrain: training with x=X y=Y", and a decoy "loss=-999" to its
// standard output: a collector other than StdOut must not record it (and,
// below every real loss, the decoy would win under the min strategy if it
// were). With --exit N it exits with code N after reporting, printing
// "collecttrain: exiting with N" to its standard error. With --wait it
// then prints "collecttrain: waiting for SIGTERM" (once it handles the
// signal), waits for SIGTERM, prints "collecttrain: terminated" and exits
// 143.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tune-hpo/tune/metrics/push"
	"github.com/tune-hpo/tune/metrics/tfevent/tfeventtest"
)

func main() {
	x := flag.Float64("x", 0, "x")
	y := flag.Float64("y", 0, "y")
	to := flag.String("to", "", "file, json, tfevent, prometheus or push")
	logPath := flag.String("log-path", "", "the metrics file (file, json)")
	dir := flag.String("dir", "", "the event directory (tfevent)")
	exit := flag.Int("exit", 0, "exit code")
	wait := flag.Bool("wait", false, "wait for SIGTERM after reporting")
	flag.Parse()
	loss := (*x-1)*(*x-1) + (*y+2)*(*y+2)
	fmt.Printf("collecttrain: training with x=%s y=%s\n", format(*x), format(*y))
	fmt.Println("loss=-999")
	if err := report(*to, loss, *logPath, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "collecttrain:", err)
		os.Exit(1)
	}
	if *wait {
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Println("collecttrain: waiting for SIGTERM")
		<-term
		fmt.Println("collecttrain: terminated")
		os.Exit(143)
	}
	if *exit != 0 {
		fmt.Fprintf(os.Stderr, "collecttrain: exiting with %d\n", *exit)
		os.Exit(*exit)
	}
}

func format(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// epochs returns the values of epochs 1 to 3: L+2, L+1, L.
func epochs(loss float64) []float64 { return []float64{loss + 2, loss + 1, loss} }

func report(to string, loss float64, logPath, dir string) error {
	switch to {
	case "file", "json":
		if logPath == "" {
			return errors.New("--log-path is required")
		}
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		for i, v := range epochs(loss) {
			if to == "file" {
				_, err = fmt.Fprintf(f, "epoch=%d loss=%s\n", i+1, format(v))
			} else {
				var line []byte
				line, err = json.Marshal(map[string]any{"epoch": i + 1, "loss": v})
				if err == nil {
					_, err = f.Write(append(line, '\n'))
				}
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		return f.Close()
	case "tfevent":
		if dir == "" {
			return errors.New("--dir is required")
		}
		var data []byte
		wall := float64(time.Now().UnixNano()) / 1e9
		for i, v := range epochs(loss) {
			data = append(data, tfeventtest.Scalar(wall, int64(i+1), []string{"loss"}, []float32{float32(v)})...)
		}
		host, _ := os.Hostname()
		return os.WriteFile(filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.%s", time.Now().Unix(), host)), data, 0o644)
	case "prometheus":
		return servePrometheus(loss)
	case "push":
		url, token := os.Getenv(push.EnvURL), os.Getenv(push.EnvToken)
		if url == "" || token == "" {
			return fmt.Errorf("%s or %s is not set", push.EnvURL, push.EnvToken)
		}
		var req push.Request
		for i, v := range epochs(loss) {
			req.Metrics = append(req.Metrics, push.Metric{Name: "loss", Value: v, Step: int64(i + 1)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return push.Report(ctx, url, token, req)
	}
	return fmt.Errorf("--to %q: want file, json, tfevent, prometheus or push", to)
}

// servePrometheus serves loss at /metrics on 127.0.0.1:$TUNE_METRICS_PORT
// until one scrape has been answered in full.
func servePrometheus(loss float64) error {
	port := os.Getenv("TUNE_METRICS_PORT")
	if port == "" {
		return errors.New("TUNE_METRICS_PORT is not set")
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	scraped := make(chan struct{})
	var once sync.Once
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP loss The training loss.\n# TYPE loss gauge\nloss %s\n", format(loss))
		once.Do(func() { close(scraped) })
	})}
	go srv.Serve(l)
	select {
	case <-scraped:
	case <-time.After(2 * time.Minute):
		return errors.New("never scraped")
	}
	// Shutdown waits for the scrape's response to be written.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}
