#!/usr/bin/env python3
"""A stand-in for Katib's simple-pbt trial image (examples/v1beta1/trial-images/
simple-pbt/pbt_test.py) using the Python standard library only, with the same
interface: --lr, --epochs, --checkpoint DIR; it resumes step and accuracy from
DIR/training.ckpt (a pickle) when there is one, trains, writes it back and
prints

    epoch N:
    lr=0.0100
    Validation-accuracy=0.1234

The accuracy grows fastest when lr is close to an optimum that depends on the
accuracy reached (a triangle wave), so a learning-rate schedule helps. The
noise is seeded by lr and the step, so a run is reproducible."""

import argparse
import os
import pickle
import random


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.0001)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--checkpoint", default="/var/log/katib/checkpoints/")
    opt = p.parse_args()

    path = os.path.join(opt.checkpoint, "training.ckpt")
    step, acc = 1, 0.0
    if os.path.exists(path):
        with open(path, "rb") as f:
            c = pickle.load(f)
        step, acc = c["step"], c["accuracy"]
    os.makedirs(opt.checkpoint, exist_ok=True)

    rng = random.Random("%r/%d" % (opt.lr, step))
    for _ in range(opt.epochs):
        best = 0.01 * acc / 50 if acc < 50 else 0.01 - 0.01 * (acc - 50) / 50
        best = min(0.01, max(0.001, best))
        err = max(opt.lr, best) / (min(opt.lr, best) + 1e-16)
        if err < 3:
            acc += rng.random() / err
        elif opt.lr > best:
            acc -= (err - 3) * rng.random()
        acc += rng.gauss(0, 2)
        acc = max(0.0, min(100.0, acc))
        step += 1

    with open(path, "wb") as f:
        pickle.dump({"step": step, "accuracy": acc}, f)
    print("epoch {}:\nlr={:0.4f}\nValidation-accuracy={:0.4f}".format(step, opt.lr, acc / 100))


if __name__ == "__main__":
    main()
