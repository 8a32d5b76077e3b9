"""A fake training loop that reports its metrics to tune with tune_report.

    python3 examples/push/train.py --lr 0.05 --epochs 10
"""
import argparse
import math

from tune_report import report


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True, help="learning rate")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    # A made-up learning curve whose best learning rate is about 0.05.
    quality = math.exp(-(math.log10(args.lr) - math.log10(0.05)) ** 2)
    for epoch in range(1, args.epochs + 1):
        progress = 1 - math.exp(-epoch / 3)
        accuracy = 0.1 + 0.85 * quality * progress
        loss = 2.3 * (1 - accuracy)
        report(accuracy=accuracy, loss=loss, step=epoch)
        print(f"epoch {epoch}: accuracy {accuracy:.4f} loss {loss:.4f}", flush=True)


if __name__ == "__main__":
    main()
