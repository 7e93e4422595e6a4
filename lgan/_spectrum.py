"""Eigenvalues of the linearised GAN operator and what they imply (Khrulkov et al. 2021, Sections 4-6)."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from ._custom_types import RealArrayLike, RealScalarLike
from ._validation import check_choice, check_finite, check_nonnegative, check_positive, concrete

SCHEMES = ("euler", "heun", "rk4")
_SCHEME_ORDER = {"euler": 1, "heun": 2, "rk4": 4}


def _check_abg(alpha, beta, gamma) -> None:
    check_nonnegative("alpha", alpha)
    check_finite("beta", beta)
    check_nonnegative("gamma", gamma)


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
    _check_abg(alpha, beta, gamma)
    return _roots(xi, alpha, beta, gamma)


@jax.jit
def _roots(xi, alpha, beta, gamma):
    xi, alpha, beta, gamma = jnp.broadcast_arrays(
        *(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (xi, alpha, beta, gamma))
    )
    a = alpha + gamma * xi
    c = beta**2 * xi
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
    xi = np.asarray(xi, dtype=float)
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
    check_positive("xi_min", xi_min)
    _check_abg(alpha, beta, gamma)
    xi_min, alpha, beta, gamma = (float(v) for v in (xi_min, alpha, beta, gamma))
    candidates = [xi_min]
    if gamma > 0:
        # (alpha + gamma xi)^2 - 4 beta^2 xi = gamma^2 xi^2 + (2 alpha gamma - 4 beta^2) xi + alpha^2
        for r in np.roots([gamma**2, 2 * alpha * gamma - 4 * beta**2, alpha**2]):
            if abs(r.imag) < 1e-12 * max(1.0, abs(r)) and r.real > xi_min:
                candidates.append(float(r.real))
    values = [float(jnp.real(_roots(x, alpha, beta, gamma)[0])) for x in candidates]
    values.append(-(beta**2) / gamma if gamma > 0 else -alpha / 2)
    return max(values)


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
    check_finite("beta", beta)
    check_positive("xi_min", xi_min)
    b, s = abs(float(beta)), float(xi_min)
    if b == 0:
        raise ValueError("beta must be non-zero, got 0.0")
    lo, hi = b / math.sqrt(s), 2 * b / math.sqrt(s)
    if gamma is None:
        gamma = lo
    check_finite("gamma", gamma)
    gamma = float(gamma)
    if not (lo * (1 - 1e-12) <= gamma <= hi * (1 + 1e-12)):
        raise ValueError(
            f"gamma must lie in [abs(beta)/sqrt(xi_min), 2abs(beta)/sqrt(xi_min)] = [{lo:.6g}, {hi:.6g}] (eq. 25), got {gamma!r}"
        )
    alpha = max(2 * b * math.sqrt(s) - gamma * s, 0.0)
    return OptimalParameters(
        alpha=alpha,
        gamma=gamma,
        rate_at_xi_min=float(jnp.real(_roots(s, alpha, b, gamma)[0])),
        rate=slowest_rate(s, alpha, b, gamma),
    )


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
    check_positive("step", step)
    return jnp.abs(1.0 + step * jnp.asarray(eigenvalues))


def stability_function(scheme: str, z: Complex[ArrayLike, "..."]) -> Complex[Array, "..."]:
    """R(z) with y_{k+1} = R(tau lambda) y_k for y' = lambda y: sum_{j <= p} z^j / j! for p = 1, 2, 4.

    Explicit Euler (p = 1), Heun's method (p = 2) and classical Runge-Kutta (p = 4) all have
    the truncated exponential as stability function (Hairer and Wanner, Section IV.2).

    Args:
        scheme: ``"euler"``, ``"heun"`` or ``"rk4"``.
        z: tau lambda.

    Returns:
        R(z), same shape as ``z``.
    """
    check_choice("scheme", scheme, SCHEMES)
    z = jnp.asarray(z)
    out = jnp.ones_like(z)
    term = jnp.ones_like(z)
    for j in range(1, _SCHEME_ORDER[scheme] + 1):
        term = term * z / j
        out = out + term
    return out


def _largest_stable_step_one(p: int, lam: complex) -> float:
    """Largest tau with abs(R(s lambda)) <= 1 for all 0 <= s <= tau, from the roots of abs(R)^2 - 1."""
    if lam == 0:
        return math.inf
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


def largest_stable_step(scheme: str, eigenvalues: Complex[ArrayLike, " k"]) -> float:
    """sup {tau : abs(R(s lambda)) <= 1 for all 0 <= s <= tau and every lambda}.

    The step below which the scheme damps (or preserves) every given mode. An eigenvalue with
    positive real part, or one on the imaginary axis for Euler or Heun, gives 0; lambda = 0
    (the kernel) imposes nothing.

    Args:
        scheme: ``"euler"``, ``"heun"`` or ``"rk4"``.
        eigenvalues: The spectrum (any shape; flattened).

    Returns:
        The largest stable step as a float (``inf`` if nothing constrains it).
    """
    check_choice("scheme", scheme, SCHEMES)
    lam = concrete(eigenvalues)
    if lam is None:
        raise ValueError("eigenvalues must be concrete (not traced inside jit)")
    lam = np.asarray(lam, dtype=complex).ravel()
    if lam.size == 0:
        raise ValueError("eigenvalues must be non-empty")
    check_finite("eigenvalues", lam)
    p = _SCHEME_ORDER[scheme]
    # Identical eigenvalues need solving once.
    return min(_largest_stable_step_one(p, complex(v)) for v in np.unique(np.round(lam, 14)))


def step_matrix(scheme: str, operator: Float[ArrayLike, "m m"], step: RealScalarLike) -> Float[Array, "m m"]:
    """R(tau L) = sum_{j <= p} (tau L)^j / j!: one step of the scheme on the linear system w' = L w (eq. 27).

    For a linear vector field, explicit Euler, Heun and classical RK4 are exactly these matrix
    polynomials, so ``w_k = R(tau L)^k w_0`` and the eigenvalues of R(tau L) are R(tau lambda_i).

    Args:
        scheme: ``"euler"``, ``"heun"`` or ``"rk4"``.
        operator: L, a square matrix.
        step: tau > 0.

    Returns:
        The one-step matrix, same shape as ``operator``.
    """
    check_choice("scheme", scheme, SCHEMES)
    check_positive("step", step)
    L = jnp.asarray(operator)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"operator must be a square matrix, got shape {L.shape}")
    eye = jnp.eye(L.shape[0], dtype=L.dtype)
    out, term = eye, eye
    for j in range(1, _SCHEME_ORDER[scheme] + 1):
        term = term @ L * (step / j)
        out = out + term
    return out
