#!/usr/bin/env python3
"""A stand-in for Katib's DARTS trial (examples/v1beta1/trial-images/
darts-cnn-cifar10/run_trial.py) that needs only Python's standard library.

It takes the same three arguments and parses them as Katib's trial does
(single quotes turned into double quotes, then JSON), converts every
setting as that trial does, and "searches" without a network: each node of
the cell keeps, for its two strongest edges, the operation whose weight is
largest, the weights being a deterministic function of the operation's name,
the node and the settings. It prints the result as Katib's trial does, on
one line: Best-Genotype=Genotype(normal=[...],normal_concat=range(2,N),...).

When the environment variable DARTS_RECORD names a file, it also writes
there the three arguments it received, as JSON, so that a test can compare
them with what Katib's service would have rendered.
"""

import argparse
import hashlib
import json
import os


def weight(*parts):
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


def main():
    parser = argparse.ArgumentParser(description="TrainingContainer")
    parser.add_argument("--algorithm-settings", type=str, default="")
    parser.add_argument("--search-space", type=str, default="")
    parser.add_argument("--num-layers", type=str, default="")
    args = parser.parse_args()

    record = os.environ.get("DARTS_RECORD")
    if record:
        with open(record, "w") as f:
            json.dump({"algorithm-settings": args.algorithm_settings,
                       "search-space": args.search_space,
                       "num-layers": args.num_layers}, f)

    settings = json.loads(args.algorithm_settings.replace("'", '"'))
    print(">>> Algorithm settings")
    for key, value in settings.items():
        print("{}\t{}".format(key, value))
    num_epochs = int(settings["num_epochs"])
    for name in ("w_lr", "w_lr_min", "w_momentum", "w_weight_decay",
                 "w_grad_clip", "alpha_lr", "alpha_weight_decay"):
        float(settings[name])
    batch_size = settings["batch_size"]
    if batch_size is not None:
        int(batch_size)
    for name in ("num_workers", "init_channels", "print_step", "stem_multiplier"):
        int(settings[name])
    num_nodes = int(settings["num_nodes"])

    primitives = json.loads(args.search_space.replace("'", '"'))
    print(">>> All Primitives")
    print("{}\n".format(primitives + ["none"]))
    num_layers = int(args.num_layers)
    print("Number of layers {}\n".format(num_layers))

    def cell(kind):
        gene = []
        for node in range(num_nodes):
            edges = []
            for edge in range(node + 2):
                best = max(primitives, key=lambda op: weight(kind, node, edge, op, num_epochs, num_layers))
                edges.append((weight(kind, node, edge, best, num_epochs, num_layers), best, edge))
            edges.sort(reverse=True)
            gene.append([(op, edge) for _, op, edge in edges[:2]])
        return gene

    for epoch in range(num_epochs):
        print("Epoch {}/{} done".format(epoch + 1, num_epochs))
    concat = "range(2,{})".format(2 + num_nodes)
    genotype = "Genotype(normal={},normal_concat={},reduce={},reduce_concat={})".format(
        cell("normal"), concat, cell("reduce"), concat)
    print("\nBest-Genotype={}".format(genotype.replace(" ", "")))


if __name__ == "__main__":
    main()
