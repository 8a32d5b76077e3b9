"""Optuna's TPE on tune's benchmark functions, for side-by-side comparisons.

Needs Debian's python3-optuna (3.1 on Debian 12): apt-get install python3-optuna.
Usage: python3 optuna_tpe.py FUNCTION SEEDS [FIRST_SEED] > out.jsonl
writes one JSON object per run and budget, in the format of
go run ./internal/cmd/suggestbench -raw, so that compare.py can read both.
The functions are the same definitions as internal/cmd/suggestbench/*.go.
"""
import json
import math
import sys

import optuna

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    f = math.sin(math.pi * w[0]) ** 2
    for i in range(len(x) - 1):
        f += (w[i] - 1) ** 2 * (1 + 10 * math.sin(math.pi * w[i] + 1) ** 2)
    return f + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def styblinski_tang(x):
    return sum(v ** 4 - 16 * v ** 2 + 5 * v for v in x) / 2


FUNCTIONS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.397887357729738),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551),
    "rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0),
    "levy4": (levy, [(-10, 10)] * 4, 0.0),
    "styblinskitang8": (styblinski_tang, [(-5, 5)] * 8, -39.16616570377142 * 8),
}


def main():
    name, seeds = sys.argv[1], int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    f, bounds, optimum = FUNCTIONS[name]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(first, first + seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(lambda t: f([t.suggest_float("x%d" % i, lo, hi) for i, (lo, hi) in enumerate(bounds)]),
                       n_trials=100)
        values = [t.value for t in study.trials]
        for budget in (50, 100):
            print(json.dumps({"function": name, "algorithm": "optuna-tpe", "parallelism": 1, "seed": seed,
                              "budget": budget, "regret": min(values[:budget]) - optimum}), flush=True)


if __name__ == "__main__":
    main()
