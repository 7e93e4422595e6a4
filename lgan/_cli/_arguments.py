"""Argument types and the estimator options shared by the commands of ``python -m lgan``."""

from __future__ import annotations

import argparse
import math

PROG = "python -m lgan"

DEFAULT_STEPS = 2000
DEFAULT_BATCH_SIZE = 256
DEFAULT_STRENGTHS = (0.1, 0.3, 0.5)


def parse_seed(text) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 2**63:
        raise ValueError(f"--seed must be an integer in [0, 2^63), got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _parse(text, int, lambda value: value >= 1, "a positive integer")


def positive_float(text: str) -> float:
    return _parse(text, float, lambda value: math.isfinite(value) and value > 0, "a number > 0")


def _parse(text: str, convert, ok, expected: str):
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def name_list(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got {text!r}")
    return names


def float_list(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return values


DATA_HELP = (
    "a .npy file holding (n, d) vectors or (n, C, H, W) images (uint8 images are divided by 255), "
    "or a built-in name: digits (sklearn's 8x8 digits), gaussian (N(0, 1), n = 4000), "
    "mixture-M such as mixture-4 (two unit Gaussians M apart), ring (8 Gaussians on a circle)"
)


def add_estimator_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("estimator (passed to lgan.estimate_poincare_constant)")
    group.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        default=DEFAULT_STEPS,
        help=f"training steps (default {DEFAULT_STEPS})",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="B",
        default=DEFAULT_BATCH_SIZE,
        help=f"samples per step (default {DEFAULT_BATCH_SIZE}, as in the paper)",
    )
    for option, metavar in (("--width", "W"), ("--depth", "D")):
        group.add_argument(
            option,
            type=positive_int,
            metavar=metavar,
            help=f"{option[2:]} of the test-function network (default: the estimator's)",
        )
    group.add_argument("--lr", type=positive_float, metavar="LR", help="Adam learning rate (default: the estimator's)")
    # Checked when used (parse_seed), so that a bad seed gives the one-line error of the other checks.
    group.add_argument("--seed", metavar="S", default="0", help="random seed, an integer in [0, 2^63) (default 0)")
    group.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
