package bench

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// conditional returns a mixed function of this benchmark's design shaped
// like an optimiser's hyperparameters, where a categorical decides which
// continuous parameters matter:
//
//	optimizer  categorical  {sgd, adam, rmsprop}
//	lr         double       [1e-5, 1], logUniform
//	decay      double       [1e-6, 0.1], logUniform
//	momentum   double       [0, 0.99]
//	layers     int          [1, 8]
//	dropout    double       [0, 0.5]
//
// With u = log₁₀ lr and v = log₁₀ decay: sgd is 0.3 + (u + 1.5)²/4 +
// 2(momentum − 0.9)², where decay and layers do not matter; rmsprop is
// 0.5 + (u + 2.5)²/6, where only lr does; adam is, with r the distance
// from (u, v) to (−3.3, −4), 1 − exp(−r²/(2·0.4²)) + 0.1·r +
// (layers − 4)²/40, a narrow deep optimum in (lr, decay) on a gentle
// slope, where momentum does not matter and layers does. Every optimizer adds 0.5·(dropout − 0.1)². Its minimum 0 is at
// optimizer = adam, lr = 10^−3.3, decay = 10^−4, layers = 4, dropout = 0.1,
// any momentum; sgd and rmsprop never go below 0.3.
func conditional() testFunction {
	space := suggest.Space{
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam", "rmsprop"}},
		{Name: "lr", Type: suggest.Double, Min: 1e-5, Max: 1, Distribution: suggest.LogUniform},
		{Name: "decay", Type: suggest.Double, Min: 1e-6, Max: 0.1, Distribution: suggest.LogUniform},
		{Name: "momentum", Type: suggest.Double, Min: 0, Max: 0.99},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
		{Name: "dropout", Type: suggest.Double, Min: 0, Max: 0.5},
	}
	return testFunction{name: "conditional", space: space, optimum: 0, eval: conditionalValue, category: "optimizer", bestCategory: "adam"}
}

// conditionalValue evaluates the conditional function at a.
func conditionalValue(a suggest.Assignment) (float64, error) {
	x, err := floats("conditional", a, "lr", "decay", "momentum", "dropout")
	if err != nil {
		return 0, err
	}
	if x[0] <= 0 || x[1] <= 0 {
		return 0, fmt.Errorf("conditional: lr=%q and decay=%q must be positive", a["lr"], a["decay"])
	}
	layers, err := strconv.Atoi(a["layers"])
	if err != nil {
		return 0, fmt.Errorf("conditional: layers=%q: %w", a["layers"], err)
	}
	u, v, momentum, dropout := math.Log10(x[0]), math.Log10(x[1]), x[2], x[3]
	var f float64
	switch a["optimizer"] {
	case "sgd":
		f = 0.3 + (u+1.5)*(u+1.5)/4 + 2*(momentum-0.9)*(momentum-0.9)
	case "rmsprop":
		f = 0.5 + (u+2.5)*(u+2.5)/6
	case "adam":
		r := math.Hypot(u+3.3, v+4)
		dl := float64(layers - 4)
		f = 1 - math.Exp(-r*r/(2*0.4*0.4)) + 0.1*r + dl*dl/40
	default:
		return 0, fmt.Errorf("conditional: optimizer=%q is not one of sgd, adam, rmsprop", a["optimizer"])
	}
	dd := dropout - 0.1
	return f + 0.5*dd*dd, nil
}
