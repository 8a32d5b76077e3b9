#!/usr/bin/env python3
"""A stand-in for Katib's ENAS trial (examples/v1beta1/trial-images/
enas-cnn-cifar10/RunTrial.py) that needs only Python's standard library.

It takes the same arguments (--architecture, --nn_config, --num_epochs,
--num_gpus), parses them as Katib's trial does (single quotes turned into
double quotes, then JSON) and prints what it received as Katib's trial
does. Instead of training the network on CIFAR-10 it scores the
architecture by a fixed rule and prints the score, once per epoch, as
Katib's trial prints its validation accuracy:

  - each layer scores by its operation: convolution 0.6, separable
    convolution 0.5, depthwise convolution 0.4, reduction 0.2, anything
    else 0.1; plus 0.1 for filter_size 3 and 0.05 for stride 1;
  - a skip connection from the layer just before adds 0.1, any other
    skip connection takes 0.05 away;
  - Validation-Accuracy is the layers' mean, clipped to [0, 1].
"""

import argparse
import json

OP_SCORE = {
    "convolution": 0.6,
    "separable_convolution": 0.5,
    "depthwise_convolution": 0.4,
    "reduction": 0.2,
}


def score(arch, nn_config):
    total = 0.0
    for layer, entries in enumerate(arch):
        op = nn_config["embedding"][str(entries[0])]
        params = op["opt_params"]
        s = OP_SCORE.get(op["opt_type"], 0.1)
        if str(params.get("filter_size")) == "3":
            s += 0.1
        if str(params.get("stride")) == "1":
            s += 0.05
        for j, skip in enumerate(entries[1:]):
            if skip == 1:
                s += 0.1 if j == layer - 1 else -0.05
        total += s
    return min(1.0, max(0.0, total / len(arch)))


def main():
    parser = argparse.ArgumentParser(description="TrainingContainer")
    parser.add_argument("--architecture", type=str, default="")
    parser.add_argument("--nn_config", type=str, default="")
    parser.add_argument("--num_epochs", type=int, default=10)
    parser.add_argument("--num_gpus", type=int, default=1)
    args = parser.parse_args()

    arch = args.architecture.replace("'", '"')
    print(">>> arch received by trial")
    print(arch)
    nn_config = args.nn_config.replace("'", '"')
    print(">>> nn_config received by trial")
    print(nn_config)

    arch = json.loads(arch)
    nn_config = json.loads(nn_config)
    if len(arch) != nn_config["num_layers"]:
        raise SystemExit("architecture has %d layers, nn_config %d" % (len(arch), nn_config["num_layers"]))
    accuracy = score(arch, nn_config)
    for epoch in range(args.num_epochs):
        print("\nTotal Epoch {}/{}".format(epoch + 1, args.num_epochs))
        print("Validation-Accuracy={}".format(accuracy))


if __name__ == "__main__":
    main()
