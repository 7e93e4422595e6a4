"""Eigenvalues of the linearised GAN operator and what they imply (Khrulkov et al. 2021, Sections 4-6)."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from .._core._custom_types import RealArrayLike, RealScalarLike
from .._core._solvers import SOLVER_NAMES
from .._core._validation import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    check_finite,
    check_finite_in_dtype,
    check_int_at_least,
    check_scalars,
    check_nonnegative,
    check_positive,
    check_result_finite,
    concrete,
    real_float_array,
    working_dtype,
)

_ORDER = {"euler": 1, "heun": 2, "rk4": 4}  # the order p of each name in SOLVER_NAMES


def _check_abg(alpha, beta, gamma) -> None:
    check_nonnegative("alpha", alpha)
    check_finite("beta", beta)
    check_nonnegative("gamma", gamma)
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        check_finite_in_dtype(name, value)


def lgan_eigenvalues(
    xi: RealArrayLike, alpha: RealArrayLike, beta: RealArrayLike, gamma: RealArrayLike = 0.0
) -> Complex[Array, "... 2"]:
    """Roots of lambda^2 + (alpha + gamma xi) lambda + beta^2 xi = 0 (eq. 16; with penalty, eq. 22).

    Each non-zero eigenvalue xi of -Delta_mu gives the pair (lambda_plus, lambda_minus) of the lGAN
    operator. The roots are computed without cancellation (lambda_plus = beta^2 xi / lambda_minus),
    so the slow root stays accurate for large xi.

    Args:
        xi: Eigenvalues of -Delta_mu, >= 0; any shape, broadcast with the other arguments.
        alpha: The damping phi_1''(0) + phi_2''(0) >= 0 (see :class:`lgan.LGANConstants`).
        beta: phi_2'(0).
        gamma: Gradient-penalty weight >= 0.

    Returns:
        Complex array of shape ``broadcast(xi, alpha, beta, gamma).shape + (2,)``:
        ``[..., 0]`` is lambda_plus (the larger real part), ``[..., 1]`` is lambda_minus.
    """
    check_nonnegative("xi", xi)
    check_finite_in_dtype("xi", xi)
    _check_abg(alpha, beta, gamma)
    # Python integers beyond int32 would overflow JAX's argument conversion: pass them as floats.
    args = [float(v) if isinstance(v, int) else v for v in (xi, alpha, beta, gamma)]
    try:
        np.broadcast_shapes(*(np.shape(v) for v in args))
    except ValueError:
        raise ValueError(f"xi, alpha, beta and gamma must broadcast together, got shapes {[np.shape(v) for v in args]}") from None
    lam = _roots_any_scale(*args)
    check_result_finite(lam, f"lgan_eigenvalues(xi={_short(xi)}, alpha={_short(alpha)}, beta={_short(beta)}, gamma={_short(gamma)})")
    return lam


def _short(value) -> str:
    arr = concrete(value)
    if arr is None or arr.ndim == 0:
        return repr(value) if arr is None else f"{arr.item():g}"
    return f"array of shape {arr.shape}"


@jax.jit
def _roots(xi, alpha, beta, gamma):
    xi, alpha, beta, gamma = jnp.broadcast_arrays(
        *(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (xi, alpha, beta, gamma))
    )
    a = alpha + gamma * xi
    c = beta**2 * xi
    return _roots_of(a, c)


def _needs_rescaling(a, root_c):
    """Where a^2 or 4c = 4 root_c^2 would leave the normal range of the working dtype (1e20^2 overflows float32)."""
    info = jnp.finfo(jnp.result_type(float))
    lo, hi = 2.0 * float(np.sqrt(info.tiny)), 0.5 * float(np.sqrt(info.max))
    outside = lambda v: (v != 0) & ((v < lo) | ~(v <= hi))  # noqa: E731
    return outside(a) | outside(root_c)


@jax.jit
def _roots_rescaled(xi, alpha, beta, gamma):
    """The roots of the equation divided by m^2, m = max(a, abs(beta) sqrt(xi)), scaled back by m."""
    xi, alpha, beta, gamma = jnp.broadcast_arrays(
        *(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (xi, alpha, beta, gamma))
    )
    a = alpha + gamma * xi
    root_c = jnp.abs(beta) * jnp.sqrt(xi)
    m = jnp.maximum(a, root_c)
    safe_m = jnp.where(m > 0, m, 1.0)
    lam_minus = _roots_of(a / safe_m, (root_c / safe_m) ** 2)[..., 1] * safe_m
    # lambda_plus = c / lambda_minus, with c = root_c^2 never formed (abs(lambda_minus) >= root_c).
    safe_minus = jnp.where(lam_minus == 0, 1.0, lam_minus)
    lam_plus = jnp.where(lam_minus == 0, 0.0, root_c * (root_c / safe_minus))
    return jnp.stack([lam_plus, lam_minus], axis=-1)


def _roots_any_scale(xi, alpha, beta, gamma):
    """:func:`_roots`, and where a^2 or 4c would over- or underflow, :func:`_roots_rescaled`.

    Concrete arguments keep the bits of the plain formula wherever it is in range (the rescaled
    one is only evaluated where needed); traced ones evaluate both and select.
    """
    args = [concrete(v) for v in (xi, alpha, beta, gamma)]
    if all(v is not None for v in args):
        # In the working float dtype before jit: an integer such as 2**31 would overflow int32
        # while JAX parses the argument (JAX 0.7 raises OverflowError there).
        with np.errstate(over="ignore"):
            xi, alpha, beta, gamma = (np.asarray(v, dtype=jnp.result_type(float)) for v in args)
    plain = _roots(xi, alpha, beta, gamma)
    if any(v is None for v in args):
        a = jnp.asarray(alpha) + jnp.asarray(gamma) * jnp.asarray(xi)
        need = _needs_rescaling(a, jnp.abs(jnp.asarray(beta)) * jnp.sqrt(jnp.asarray(xi)))
        return jnp.where(jnp.broadcast_to(need, plain.shape[:-1])[..., None], _roots_rescaled(xi, alpha, beta, gamma), plain)
    dtype = jnp.result_type(float)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        x, al, be, ga = (np.asarray(v, dtype=dtype) for v in args)
        need = np.broadcast_to(np.asarray(_needs_rescaling(al + ga * x, np.abs(be) * np.sqrt(x))), plain.shape[:-1])
    if not np.any(need):
        return plain
    return jnp.where(jnp.asarray(need)[..., None], _roots_rescaled(xi, alpha, beta, gamma), plain)


def _roots_of(a, c):
    """(lambda_plus, lambda_minus), the roots of lambda^2 + a lambda + c = 0 with a >= 0, without cancellation."""
    disc = (a**2 - 4.0 * c).astype(jnp.result_type(complex))
    q = -0.5 * (a + jnp.sqrt(disc))  # no cancellation: Re sqrt(disc) >= 0 and a >= 0
    safe_q = jnp.where(q == 0, 1.0, q)
    lam_minus = q
    lam_plus = jnp.where(q == 0, 0.0, c / safe_q)
    return jnp.stack([lam_plus, lam_minus], axis=-1)


def spectral_abscissa(
    xi: Float[ArrayLike, " k"], alpha: RealScalarLike, beta: RealScalarLike, gamma: RealScalarLike = 0.0
) -> float:
    """max_i Re lambda_plus(xi_i): the slowest decay rate over a finite set of modes (Theorem 4).

    Args:
        xi: The non-zero eigenvalues of -Delta_mu that are present (e.g. a truncated spectrum).
        alpha: The damping, as in :func:`lgan_eigenvalues`.
        beta: The coupling, as in :func:`lgan_eigenvalues`.
        gamma: The penalty weight, as in :func:`lgan_eigenvalues`.

    Returns:
        The largest real part, a float (negative means every mode decays).
    """
    check_scalars(alpha=alpha, beta=beta, gamma=gamma)
    xi = real_float_array("xi", xi)
    if xi.ndim != 1 or xi.size == 0:
        raise ValueError(f"xi must be a non-empty 1-D array of eigenvalues, got shape {xi.shape}")
    check_positive("xi", xi)
    lam = lgan_eigenvalues(xi, alpha, beta, gamma)
    return float(jnp.max(jnp.real(lam[..., 0])))


def slowest_rate(
    xi_min: RealScalarLike, alpha: RealScalarLike, beta: RealScalarLike, gamma: RealScalarLike = 0.0
) -> float:
    """eta = sup_{xi >= xi_min} Re lambda_plus(xi): the decay rate of the slowest mode (Theorem 4).

    For gamma = 0 this is Theorem 4's eta = Re(-alpha + sqrt(alpha^2 - 4 beta^2 xi_min)) / 2,
    attained at xi_min. With a penalty (gamma > 0) the slow root tends to -beta^2 / gamma as
    xi -> infinity, and that limit can be slower than the xi_min mode. On [xi_min, inf) the
    real part of lambda_plus is monotone between the points where the discriminant
    (alpha + gamma xi)^2 - 4 beta^2 xi vanishes, so the supremum is the largest of its values
    at xi_min, at those points, and at infinity.

    Args:
        xi_min: The smallest non-zero eigenvalue of -Delta_mu (the Poincare constant), > 0.
        alpha: The damping, as in :func:`lgan_eigenvalues`.
        beta: The coupling, as in :func:`lgan_eigenvalues`.
        gamma: The penalty weight, as in :func:`lgan_eigenvalues`.

    Returns:
        eta as a float (<= 0).
    """
    check_scalars(xi_min=xi_min, alpha=alpha, beta=beta, gamma=gamma)
    check_positive("xi_min", xi_min)
    _check_abg(alpha, beta, gamma)
    check_finite_in_dtype("xi_min", xi_min)
    xi_min, alpha, beta, gamma = (float(v) for v in (xi_min, alpha, beta, gamma))
    candidates = [xi_min]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        g, a, b = np.float64(gamma), np.float64(alpha), np.float64(beta)
        coeffs = np.array([g**2, 2 * a * g - 4 * b**2, a**2])
        if gamma > 0 and np.all(np.isfinite(coeffs)):
            # (alpha + gamma xi)^2 - 4 beta^2 xi = gamma^2 xi^2 + (2 alpha gamma - 4 beta^2) xi + alpha^2
            for r in np.roots(coeffs):
                if abs(r.imag) < 1e-12 * max(1.0, abs(r)) and r.real > xi_min:
                    candidates.append(float(r.real))
        limit = float(-(b**2) / g) if gamma > 0 else -alpha / 2
    values = [float(jnp.real(_roots_any_scale(x, alpha, beta, gamma)[0])) for x in candidates]
    values.append(limit)
    eta = max(values)
    if not math.isfinite(eta):
        raise ValueError(
            f"slowest_rate(xi_min={xi_min!r}, alpha={alpha!r}, beta={beta!r}, gamma={gamma!r}): the rate is not "
            f"representable in {working_dtype()}; rescale the arguments"
        )
    return eta


class OptimalParameters(NamedTuple):
    """A point (alpha, gamma) on the optimal line of eq. 23, and the rates it gives."""

    alpha: float
    gamma: float
    rate_at_xi_min: float
    """Re lambda_plus(xi_min), at best -abs(beta) sqrt(xi_min), the fastest the xi_min mode can decay."""
    rate: float
    """The rate eta over the whole spectrum xi >= xi_min (see :func:`slowest_rate`)."""


def optimal_parameters(
    beta: RealScalarLike, xi_min: RealScalarLike, gamma: RealScalarLike | None = None
) -> OptimalParameters:
    """alpha + gamma xi_min = 2 abs(beta) sqrt(xi_min), abs(beta)/sqrt(xi_min) <= gamma <= 2abs(beta)/sqrt(xi_min) (eq. 25).

    Every point of this segment makes the xi_min mode critically damped, decaying at the best
    possible rate -abs(beta) sqrt(xi_min) with real eigenvalues. Over the whole spectrum the points
    differ: with gamma = c abs(beta) / sqrt(xi_min) the high modes decay at -abs(beta) sqrt(xi_min) / c,
    so the lower end c = 1 (the default) is the only point where every mode decays at the
    optimal rate.

    Args:
        beta: phi_2'(0), non-zero.
        xi_min: The Poincare constant, > 0.
        gamma: A penalty weight in the range of eq. 25; default abs(beta) / sqrt(xi_min).

    Returns:
        :class:`OptimalParameters`.
    """
    check_scalars(beta=beta, xi_min=xi_min, gamma=gamma)
    check_finite("beta", beta)
    check_positive("xi_min", xi_min)
    b, s = abs(float(beta)), float(xi_min)
    if b == 0:
        raise ValueError("beta must be non-zero, got 0.0")
    u = math.sqrt(s)
    # Everything below scales with abs(beta) sqrt(xi_min) and abs(beta) / sqrt(xi_min); both must be
    # normal numbers of the working dtype, or the rates and gamma are not representable.
    dtype = working_dtype()
    info = np.finfo(dtype)
    with np.errstate(over="ignore", under="ignore"):
        bu, b_over_u = np.float64(b) * u, np.float64(b) / u
        twice = 2 * b_over_u
    for what, value in (("abs(beta) sqrt(xi_min)", bu), ("2 abs(beta) / sqrt(xi_min)", twice)):
        if not (info.tiny <= value <= info.max):
            raise ValueError(
                f"beta={float(beta)!r} and xi_min={s!r} are out of range: {what} = {float(value):.4g} is not a "
                f"normal {dtype} number (between {info.tiny:.3g} and {info.max:.3g}); rescale time or space"
            )
    lo, hi = float(b_over_u), float(2 * b_over_u)
    if gamma is None:
        gamma = lo
    check_finite("gamma", gamma)
    gamma = float(gamma)
    if not (lo * (1 - 1e-12) <= gamma <= hi * (1 + 1e-12)):
        raise ValueError(
            f"gamma must lie in [abs(beta)/sqrt(xi_min), 2abs(beta)/sqrt(xi_min)] = [{lo:.6g}, {hi:.6g}] (eq. 25), got {gamma!r}"
        )
    alpha = max(2 * float(bu) - gamma * s, 0.0)
    try:
        rate_at_xi_min = float(jnp.real(_roots_any_scale(s, alpha, b, gamma)[0]))
        rate = slowest_rate(s, alpha, b, gamma)
    except (OverflowError, ValueError):
        rate_at_xi_min = rate = math.nan
    if not (math.isfinite(rate) and math.isfinite(rate_at_xi_min) and rate_at_xi_min < 0 and rate < 0):
        # The arguments are too large or small for the dtype: the same problem in units where
        # abs(beta) = xi_min = 1 (lambda scales with abs(beta) sqrt(xi_min), gamma with abs(beta) / sqrt(xi_min)).
        c = gamma / lo
        rate_at_xi_min = -float(bu)
        rate = float(bu) * slowest_rate(1.0, max(2.0 - c, 0.0), 1.0, c)
    return OptimalParameters(alpha=alpha, gamma=gamma, rate_at_xi_min=rate_at_xi_min, rate=rate)


def euler_growth_factor(eigenvalues: Complex[ArrayLike, "..."], step: RealScalarLike) -> Float[Array, "..."]:
    """abs(1 + tau lambda): the factor by which one explicit Euler step scales a mode (eq. 28).

    For lambda = -alpha/2 + i sqrt(4 beta^2 xi - alpha^2)/2 its square is
    (1 - tau alpha / 2)^2 + tau^2 (4 beta^2 xi - alpha^2) / 4 (eq. 29, whose printed form omits the 1/4).

    Args:
        eigenvalues: Eigenvalues lambda of the continuous operator.
        step: The step tau > 0.

    Returns:
        abs(1 + tau lambda), same shape as ``eigenvalues``.
    """
    check_scalars(step=step)
    check_positive("step", step)
    if concrete(eigenvalues) is not None:
        lam = _complex_array("eigenvalues", eigenvalues)
        if not np.all(np.isfinite(lam)):
            raise ValueError(f"eigenvalues must be finite, got {complex(lam[~np.isfinite(lam)][0])!r}")
    out = jnp.abs(1.0 + step * jnp.asarray(eigenvalues))
    check_result_finite(out, f"euler_growth_factor(eigenvalues, step={_short(step)})")
    return out


def stability_function(solver: str, z: Complex[ArrayLike, "..."]) -> Complex[Array, "..."]:
    """R(z) with y_{k+1} = R(tau lambda) y_k for y' = lambda y: sum_{j <= p} z^j / j! for p = 1, 2, 4.

    Explicit Euler (p = 1), Heun's method (p = 2) and classical Runge-Kutta (p = 4) all have
    the truncated exponential as stability function (Hairer and Wanner, Section IV.2).

    Args:
        solver: ``"euler"``, ``"heun"`` or ``"rk4"`` (:data:`lgan.SOLVER_NAMES`).
        z: tau lambda.

    Returns:
        R(z), same shape as ``z``.
    """
    check_choice("solver", solver, SOLVER_NAMES)
    z = jnp.asarray(z)
    out = jnp.ones_like(z)
    term = jnp.ones_like(z)
    for j in range(1, _ORDER[solver] + 1):
        term = term * z / j
        out = out + term
    return out


def _largest_stable_step_one(p: int, lam: complex) -> float:
    """Largest tau with abs(R(s lambda)) <= 1 for all 0 <= s <= tau.

    The condition depends on tau lambda only, so the step for lambda is the step for the unit
    number lambda / abs(lambda) divided by abs(lambda): that keeps the polynomial coefficients
    (powers of lambda up to 2p) in range for tiny and huge eigenvalues. Only lambda = 0 is stable
    for every step; for a tiny lambda the answer is inf when unit / abs(lambda) overflows float64.
    """
    if lam == 0:
        return math.inf
    size = abs(lam)
    unit = _unit_stable_step(p, complex(lam.real / size, lam.imag / size))  # not lam / size: 1 / size may overflow
    with np.errstate(over="ignore"):
        return float(np.float64(unit) / np.float64(size))


def _unit_stable_step(p: int, lam: complex) -> float:
    """The largest stable step for abs(lambda) about 1, from the roots of abs(R(tau lambda))^2 - 1."""
    c = [1.0 / math.factorial(j) for j in range(p + 1)]
    coeffs = np.zeros(2 * p + 1)  # coefficient of tau^n in |R(tau lam)|^2
    for j in range(p + 1):
        for k in range(p + 1):
            coeffs[j + k] += c[j] * c[k] * (lam**j * np.conj(lam) ** k).real
    coeffs[0] -= 1.0
    poly = coeffs[1:][::-1]  # (abs(R)^2 - 1) / tau, highest power first
    roots = np.roots(np.trim_zeros(poly, "f"))
    scale = 1.0 / abs(lam)
    pos = sorted(r.real for r in roots if abs(r.imag) <= 1e-7 * scale and r.real > 1e-12 * scale)
    stable = lambda t: abs(np.polyval(np.array(c[::-1]), t * lam)) <= 1.0 + 1e-12  # noqa: E731
    left = 0.0
    for r in pos + [math.inf]:
        mid = left + scale if r == math.inf else 0.5 * (left + r)
        if not stable(mid):
            return left
        left = r
    return math.inf


def largest_stable_step(solver: str, eigenvalues: Complex[ArrayLike, " k"]) -> float:
    """sup {tau : abs(R(s lambda)) <= 1 for all 0 <= s <= tau and every lambda}.

    The step below which the solver damps (or preserves) every given mode. An eigenvalue with
    positive real part, or one on the imaginary axis for Euler or Heun, gives 0; lambda = 0
    (the kernel) imposes nothing.

    Args:
        solver: ``"euler"``, ``"heun"`` or ``"rk4"`` (:data:`lgan.SOLVER_NAMES`).
        eigenvalues: The spectrum (any shape; flattened).

    Returns:
        The largest stable step as a float (``inf`` if nothing constrains it).
    """
    check_choice("solver", solver, SOLVER_NAMES)
    lam = _complex_array("eigenvalues", eigenvalues).ravel()
    if lam.size == 0:
        raise ValueError("eigenvalues must be non-empty")
    if not np.all(np.isfinite(lam)):
        bad = int(np.flatnonzero(~np.isfinite(lam))[0])
        raise ValueError(f"eigenvalues must be finite, got {complex(lam[bad])!r} at index ({bad},)")
    p = _ORDER[solver]
    # Identical eigenvalues need solving once (equal up to 14 significant digits). The binary
    # exponent (np.frexp) stays exact for subnormal and huge eigenvalues, where 2**log2 would not.
    with np.errstate(over="ignore"):
        expo = np.frexp(np.abs(lam))[1]
    keys = zip(np.round(np.ldexp(lam.real, -expo), 14), np.round(np.ldexp(lam.imag, -expo), 14), expo)
    distinct = {}
    for v, key in zip(lam, keys):
        distinct.setdefault(key, complex(v))
    tau = min(_largest_stable_step_one(p, v) for v in distinct.values())
    nonzero = [v for v in distinct.values() if v != 0]
    if math.isinf(tau) and nonzero:  # a non-zero eigenvalue always bounds the step: 1 / abs(lambda) overflowed
        raise ValueError(
            f"eigenvalues: the largest stable step for lambda = {min(nonzero, key=abs)!r} is about "
            "1 / abs(lambda), which overflows float64; rescale time"
        )
    return tau


def _complex_array(name: str, value) -> np.ndarray:
    """``value`` as a complex128 numpy array (real or complex numbers; no strings, no tracers)."""
    arr = concrete(value)
    if arr is None:
        raise ValueError(f"{name} must be concrete (not traced inside jit)")
    if isinstance(value, (str, bytes)) or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise ArgumentTypeError(f"{name} must be an array of (complex) numbers, got {value!r:.60}")
    return arr.astype(complex)


def step_matrix(
    solver: str,
    operator: Float[ArrayLike, "m m"],
    step: RealScalarLike,
    *,
    alternating: bool = False,
    split: int | None = None,
) -> Float[Array, "m m"]:
    """R(tau L) = sum_{j <= p} (tau L)^j / j!: one step of the solver on the linear system w' = L w (eq. 27).

    For a linear vector field, explicit Euler, Heun and classical RK4 are exactly these matrix
    polynomials, so ``w_k = R(tau L)^k w_0`` and the eigenvalues of R(tau L) are R(tau lambda_i).

    With ``alternating=True`` (Euler only) the two players of w = (x, y) move in turn, as
    :func:`lgan.simulate` does: x = w[:split] steps with the old y, then y with the new x,
    x_{k+1} = x_k + tau (A x_k + B y_k), y_{k+1} = y_k + tau (C x_{k+1} + D y_k) for
    L = [[A, B], [C, D]]; that is R = (I + tau P_y L)(I + tau P_x L), P_x and P_y the projections
    onto the rows of x and of y.

    Args:
        solver: ``"euler"``, ``"heun"`` or ``"rk4"`` (:data:`lgan.SOLVER_NAMES`).
        operator: L, a real square matrix.
        step: tau > 0.
        alternating: The alternating update order (only with ``solver="euler"``).
        split: With ``alternating``, the number of leading coordinates that move first (the
            discriminator's); default half of them, which needs an even size.

    Returns:
        The one-step matrix, same shape as ``operator``.
    """
    check_choice("solver", solver, SOLVER_NAMES)
    check_bool("alternating", alternating)
    if alternating and solver != "euler":
        raise ValueError(f"alternating=True needs solver='euler' (the alternating update is an Euler step), got {solver!r}")
    check_scalars(step=step)
    check_positive("step", step)
    check_finite_in_dtype("step", step)
    check_finite_in_dtype("operator", operator)
    op = concrete(operator)
    L = jnp.asarray(op.astype(np.float64) if op is not None and not np.issubdtype(op.dtype, np.floating) else operator)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"operator must be a square matrix, got shape {L.shape}")
    eye = jnp.eye(L.shape[0], dtype=L.dtype)
    if alternating:
        first = _alternating_split(split, L.shape[0])
        mover = jnp.arange(L.shape[0]) < first  # the rows of the player that moves first
        out = (eye + step * jnp.where(~mover[:, None], L, 0)) @ (eye + step * jnp.where(mover[:, None], L, 0))
    else:
        if split is not None:
            raise ValueError(f"split is only used with alternating=True, got split={split!r}")
        out, term = eye, eye
        for j in range(1, _ORDER[solver] + 1):
            term = term @ L * (step / j)
            out = out + term
    check_result_finite(out, f"step_matrix({solver!r}, operator, step={_short(step)})")
    return out


def _alternating_split(split: int | None, size: int) -> int:
    """The number of coordinates of the first player: ``split``, or half of an even ``size``."""
    if split is None:
        if size % 2:
            raise ValueError(f"split must be given for an operator of odd size {size} (no default half)")
        return size // 2
    check_int_at_least("split", split, 1)
    if split >= size:
        raise ValueError(f"split must be an integer < {size} (the size of the operator), got {split!r}")
    return split
