"""The command line: ``python -m lgan xi | advise | rank-augmentations`` (Khrulkov et al. 2021, Sections 6-7).

``xi`` estimates the Poincare constant xi_min of a data set, ``advise`` turns xi_min into the
optimal damping and penalty of eq. 25, and ``rank-augmentations`` compares augmentations by the
xi_min of the augmented data (the paper's Figure 4). Bad input ends with exit code 2 and one line
``lgan: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

PROG = "python -m lgan"

_DEFAULT_STEPS = 2000
_DEFAULT_BATCH_SIZE = 256
_DEFAULT_STRENGTHS = (0.1, 0.3, 0.5)


# ----------------------------------------------------------------------------- data


def _load_data(spec: str) -> np.ndarray:
    """A .npy file, or a built-in name; checked to be (n, d) vectors or (n, C, H, W) images."""
    from .._poincare._datasets import BUILTIN_NAMES, load_builtin

    path = Path(spec)
    if spec.endswith(".npy"):
        if not path.is_file():
            raise FileNotFoundError(f"DATA file not found: {spec!r}")
        _check_npy_header(path, spec)
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError, MemoryError) as err:
            raise ValueError(f"DATA {spec!r} is not a readable .npy array ({err})") from None
        where = f"DATA {spec!r}"
    else:
        try:
            data = load_builtin(spec)
        except ValueError:
            what = "is a file but not a .npy array" if path.exists() else "is neither a .npy file nor a built-in name"
            raise ValueError(
                f"DATA {spec!r} {what}; give a .npy file or one of {', '.join(BUILTIN_NAMES)} (e.g. mixture-4)"
            ) from None
        where = f"built-in data {spec!r}"
    if not (np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.integer)):
        raise ValueError(f"{where} must hold real numbers, got dtype {data.dtype}")
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim not in (2, 4):
        raise ValueError(f"{where} must have shape (n, d) or (n, C, H, W), got shape {data.shape}")
    if data.shape[0] < 2:
        raise ValueError(f"{where} must have at least 2 samples, got shape {data.shape}")
    if data.dtype == np.uint8 and data.ndim == 4:
        data = data.astype(np.float32) / 255.0  # 8-bit images to [0, 1]
    elif not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    if not np.all(np.isfinite(data)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(data))[0])
        raise ValueError(f"{where} must be finite, got {data[bad].item()!r} at index {bad}")
    return data


def _check_npy_header(path: Path, spec: str) -> None:
    """Raise unless the .npy header describes an array that the file actually holds (read before loading)."""
    from numpy.lib import format as npy_format

    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            version = npy_format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(f)
            else:
                return  # a newer format: np.load reads (or refuses) it
            offset = f.tell()
    except (ValueError, OSError, EOFError) as err:
        what = "is empty" if size == 0 else f"has no valid .npy header ({' '.join(str(err).split())})"
        raise ValueError(f"DATA {spec!r} is not a readable .npy array: the file {what}") from None
    if dtype.hasobject:
        return  # np.load refuses it with a clear message (allow_pickle=False)
    needed = math.prod(shape) * dtype.itemsize
    if needed != size - offset:
        raise ValueError(
            f"DATA {spec!r} is not a readable .npy array: its header claims shape {shape} of {dtype} "
            f"({needed:.4g} bytes) but the file holds {size - offset} bytes of data"
        )


def _check_images_for_augmentation(data: np.ndarray) -> None:
    if data.ndim != 4:
        raise ValueError(f"augmentations need image data of shape (n, C, H, W), got shape {data.shape}")
    lo, hi = float(data.min()), float(data.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"augmentations need images with values in [0, 1], got values in [{lo:.6g}, {hi:.6g}]")


# ----------------------------------------------------------------------------- estimator


def _estimator():
    import lgan

    return lgan.estimate_poincare_constant  # looked up at call time, so tests can patch it


def _as_float(result) -> float:
    xi = float(getattr(result, "xi_min", result))
    if not (math.isfinite(xi) and xi > 0):  # never print a NaN answer with exit code 0
        raise ValueError(f"the estimate of xi_min is not a finite positive number (got {xi!r}); check DATA and the options")
    return xi


def _estimate(data: np.ndarray, args, augmentation, *, desc: str, leave: bool = True) -> float:
    import jax

    fn = _estimator()
    kwargs = {"key": jax.random.key(_seed(args.seed)), "num_steps": args.steps, "batch_size": args.batch_size}
    for option, name in (("width", "width"), ("depth", "depth"), ("lr", "learning_rate")):
        if getattr(args, option) is not None:
            kwargs[name] = getattr(args, option)
    if augmentation is not None:
        kwargs["augmentation"] = augmentation
    if getattr(args, "sweeps", None) is not None:
        kwargs["eval_sweeps"] = args.sweeps
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=args.steps, desc=desc, file=sys.stderr, leave=leave, dynamic_ncols=True)

        def progress(step, loss):
            target = min(int(step) + 1, args.steps)  # whether steps count from 0 or from 1
            if target > bar.n:
                bar.update(target - bar.n)
            bar.set_postfix(loss=f"{float(loss):.4g}", refresh=False)

        kwargs["progress"] = progress
    try:
        return _as_float(fn(data, **kwargs))
    finally:
        if bar is not None:
            bar.close()


# ----------------------------------------------------------------------------- commands


def _cmd_xi(args) -> int:
    from .._poincare._augment import make_augmentation

    if (args.augmentation is None) != (args.strength is None):
        raise ValueError("--augmentation and --strength go together; give both or neither")
    _seed(args.seed)
    data = _load_data(args.data)
    augmentation = None
    if args.augmentation is not None:
        augmentation = make_augmentation(args.augmentation, args.strength)
        _check_images_for_augmentation(data)
    xi = _estimate(data, args, augmentation, desc="xi_min")
    extra = f", {args.augmentation} strength {args.strength:g}" if augmentation is not None else ""
    print(f"xi_min ≈ {xi:.4g} ({data.shape[0]} samples, {args.steps} steps{extra})")
    return 0


def _cmd_advise(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)  # print the rates to all six digits shown
    from .._linear._spectrum import optimal_parameters

    if not (math.isfinite(args.xi) and args.xi > 0):
        raise ValueError(f"--xi must be a finite number > 0 (the Poincare constant xi_min), got {args.xi!r}")
    if not (math.isfinite(args.beta) and args.beta != 0):
        raise ValueError(f"--beta must be a finite non-zero number (phi_2'(0)), got {args.beta!r}")
    b, s = abs(args.beta), args.xi
    lo, hi = b / math.sqrt(s), 2 * b / math.sqrt(s)
    in_range = args.gamma is None or (math.isfinite(args.gamma) and lo * (1 - 1e-12) <= args.gamma <= hi * (1 + 1e-12))
    if not in_range:
        raise ValueError(
            f"--gamma must lie in [abs(beta)/sqrt(xi), 2 abs(beta)/sqrt(xi)] = [{lo:.6g}, {hi:.6g}] (eq. 25), "
            f"got {args.gamma!r}"
        )
    opt = optimal_parameters(args.beta, args.xi, args.gamma)
    print("Optimal lGAN hyperparameters, eq. 25 of Khrulkov et al. (2021)")
    print(f"  given:  xi_min = {args.xi:.6g}, beta = phi_2'(0) = {args.beta:.6g}")
    print(f"  alpha = {opt.alpha:.6g}   (the damping, alpha = phi_1''(0) + phi_2''(0))")
    print(f"  gamma = {opt.gamma:.6g}   (gradient-penalty weight; eq. 25 allows [{lo:.6g}, {hi:.6g}])")
    print(f"  rate of the xi_min mode:       Re lambda_+(xi_min) = {opt.rate_at_xi_min:.6g}")
    print(f"  rate over the whole spectrum:  eta = sup over xi >= xi_min of Re lambda_+(xi) = {opt.rate:.6g}")
    print("  (the slowest mode decays like exp(eta t); more negative is faster)")
    return 0


def _cmd_rank(args) -> int:
    from .._poincare._augment import AUGMENTATION_NAMES, make_augmentation
    from .._core._validation import check_choice

    _seed(args.seed)
    names = AUGMENTATION_NAMES if args.augmentations is None else args.augmentations
    for name in names:
        check_choice("--augmentations", name, AUGMENTATION_NAMES)
    strengths = _DEFAULT_STRENGTHS if args.strengths is None else args.strengths
    runs = [(name, s, make_augmentation(name, s)) for name in names for s in strengths]  # checks strengths
    data = _load_data(args.data)
    _check_images_for_augmentation(data)
    base = _estimate(data, args, None, desc="none", leave=False)
    rows = [("none", 0.0, base)]
    for name, s, augmentation in runs:
        rows.append((name, s, _estimate(data, args, augmentation, desc=f"{name} {s:g}", leave=False)))
    rows.sort(key=lambda row: row[2], reverse=True)  # stable: ties keep the order of the runs

    def ratio(xi: float) -> float:
        return xi / base if base > 0 else float("nan")

    print(f"xi_min of augmented / unaugmented data ({data.shape[0]} samples, {args.steps} steps per estimate)")
    print("higher = better connected = faster GAN convergence by the theory")
    print(f"{'augmentation':<14}{'strength':>10}{'xi_min':>12}{'xi / xi(none)':>16}")
    for name, s, xi in rows:
        print(f"{name:<14}{s:>10.3g}{xi:>12.4g}{ratio(xi):>16.4f}")
    return 0


# ----------------------------------------------------------------------------- parser


def _seed(text) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 2**63:
        raise ValueError(f"--seed must be an integer in [0, 2^63), got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _name_list(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got {text!r}")
    return names


def _float_list(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return values


_DATA_HELP = (
    "a .npy file holding (n, d) vectors or (n, C, H, W) images (uint8 images are divided by 255), "
    "or a built-in name: digits (sklearn's 8x8 digits), gaussian (N(0, 1), n = 4000), "
    "mixture-M such as mixture-4 (two unit Gaussians M apart), ring (8 Gaussians on a circle)"
)


def _add_estimator_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("estimator (passed to lgan.estimate_poincare_constant)")
    group.add_argument(
        "--steps",
        type=_positive_int,
        metavar="N",
        default=_DEFAULT_STEPS,
        help=f"training steps (default {_DEFAULT_STEPS})",
    )
    group.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="B",
        default=_DEFAULT_BATCH_SIZE,
        help=f"samples per step (default {_DEFAULT_BATCH_SIZE}, as in the paper)",
    )
    for option, metavar in (("--width", "W"), ("--depth", "D")):
        group.add_argument(
            option,
            type=_positive_int,
            metavar=metavar,
            help=f"{option[2:]} of the test-function network (default: the estimator's)",
        )
    group.add_argument("--lr", type=_positive_float, metavar="LR", help="Adam learning rate (default: the estimator's)")
    # Checked when used (_seed), so that a bad seed gives the one-line error of the other checks.
    group.add_argument("--seed", metavar="S", default="0", help="random seed, an integer in [0, 2^63) (default 0)")
    group.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def _build_parser() -> argparse.ArgumentParser:
    from .._poincare._augment import AUGMENTATION_NAMES

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=formatter,
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

    xi = sub.add_parser(
        "xi",
        formatter_class=formatter,
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
    xi.add_argument("data", metavar="DATA", help=_DATA_HELP)
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
    _add_estimator_options(xi)
    xi.set_defaults(func=_cmd_xi)

    advise = sub.add_parser(
        "advise",
        formatter_class=formatter,
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
    advise.set_defaults(func=_cmd_advise)

    rank = sub.add_parser(
        "rank-augmentations",
        formatter_class=formatter,
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
    rank.add_argument("data", metavar="DATA", help=_DATA_HELP + "; must be images")
    rank.add_argument(
        "--augmentations",
        type=_name_list,
        metavar="A,B,...",
        help=f"comma-separated names (default: all of {','.join(AUGMENTATION_NAMES)})",
    )
    rank.add_argument(
        "--strengths",
        type=_float_list,
        metavar="S1,S2,...",
        help=f"comma-separated strengths in [0, 1] (default {','.join(map(str, _DEFAULT_STRENGTHS))})",
    )
    rank.add_argument(
        "--sweeps",
        type=_positive_int,
        metavar="K",
        help="passes over the augmented data when evaluating xi_min (the paper uses 5; default: the estimator's)",
    )
    _add_estimator_options(rank)
    rank.set_defaults(func=_cmd_rank)
    return parser


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
