// Command pbt is the toy of the population-based training paper
// (Jaderberg et al. 2017, §4.1) as a trial program: it maximises
// Q(θ) = 1.2 − (θ0² + θ1²) by gradient ascent on the surrogate
// Q̂(θ|h) = 1.2 − (h0·θ0² + h1·θ1²), whose hyperparameters h weight the
// gradient, so that a trial only makes progress on the coordinates its h
// favours.
//
// It resumes θ from theta.json in its checkpoint directory when there is
// one (a copy of its parent's, made by tune before it starts), else starts
// from θ = (0.9, 0.9); takes --steps steps of size --eta; writes θ back;
// and prints the objective and the steps taken along its lineage:
//
//	q=0.913 steps=24
//
// The checkpoint directory is $TUNE_CHECKPOINT_DIR when tune sets it (a
// local trial), else --checkpoint (Katib's suggestion_trial_dir, where a
// pod finds its directory mounted). With --fail-below h0 it exits with
// status 1 when --h0 is below that, to stand for a member whose training
// diverges.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkpoint is what a trial leaves for its children.
type checkpoint struct {
	Theta [2]float64 `json:"theta"`
	Steps int        `json:"steps"`
}

func main() {
	h0 := flag.Float64("h0", 0, "weight of θ0's gradient")
	h1 := flag.Float64("h1", 0, "weight of θ1's gradient")
	steps := flag.Int("steps", 4, "gradient steps to take")
	eta := flag.Float64("eta", 0.02, "step size")
	dir := flag.String("checkpoint", "/var/log/katib/checkpoints/", "checkpoint directory (resume and save)")
	failBelow := flag.Float64("fail-below", -1, "exit with status 1 when h0 is below this")
	flag.Parse()
	if d := os.Getenv("TUNE_CHECKPOINT_DIR"); d != "" {
		*dir = d
	}
	if err := run(*dir, *h0, *h1, *eta, *steps, *failBelow); err != nil {
		fmt.Fprintln(os.Stderr, "pbt:", err)
		os.Exit(1)
	}
}

func run(dir string, h0, h1, eta float64, steps int, failBelow float64) error {
	if h0 < failBelow {
		return fmt.Errorf("h0 %v is below %v: diverged", h0, failBelow)
	}
	c := checkpoint{Theta: [2]float64{0.9, 0.9}}
	file := filepath.Join(dir, "theta.json")
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("read checkpoint %s: %w", file, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	for range steps {
		c.Theta[0] -= eta * 2 * h0 * c.Theta[0]
		c.Theta[1] -= eta * 2 * h1 * c.Theta[1]
	}
	c.Steps += steps
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ = json.Marshal(c)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("q=%v steps=%d\n", 1.2-(c.Theta[0]*c.Theta[0]+c.Theta[1]*c.Theta[1]), c.Steps)
	return nil
}
