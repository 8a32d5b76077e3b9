"""Compare two algorithms' regrets from -raw files (tune bench suggest -raw, optuna_tpe.py).

Usage: python3 compare.py A_ALGORITHM B_ALGORITHM FILE...
For each function and budget present for both, prints the two medians, the
probability that a run of A ends with a lower regret than a run of B
(ties counted half), and the Mann-Whitney z score (positive: A worse);
|z| > 1.96 is a difference at the 5 % level. Standard library only.
"""
import json
import math
import statistics
import sys


def main():
    a_name, b_name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    runs = {}
    for path in files:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r.get("parallelism", 1) == 1:
                    runs.setdefault((r["function"], r["budget"], r["algorithm"]), []).append(r["regret"])
    print("| function | budget | %s | %s | P(%s better) | z |" % (a_name, b_name, a_name))
    print("|---|---:|---:|---:|---:|---:|")
    for (fn, budget, alg) in sorted(runs):
        if alg != a_name or (fn, budget, b_name) not in runs:
            continue
        a, b = runs[(fn, budget, a_name)], runs[(fn, budget, b_name)]
        wins = sum((x < y) + 0.5 * (x == y) for x in a for y in b)
        n1, n2 = len(a), len(b)
        z = (n1 * n2 / 2 - wins) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
        print("| %s | %d | %.4g (%d runs) | %.4g (%d runs) | %.3f | %+.2f |" % (
            fn, budget, statistics.median(a), n1, statistics.median(b), n2, wins / (n1 * n2), z))


if __name__ == "__main__":
    main()
