"""The GAN loss family f(D, G) = E_mu phi_1(D(x)) + E_z phi_2(D(G(z))) and its Theorem 1 constants."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from .._core._validation import check_choice, check_finite

LOSS_NAMES = ("standard", "wgan", "lsgan", "parametric")


class GANLoss(NamedTuple):
    """A pair (phi_1, phi_2): the discriminator minimises E_mu phi_1(D) + E_G phi_2(D) (eq. 2).

    Attributes:
        name: A short label.
        phi1: Scalar function applied to D on real samples.
        phi2: Scalar function applied to D on generated samples.
    """

    name: str
    phi1: Callable[[jax.Array], jax.Array]
    phi2: Callable[[jax.Array], jax.Array]


class LGANConstants(NamedTuple):
    """alpha = phi_1''(0) + phi_2''(0) and beta = phi_2'(0): the constants of the lGAN flow (eq. 6).

    Convention: alpha is the damping coefficient of the flow u_t = -alpha u + ..., which is the
    one eqs. 6-29 of Khrulkov et al. (2021) use. Their Theorem 1 calls half of it alpha and writes
    g = alpha <u, u>_mu + ...; the L2(mu) gradient of that g has damping 2 alpha, so with their
    Theorem 1 reading eq. 6 would be off by a factor of two. With alpha = phi_1''(0) + phi_2''(0)
    the quadratic part is g = (alpha / 2) <u, u>_mu + beta <grad u, v>_mu and eqs. 6-29 hold as printed.
    """

    alpha: float
    beta: float


def gan_loss(name: str, *, alpha: float | None = None, beta: float | None = None) -> GANLoss:
    """The loss pair of a named GAN (Khrulkov et al. 2021, eq. 2).

    - ``"standard"``: phi_1(x) = -log sigmoid(x), phi_2(x) = -log(1 - sigmoid(x)) (Goodfellow et al.).
    - ``"wgan"``: phi_1(x) = -x, phi_2(x) = x.
    - ``"lsgan"``: phi_1(x) = (x - 1)^2 / 2, phi_2(x) = (x + 1)^2 / 2.
    - ``"parametric"``: phi_1(x) = alpha x^2 / 2 + beta x, phi_2(x) = -beta x, the family of the
      paper's Section 7, written exactly as there. Its flow constants (:func:`lgan_constants`)
      are (alpha, -beta); only abs(beta) enters the spectrum.

    Args:
        name: One of ``"standard"``, ``"wgan"``, ``"lsgan"``, ``"parametric"``.
        alpha: Curvature coefficient, only for ``"parametric"`` (must be >= 0).
        beta: Slope coefficient, only for ``"parametric"`` (must be non-zero).

    Returns:
        A :class:`GANLoss`.
    """
    check_choice("name", name, LOSS_NAMES)
    if name != "parametric":
        if alpha is not None or beta is not None:
            raise ValueError(f"alpha and beta are only accepted for name='parametric', got name={name!r}")
    if name == "standard":
        return GANLoss(name, lambda x: jax.nn.softplus(-x), lambda x: jax.nn.softplus(x))
    if name == "wgan":
        return GANLoss(name, lambda x: -x, lambda x: x)
    if name == "lsgan":
        return GANLoss(name, lambda x: 0.5 * (x - 1.0) ** 2, lambda x: 0.5 * (x + 1.0) ** 2)
    if alpha is None or beta is None:
        raise ValueError("name='parametric' needs both alpha and beta, e.g. gan_loss('parametric', alpha=0.5, beta=-1.0)")
    check_finite("alpha", alpha)
    check_finite("beta", beta)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if beta == 0:
        raise ValueError(f"beta must be non-zero, got {beta!r}")
    a, b = float(alpha), float(beta)
    return GANLoss(f"parametric(alpha={a:g}, beta={b:g})", lambda x: 0.5 * a * x**2 + b * x, lambda x: -b * x)


def lgan_constants(loss: GANLoss, *, rtol: float = 1e-9) -> LGANConstants:
    """alpha = phi_1''(0) + phi_2''(0) and beta = phi_2'(0) by autodiff (Theorem 1 and eq. 6).

    See :class:`LGANConstants` for why alpha is the full sum (the damping of the flow).

    Checks the theorem's assumptions on the way: phi_1'(0) = -phi_2'(0) != 0 (so D = 0 is the
    optimal discriminator when the generator matches the data) and phi_1''(0) + phi_2''(0) >= 0.

    Args:
        loss: The loss pair.
        rtol: Relative tolerance for the equality phi_1'(0) = -phi_2'(0).

    Returns:
        :class:`LGANConstants` ``(alpha, beta)`` as Python floats.

    Raises:
        ValueError: If an assumption of Theorem 1 fails; the message names it and the values.
    """
    zero = jnp.zeros((), dtype=jnp.result_type(float))
    d1 = float(jax.grad(loss.phi1)(zero))
    d2 = float(jax.grad(loss.phi2)(zero))
    dd1 = float(jax.grad(jax.grad(loss.phi1))(zero))
    dd2 = float(jax.grad(jax.grad(loss.phi2))(zero))
    for label, val in (("phi1'(0)", d1), ("phi2'(0)", d2), ("phi1''(0)", dd1), ("phi2''(0)", dd2)):
        if not jnp.isfinite(val):
            raise ValueError(f"loss {loss.name!r}: {label} must be finite, got {val!r}")
    if d2 == 0.0:
        raise ValueError(f"loss {loss.name!r} violates Theorem 1: phi2'(0) must be non-zero, got 0.0")
    if abs(d1 + d2) > rtol * max(abs(d1), abs(d2)):
        raise ValueError(
            f"loss {loss.name!r} violates Theorem 1: phi1'(0) must equal -phi2'(0), got phi1'(0)={d1!r}, phi2'(0)={d2!r}"
        )
    if dd1 + dd2 < 0:
        raise ValueError(
            f"loss {loss.name!r} violates Theorem 1: phi1''(0) + phi2''(0) must be >= 0, got {dd1 + dd2!r}"
        )
    return LGANConstants(alpha=dd1 + dd2, beta=d2)
