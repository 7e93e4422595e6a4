"""The command line: ``python -m lgan xi | advise | rank-augmentations`` (Khrulkov et al. 2021, Sections 6-7).

``xi`` estimates the Poincare constant xi_min of a data set, ``advise`` turns xi_min into the
optimal damping and penalty of eq. 25, and ``rank-augmentations`` compares augmentations by the
xi_min of the augmented data (the paper's Figure 4). Bad input ends with exit code 2 and one line
``lgan: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import sys

from ._arguments import (
    DEFAULT_STRENGTHS,
    PROG,
    add_estimator_options,
    DATA_HELP,
    float_list,
    name_list,
    positive_int,
)
from ._commands import cmd_advise, cmd_rank, cmd_xi


_FORMATTER = argparse.RawDescriptionHelpFormatter


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=_FORMATTER,
        description=(
            "Tools from the linearised GAN (Khrulkov et al. 2021): estimate the Poincare constant xi_min\n"
            "of a data set (larger = better connected = faster GAN convergence), choose the damping and\n"
            "gradient penalty from it, and rank data augmentations by the xi_min they produce."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} xi gaussian --steps 500\n"
            f"  {PROG} advise --xi 0.5 --beta 1\n"
            f"  {PROG} rank-augmentations digits --augmentations translation,cutout --strengths 0.1,0.5\n"
            f"run '{PROG} COMMAND --help' for the options of a command"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in (_add_xi, _add_advise, _add_rank):
        add(sub)
    return parser


def _add_xi(sub) -> None:
    from .._poincare._augment import AUGMENTATION_NAMES

    xi = sub.add_parser(
        "xi",
        formatter_class=_FORMATTER,
        help="estimate the Poincare constant xi_min of a data set",
        description=(
            "Estimate xi_min = min over f with E f = 0 of E abs(grad f)^2 / E f^2 by training a neural\n"
            "network f on the data (the Rayleigh quotient, Khrulkov et al. 2021, Section 7)."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} xi gaussian                      # about 1 for N(0, 1)\n"
            f"  {PROG} xi mixture-4 --steps 5000\n"
            f"  {PROG} xi images.npy --augmentation zoom_in --strength 0.3"
        ),
    )
    xi.add_argument("data", metavar="DATA", help=DATA_HELP)
    xi.add_argument(
        "--augmentation",
        metavar="NAME",
        help=f"augment every batch of images with one of: {', '.join(AUGMENTATION_NAMES)}",
    )
    xi.add_argument(
        "--strength",
        type=float,
        metavar="S",
        help="largest augmentation strength, in [0, 1]; drawn per image from [0, S]",
    )
    add_estimator_options(xi)
    xi.set_defaults(func=cmd_xi)


def _add_advise(sub) -> None:
    advise = sub.add_parser(
        "advise",
        formatter_class=_FORMATTER,
        help="optimal damping alpha and gradient penalty gamma for a given xi_min (eq. 25)",
        description=(
            "Print the point (alpha, gamma) of eq. 25 that makes the xi_min mode decay as fast as possible,\n"
            "and the decay rates it gives. alpha is the damping phi_1''(0) + phi_2''(0), beta is phi_2'(0)\n"
            "(see lgan.lgan_constants for common GAN losses), gamma the gradient-penalty weight."
        ),
        epilog=f"examples:\n  {PROG} advise --xi 0.5 --beta 1\n  {PROG} advise --xi 0.5 --beta 1 --gamma 2",
    )
    advise.add_argument("--xi", type=float, required=True, metavar="X", help="the Poincare constant xi_min, > 0")
    advise.add_argument(
        "--beta", type=float, required=True, metavar="B", help="the coupling beta = phi_2'(0), non-zero"
    )
    advise.add_argument(
        "--gamma",
        type=float,
        metavar="G",
        help="a penalty weight in [abs(B)/sqrt(X), 2 abs(B)/sqrt(X)] (default: the lower end, the only "
        "point where every mode decays at the optimal rate)",
    )
    advise.set_defaults(func=cmd_advise)


def _add_rank(sub) -> None:
    from .._poincare._augment import AUGMENTATION_NAMES

    rank = sub.add_parser(
        "rank-augmentations",
        formatter_class=_FORMATTER,
        help="rank image augmentations by the xi_min of the augmented data (Figure 4)",
        description=(
            "For each augmentation and strength, estimate xi_min of the augmented images and print\n"
            "xi_min / xi_min(unaugmented), highest first: by the theory, the augmentation on top makes\n"
            "the data best connected and GAN training converge fastest."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} rank-augmentations digits --steps 1000\n"
            f"  {PROG} rank-augmentations cifar_train.npy --augmentations zoom_in,cutout --strengths 0.1,0.3,0.5"
        ),
    )
    rank.add_argument("data", metavar="DATA", help=DATA_HELP + "; must be images")
    rank.add_argument(
        "--augmentations",
        type=name_list,
        metavar="A,B,...",
        help=f"comma-separated names (default: all of {','.join(AUGMENTATION_NAMES)})",
    )
    rank.add_argument(
        "--strengths",
        type=float_list,
        metavar="S1,S2,...",
        help=f"comma-separated strengths in [0, 1] (default {','.join(map(str, DEFAULT_STRENGTHS))})",
    )
    rank.add_argument(
        "--sweeps",
        type=positive_int,
        metavar="K",
        help="passes over the augmented data when evaluating xi_min (the paper uses 5; default: the estimator's)",
    )
    add_estimator_options(rank)
    rank.set_defaults(func=cmd_rank)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as exit_:  # argparse: --help (0) and usage errors (2)
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except (ValueError, FileNotFoundError, ImportError, ArithmeticError, MemoryError, RuntimeError) as err:
        # Bad input, or a computation the input makes impossible (overflow, a solver giving up).
        print(f"lgan: error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
