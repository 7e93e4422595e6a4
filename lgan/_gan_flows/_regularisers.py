"""Regularisers of the discriminator: gradient penalties, Qin et al.'s generator-gradient penalty, weight clipping.

- The simple gradient penalty (gamma / 2) E_mu ||grad_x D||^2 (Khrulkov et al. 2021, Section 6,
  "Regularization"; Kim et al. 2021, Table 1) on one of the penalty measures mu of Kim et al.'s
  Table 1, which :func:`penalty_samples` draws from.
- WGAN-GP's non-zero-centred penalty gamma E_mu (||grad_x D|| - 1)^2 on the interpolates mu_GP
  (Gulrajani et al. 2017; Kim et al. 2021, Table 1, row WGAN-GP).
- Qin et al.'s R(theta) = lambda ||d l_G / d phi||^2 (Qin et al. 2020, eq. 11): the squared norm
  of the generator's gradient, which the discriminator descends.
- Weight clipping to [-c, c], the WGAN baseline (Arjovsky et al. 2017; Kim et al. 2021, Table 1).

Here theta denotes the discriminator parameters and phi the generator parameters (Qin et al.'s
names); the loss pair (phi_1, phi_2) is that of :func:`lgan.gan_loss`.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree, Scalar

from .._core._validation import check_choice, check_real_scalar, concrete, working_dtype

PENALTY_MEASURES = ("p_d", "p_g", "mu_gp", "mu_mid", "mu_g_anc")
PENALTY_FORMS = ("simple", "wgan_gp")


def penalty_samples(
    measure: str,
    x_real: Float[Array, "n d"],
    x_fake: Float[Array, "n d"],
    u: Float[Array, " n"],
    *,
    anchor: Float[Array, " d"] | None = None,
) -> Float[Array, "n d"]:
    """Samples x_hat of a penalty measure mu of Kim et al. (2021), Table 1.

    With x_d ~ p_d (``x_real``), x_g ~ p_g (``x_fake``) and u ~ U(0, 1):

    - ``"p_d"``: x_hat = x_d;
    - ``"p_g"``: x_hat = x_g;
    - ``"mu_gp"``: x_hat = u x_d + (1 - u) x_g (the interpolates of WGAN-GP);
    - ``"mu_mid"``: x_hat = (x_d + x_g) / 2 (the midpoints);
    - ``"mu_g_anc"``: x_hat = u A + (1 - u) x_g with a fixed anchor point A (``anchor``).

    Args:
        measure: One of ``"p_d"``, ``"p_g"``, ``"mu_gp"``, ``"mu_mid"``, ``"mu_g_anc"``.
        x_real: Data samples, shape (n, d).
        x_fake: Generated samples, shape (n, d).
        u: Uniform draws in [0, 1], shape (n,); only ``"mu_gp"`` and ``"mu_g_anc"`` use them.
        anchor: The anchor A, shape (d,); required for ``"mu_g_anc"``.

    Returns:
        x_hat, shape (n, d).
    """
    check_choice("measure", measure, PENALTY_MEASURES)
    if measure == "p_d":
        return x_real
    if measure == "p_g":
        return x_fake
    if measure == "mu_mid":
        return 0.5 * (x_real + x_fake)
    w = u[:, None]
    if measure == "mu_gp":
        return w * x_real + (1.0 - w) * x_fake
    if anchor is None:
        raise ValueError("anchor must be given for measure='mu_g_anc' (the fixed point A of Kim et al. 2021, Table 1)")
    return w * jnp.asarray(anchor)[None, :] + (1.0 - w) * x_fake


def gradient_penalty(
    discriminator: Callable[[Float[Array, " d"]], Scalar],
    samples: Float[Array, "n d"],
    *,
    form: str = "simple",
) -> Scalar:
    """E_mu ||grad_x D(x)||^2 (``"simple"``) or E_mu (||grad_x D(x)|| - 1)^2 (``"wgan_gp"``) over the samples.

    The simple penalty is the term of Khrulkov et al. (2021), Section 6 (before the factor
    gamma / 2) and of Kim et al. (2021), Table 1; the second is WGAN-GP's (Gulrajani et al. 2017,
    eq. 3, before the factor lambda). The gradient is with respect to the input x, one sample at a
    time; the result can be differentiated again with respect to the discriminator's parameters.

    Args:
        discriminator: D, a function of one sample x of shape (d,) returning a scalar.
        samples: Samples x_hat of the penalty measure, shape (n, d) (:func:`penalty_samples`).
        form: ``"simple"`` or ``"wgan_gp"``.

    Returns:
        The sample mean, a scalar.
    """
    check_choice("form", form, PENALTY_FORMS)
    grads = jax.vmap(jax.grad(discriminator))(samples)
    sq = jnp.sum(grads**2, axis=-1)
    if form == "simple":
        return jnp.mean(sq)
    # sqrt(sq + tiny) keeps the gradient finite where grad_x D = 0 (the norm is not differentiable there).
    tiny = jnp.finfo(sq.dtype).tiny
    return jnp.mean((jnp.sqrt(sq + tiny) - 1.0) ** 2)


def generator_gradient_penalty(generator_loss: Callable[[PyTree], Scalar], generator_params: PyTree) -> Scalar:
    """||d l_G / d phi||^2, the squared norm of the generator's gradient (Qin et al. 2020, eq. 11, before lambda).

    Qin et al. add lambda times this to the discriminator's loss: its gradient with respect to the
    discriminator parameters theta is well defined, and it vanishes at a differential Nash
    equilibrium. Write ``generator_loss`` as a function of phi that closes over theta, and
    differentiate the result with respect to theta.

    Args:
        generator_loss: l_G as a function of the generator parameters phi.
        generator_params: phi, a pytree of arrays.

    Returns:
        The squared Euclidean norm of d l_G / d phi over all leaves, a scalar.
    """
    grads = jax.grad(generator_loss)(generator_params)
    return sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads))


def clip_weights(discriminator: PyTree, clip: float | Float[Array, ""]) -> PyTree:
    """The discriminator with every floating-point parameter clipped to [-c, c] (the WGAN baseline, Arjovsky et al. 2017).

    Args:
        discriminator: A pytree (an Equinox module, or its parameters).
        clip: c > 0; a 0-d array is fine (it may vary in a sweep).

    Returns:
        The same pytree with each inexact array leaf replaced by ``clip(leaf, -c, c)``.
    """
    if concrete(clip) is not None:
        value = check_real_scalar("clip", clip, what="a finite number > 0")
        if not value >= np.finfo(working_dtype()).tiny:
            raise ValueError(f"clip must be > 0 (a normal {working_dtype()} number), got {value!r}")
    else:  # traced (a sweep, or jit): checked when the values are known
        if np.ndim(clip) != 0:
            raise ValueError(f"clip must be a scalar, got shape {np.shape(clip)}")
        clip = eqx.error_if(clip, ~(clip > 0), "clip must be > 0 (and not NaN)")
    return _clip_weights(discriminator, clip)


def _clip_weights(discriminator: PyTree, clip) -> PyTree:
    return jax.tree_util.tree_map(
        lambda leaf: jnp.clip(leaf, -clip, clip) if eqx.is_inexact_array(leaf) else leaf, discriminator
    )
