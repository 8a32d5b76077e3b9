// Command curve is a synthetic training run for tune's early-stopping
// tests: it prints one learning-curve point per epoch, whose final value
// depends on its hyperparameters and which improves with every epoch, the
// way real validation accuracy does.
//
//	curve --lr 0.01 --momentum 0.9 --epochs 20
//
// prints "epoch=E accuracy=A loss=L" for E = 1..epochs. The curve is
//
//	accuracy(E) = final · (1 − exp(−E/τ))
//	final       = 0.95 − 0.15·(log10(lr)+2)² − 0.5·(momentum−0.9)²
//	τ           = 2 + 2·|log10(lr)+2|
//
// so lr = 0.01 and momentum = 0.9 are best (0.95 in the limit), and a
// poor setting is already visibly poor after a few epochs. It is
// deterministic: equal flags print equal curves.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"time"
)

func main() {
	lr := flag.Float64("lr", 0.01, "learning rate (> 0)")
	momentum := flag.Float64("momentum", 0.9, "momentum")
	epochs := flag.Int("epochs", 20, "epochs to train (the resource)")
	delay := flag.Duration("epoch-delay", 0, "sleep this long per epoch")
	flag.Parse()
	if *lr <= 0 || *epochs < 1 {
		fmt.Fprintln(os.Stderr, "curve: --lr must be > 0 and --epochs ≥ 1")
		os.Exit(2)
	}
	d := math.Log10(*lr) + 2
	final := 0.95 - 0.15*d*d - 0.5*(*momentum-0.9)*(*momentum-0.9)
	tau := 2 + 2*math.Abs(d)
	for e := 1; e <= *epochs; e++ {
		time.Sleep(*delay)
		acc := final * (1 - math.Exp(-float64(e)/tau))
		fmt.Printf("epoch=%d accuracy=%.6f loss=%.6f\n", e, acc, 1-acc)
	}
}
