"""The commands of ``python -m lgan``: ``xi``, ``advise`` and ``rank-augmentations``."""

from __future__ import annotations

import math
import re
import sys

import numpy as np

from ._arguments import DEFAULT_STRENGTHS, parse_seed
from ._data import check_images_for_augmentation, load_data


def estimator():
    import lgan

    return lgan.estimate_poincare_constant  # looked up at call time, so tests can patch it


def as_float(result) -> float:
    xi = float(getattr(result, "xi_min", result))
    if not (math.isfinite(xi) and xi > 0):  # never print a NaN answer with exit code 0
        raise ValueError(f"the estimate of xi_min is not a finite positive number (got {xi!r}); check DATA and the options")
    return xi


def estimate(data: np.ndarray, args, augmentation, *, desc: str, leave: bool = True) -> float:
    import jax

    fn = estimator()
    kwargs = {"key": jax.random.key(parse_seed(args.seed)), "num_steps": args.steps, "batch_size": args.batch_size}
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
        return as_float(fn(data, **kwargs))
    finally:
        if bar is not None:
            bar.close()


def cmd_xi(args) -> int:
    from .._poincare._augment import make_augmentation

    if (args.augmentation is None) != (args.strength is None):
        raise ValueError("--augmentation and --strength go together; give both or neither")
    parse_seed(args.seed)
    data = load_data(args.data)
    augmentation = None
    if args.augmentation is not None:
        augmentation = make_augmentation(args.augmentation, args.strength)
        check_images_for_augmentation(data)
    xi = estimate(data, args, augmentation, desc="xi_min")
    extra = f", {args.augmentation} strength {args.strength:g}" if augmentation is not None else ""
    print(f"xi_min ≈ {xi:.4g} ({data.shape[0]} samples, {args.steps} steps{extra})")
    return 0


def cmd_advise(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)  # print the rates to all six digits shown
    from .._linear._spectrum import optimal_parameters

    try:  # the package's own checks, reported with the names of the options
        opt = optimal_parameters(args.beta, args.xi, args.gamma)
    except ValueError as err:
        raise ValueError(_with_option_names(str(err))) from None
    b, s = abs(args.beta), args.xi
    lo, hi = b / math.sqrt(s), 2 * b / math.sqrt(s)
    print("Optimal lGAN hyperparameters (eq. 25 of the lGAN paper, arXiv:2102.04448)")
    print(f"  given:  xi_min = {args.xi:.6g}, beta = phi_2'(0) = {args.beta:.6g}")
    print(f"  alpha = {opt.alpha:.6g}   (the damping, alpha = phi_1''(0) + phi_2''(0))")
    print(f"  gamma = {opt.gamma:.6g}   (gradient-penalty weight; eq. 25 allows [{lo:.6g}, {hi:.6g}])")
    print(f"  rate of the xi_min mode:       Re lambda_+(xi_min) = {opt.rate_at_xi_min:.6g}")
    print(f"  rate over the whole spectrum:  eta = sup_(xi >= xi_min) Re lambda_+(xi) = {opt.rate:.6g}")
    print("  (the slowest mode decays like exp(eta t); more negative is faster)")
    return 0


_OPTION_OF = {"xi_min": "--xi", "beta": "--beta", "gamma": "--gamma"}


def _with_option_names(message: str) -> str:
    """``xi_min must be > 0`` -> ``--xi must be > 0``: an argument of lgan named as the option that sets it."""
    pattern = r"\b(" + "|".join(_OPTION_OF) + r")\b(?=( must|=))"
    return re.sub(pattern, lambda m: _OPTION_OF[m.group(1)], message)


def cmd_rank(args) -> int:
    from .._poincare._augment import AUGMENTATION_NAMES, make_augmentation
    from .._core._validation import check_choice

    parse_seed(args.seed)
    names = AUGMENTATION_NAMES if args.augmentations is None else args.augmentations
    for name in names:
        check_choice("--augmentations", name, AUGMENTATION_NAMES)
    strengths = DEFAULT_STRENGTHS if args.strengths is None else args.strengths
    runs = [(name, s, make_augmentation(name, s)) for name in names for s in strengths]  # checks strengths
    data = load_data(args.data)
    check_images_for_augmentation(data)
    base = estimate(data, args, None, desc="none", leave=False)
    rows = [("none", 0.0, base)]
    for name, s, augmentation in runs:
        rows.append((name, s, estimate(data, args, augmentation, desc=f"{name} {s:g}", leave=False)))
    rows.sort(key=lambda row: row[2], reverse=True)  # stable: ties keep the order of the runs

    def ratio(xi: float) -> float:
        return xi / base if base > 0 else float("nan")

    print(f"xi_min of augmented / unaugmented data ({data.shape[0]} samples, {args.steps} steps per estimate)")
    print("higher = better connected = faster GAN convergence by the theory")
    print(f"{'augmentation':<14}{'strength':>10}{'xi_min':>12}{'xi / xi(none)':>16}")
    for name, s, xi in rows:
        print(f"{name:<14}{s:>10.3g}{xi:>12.4g}{ratio(xi):>16.4f}")
    return 0
