#!/usr/bin/python3
"""Optuna's fANOVA importances of a tune experiment, for comparison with
`tune importance` (docs/compare.md, "Parameter importance").

Not a test dependency: tune's tests never run it. It needs Optuna and
scikit-learn (Debian: apt-get install python3-optuna python3-sklearn).

    tune get trials NAME -o json > trials.json      # or a CSV, see below
    tune importance NAME -o json > tune.json        # optional, for the side-by-side
    /usr/bin/python3 optuna_importance.py EXPERIMENT.yaml trials.json [--tune tune.json] [--seed 0] [--log-space]

The experiment file gives the search space (Optuna needs the
distributions): double parameters become FloatDistribution (log=True for
logUniform and logNormal), int ones IntDistribution, discrete ones
CategoricalDistribution of their numbers, categorical ones
CategoricalDistribution. The trials file is `tune get trials -o json`
output, or a CSV with a header naming the parameters and the objective
metric (a `status` column, when present, keeps only Succeeded rows; `tune
export` writes such a file). Only succeeded trials with the objective are
used, as tune does.

Optuna (3.1 to 4.x) measures every parameter on its raw scale
(transform_log=False), where tune measures log-scaled parameters on the log
scale they were searched on. --log-space gives Optuna the log of those
parameters instead, which is tune's measure.
"""

import argparse
import csv
import json
import math
import sys

import optuna
import yaml
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator


def space_of(spec, log_space):
    dists = {}
    logged = set()
    for p in spec["spec"]["parameters"]:
        name, kind, fs = p["name"], p["parameterType"], p.get("feasibleSpace", {})
        log = fs.get("distribution") in ("logUniform", "logNormal")
        if kind == "double":
            lo, hi = float(fs["min"]), float(fs["max"])
            if log and log_space:
                dists[name] = FloatDistribution(math.log(lo), math.log(hi))
                logged.add(name)
            else:
                dists[name] = FloatDistribution(lo, hi, log=log)
        elif kind == "int":
            lo, hi = int(fs["min"]), int(fs["max"])
            if log and log_space:
                dists[name] = FloatDistribution(math.log(lo), math.log(hi))
                logged.add(name)
            else:
                dists[name] = IntDistribution(lo, hi, log=log)
        elif kind == "discrete":
            dists[name] = CategoricalDistribution([float(v) for v in fs["list"]])
        else:
            dists[name] = CategoricalDistribution(list(fs["list"]))
    return dists, logged


def read_trials(path, objective):
    """Yields (params as strings, objective value) of succeeded trials."""
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("status", "Succeeded") != "Succeeded" or row.get(objective, "") == "":
                    continue
                yield row, float(row[objective])
        return
    with open(path) as f:
        for t in json.load(f):
            if t["status"] != "Succeeded" or objective not in t.get("metrics", {}):
                continue
            yield t["parameters"], float(t["metrics"][objective])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiment")
    ap.add_argument("trials")
    ap.add_argument("--tune", help="tune importance -o json output to print beside Optuna's")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-space", action="store_true", help="measure log-scaled parameters on their log, as tune does")
    args = ap.parse_args()

    with open(args.experiment) as f:
        spec = yaml.safe_load(f)
    objective = spec["spec"]["objective"]["objectiveMetricName"]
    dists, logged = space_of(spec, args.log_space)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    n = 0
    for params, value in read_trials(args.trials, objective):
        values = {}
        for name, d in dists.items():
            text = params[name]
            if isinstance(d, CategoricalDistribution):
                values[name] = float(text) if isinstance(d.choices[0], float) else text
            elif name in logged:
                values[name] = math.log(float(text))
            elif isinstance(d, IntDistribution):
                values[name] = int(float(text))
            else:
                values[name] = float(text)
        study.add_trial(optuna.trial.create_trial(params=values, distributions=dists, value=value))
        n += 1
    if n < 2:
        sys.exit(f"{args.trials}: {n} succeeded trial(s) with {objective}; need at least 2")

    got = optuna.importance.get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=args.seed))
    tune = {}
    if args.tune:
        with open(args.tune) as f:
            for t in json.load(f)["importances"]:
                if len(t["parameters"]) == 1:
                    tune[t["parameters"][0]] = t["importance"]
    print(f"# {spec['metadata']['name']}: {n} trials, objective {objective}, Optuna {optuna.__version__}"
          + (", log-scaled parameters on their log" if args.log_space else ""))
    print(f"{'PARAMETER':<16}{'OPTUNA':>10}" + (f"{'TUNE':>10}" if tune else ""))
    for name, share in got.items():
        line = f"{name:<16}{share:>10.3f}"
        if tune:
            line += f"{tune.get(name, float('nan')):>10.3f}"
        print(line)


if __name__ == "__main__":
    main()
