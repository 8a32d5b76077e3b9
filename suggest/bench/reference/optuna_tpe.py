"""Optuna's samplers on tune's benchmark functions, for side-by-side comparisons.

Needs Debian's python3-optuna (3.1 on Debian 12): apt-get install python3-optuna.
Usage: python3 optuna_tpe.py FUNCTION SEEDS [FIRST_SEED [SAMPLER]] > out.jsonl
with SAMPLER tpe (the default), cmaes or random, writes one JSON object per
run and budget, in the format of tune bench suggest -raw
(algorithm optuna-tpe, optuna-cmaes, optuna-random), so that compare.py can
read both. The functions are the same definitions as
suggest/bench/*.go; the mixed ones ask Optuna for their
categorical, int and log-scaled parameters as such.
"""
import json
import math
import sys

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


def ackley(x):
    n = len(x)
    sq = sum(v * v for v in x)
    cs = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(sq / n)) - math.exp(cs / n) + 20 + math.e


ACKLEY_SHIFT = [-7.1, 12.4, 3.3, -21.7, 9.6]


def ackley_shifted(x):
    return ackley([v - s for v, s in zip(x, ACKLEY_SHIFT)])


def mixed(t):
    x = t.suggest_float("x", -5, 5)
    n = t.suggest_int("n", 0, 10)
    lr = t.suggest_float("lr", 1e-4, 1, log=True)
    kind = t.suggest_categorical("kind", ["a", "b", "c", "d"])
    shift, offset = {"a": (-2, 0.5), "b": (1.5, 0), "c": (3, 1), "d": (0, 0.25)}[kind]
    return (x - shift) ** 2 + (n - 7) ** 2 / 4 + (math.log10(lr) + 2) ** 2 + offset


def decoy(t):
    x1, x2 = t.suggest_float("x1", 0, 1), t.suggest_float("x2", 0, 1)
    kind = t.suggest_categorical("kind", ["broad", "narrow", "flat"])
    n = t.suggest_int("n", 1, 8)
    if kind == "broad":
        d = math.hypot(x1 - 0.3, x2 - 0.7)
        f = 0.5 + 0.4 * d * d
    elif kind == "narrow":
        d = math.hypot(x1 - 0.72, x2 - 0.28)
        f = 0.9 * (1 - math.exp(-d * d / (2 * 0.12 * 0.12))) + 0.6 * d
    else:
        f = 0.85 + 0.1 * x1
    return f + 0.02 * (n - 5) ** 2


def conditional(t):
    opt = t.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    u = math.log10(t.suggest_float("lr", 1e-5, 1, log=True))
    v = math.log10(t.suggest_float("decay", 1e-6, 0.1, log=True))
    momentum = t.suggest_float("momentum", 0, 0.99)
    layers = t.suggest_int("layers", 1, 8)
    dropout = t.suggest_float("dropout", 0, 0.5)
    if opt == "sgd":
        f = 0.3 + (u + 1.5) ** 2 / 4 + 2 * (momentum - 0.9) ** 2
    elif opt == "rmsprop":
        f = 0.5 + (u + 2.5) ** 2 / 6
    else:
        r = math.hypot(u + 3.3, v + 4)
        f = 1 - math.exp(-r * r / (2 * 0.4 * 0.4)) + 0.1 * r + (layers - 4) ** 2 / 40
    return f + 0.5 * (dropout - 0.1) ** 2


# Functions of a whole trial (mixed spaces), by name: (objective, optimum).
LEVY_SHIFT_CENTRE = [-5.5, 6.2, -3.1, 4.4, -6.8, 2.7, -1.9, 7.3, -4.2, 5.1, -7.4, 3.6, -2.6, 6.9, -5, 1.8]


def levy_shifted(x):
    return levy([v - c + 1 for v, c in zip(x, LEVY_SHIFT_CENTRE)])


TRIAL_FUNCTIONS = {
    "mixed": (mixed, 0.0),
    "decoy": (decoy, 0.0),
    "conditional": (conditional, 0.0),
}

FUNCTIONS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.397887357729738),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551),
    "rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0),
    "levy4": (levy, [(-10, 10)] * 4, 0.0),
    "styblinskitang8": (styblinski_tang, [(-5, 5)] * 8, -39.16616570377142 * 8),
    "ackley5": (ackley, [(-32.768, 32.768)] * 5, 0.0),
    "ackley5shift": (ackley_shifted, [(-32.768, 32.768)] * 5, 0.0),
    "levy16": (levy, [(-10, 10)] * 16, 0.0),
    "levy16shift": (levy_shifted, [(-10, 10)] * 16, 0.0),
    "styblinskitang16": (styblinski_tang, [(-5, 5)] * 16, -39.16616570377142 * 16),
}


def sampler(name, seed):
    import optuna  # here, so that the functions can be imported without it

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise SystemExit("unknown sampler %r: want tpe, cmaes or random" % name)


def main():
    name, seeds = sys.argv[1], int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    kind = sys.argv[4] if len(sys.argv) > 4 else "tpe"
    if name in TRIAL_FUNCTIONS:
        objective, optimum = TRIAL_FUNCTIONS[name]
    else:
        f, bounds, optimum = FUNCTIONS[name]

        def objective(t):
            return f([t.suggest_float("x%d" % i, lo, hi) for i, (lo, hi) in enumerate(bounds)])
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(first, first + seeds):
        study = optuna.create_study(sampler=sampler(kind, seed))
        study.optimize(objective, n_trials=100)
        values = [t.value for t in study.trials]
        for budget in (50, 100):
            print(json.dumps({"function": name, "algorithm": "optuna-" + kind, "parallelism": 1, "seed": seed,
                              "budget": budget, "regret": min(values[:budget]) - optimum}), flush=True)


if __name__ == "__main__":
    main()
