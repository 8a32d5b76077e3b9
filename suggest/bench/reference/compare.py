"""Compare regrets from -raw files (tune bench suggest -raw, optuna_tpe.py).

Usage: python3 compare.py A_ALGORITHM B_ALGORITHM FILE...
       python3 compare.py --parallel SCALE ALGORITHM FILE...

The first form compares two algorithms at parallelism 1: for each function
and budget present for both, it prints the two medians, the probability
that a run of A ends with a lower regret than a run of B (ties counted
half), and the Mann-Whitney z score (positive: A worse); |z| > 1.96 is a
difference at the 5 % level.

The second sets one algorithm's parallel runs against its sequential ones
times SCALE (1.5: "within 1.5 times the sequential regret"): for each
function, budget and parallelism other than 1, the two medians, their
ratio, the z score of the parallel runs against SCALE times the sequential
ones (positive: the parallel runs worse) and its one-sided p, the
probability of a z that high were the parallel runs no worse than SCALE
times the sequential ones. Standard library only.
"""
import json
import math
import statistics
import sys


def load(files):
    """Returns {(function, budget, algorithm, parallelism): [regret, ...]}."""
    runs = {}
    for path in files:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                key = (r["function"], r["budget"], r["algorithm"], r.get("parallelism", 1))
                runs.setdefault(key, []).append(r["regret"])
    return runs


def mann_whitney(a, b):
    """Returns the probability that a run of a is lower than one of b (ties
    half) and the Mann-Whitney z score, positive when a is higher."""
    wins = sum((x < y) + 0.5 * (x == y) for x in a for y in b)
    n1, n2 = len(a), len(b)
    z = (n1 * n2 / 2 - wins) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return wins / (n1 * n2), z


def algorithms(runs, a_name, b_name):
    print("| function | budget | %s | %s | P(%s better) | z |" % (a_name, b_name, a_name))
    print("|---|---:|---:|---:|---:|---:|")
    for (fn, budget, alg, par) in sorted(runs):
        if alg != a_name or par != 1 or (fn, budget, b_name, 1) not in runs:
            continue
        a, b = runs[(fn, budget, a_name, 1)], runs[(fn, budget, b_name, 1)]
        better, z = mann_whitney(a, b)
        print("| %s | %d | %.4g (%d runs) | %.4g (%d runs) | %.3f | %+.2f |" % (
            fn, budget, statistics.median(a), len(a), statistics.median(b), len(b), better, z))


def parallel(runs, scale, name):
    print("| function | budget | parallelism | sequential | parallel | ratio | z against %g × sequential | one-sided p |" % scale)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (fn, budget, alg, par) in sorted(runs):
        if alg != name or par == 1 or (fn, budget, name, 1) not in runs:
            continue
        seq, par_runs = runs[(fn, budget, name, 1)], runs[(fn, budget, name, par)]
        _, z = mann_whitney(par_runs, [scale * v for v in seq])
        s, p = statistics.median(seq), statistics.median(par_runs)
        ratio = "%.3g" % (p / s) if s else ("1" if p == 0 else "inf")
        print("| %s | %d | %d | %.3g | %.3g | %s | %+.2f | %.3f |" % (
            fn, budget, par, s, p, ratio, z, 0.5 * math.erfc(z / math.sqrt(2))))


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "--parallel":
        try:
            scale = float(args[1])
        except ValueError:
            sys.exit("compare.py: --parallel SCALE: %r is not a number" % args[1])
        parallel(load(args[3:]), scale, args[2])
    elif len(args) >= 3 and not args[0].startswith("-"):
        algorithms(load(args[2:]), args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
