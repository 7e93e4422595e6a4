"""The vector field of the GAN flow: the loss pair and the regularisers (Qin et al. 2020, eq. 4)."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Scalar

from .._core._validation import check_choice, check_finite, check_nonnegative, check_positive
from .._linear._losses import LOSS_NAMES, gan_loss
from ._regularisers import PENALTY_FORMS, PENALTY_MEASURES, generator_gradient_penalty, gradient_penalty, penalty_samples
from ._state import GANState, Minibatch, StateParts

GENERATOR_LOSSES = ("minimax", "non_saturating")
LAM_PLACEMENTS = ("field", "after_step")


class GANFlow(eqx.Module):
    """The loss pair and regularisers that define the vector field of the GAN flow (built by :func:`gan_flow`).

    Hyperparameters that sweeps vary are 0-d arrays (``alpha``, ``beta``, ``gamma``, ``lam``,
    ``clip``), so a new value does not recompile; the switches (which loss, which penalty) are
    static. A regulariser that was not asked for is ``None``.

    Attributes:
        loss: The loss name, one of ``lgan.LOSS_NAMES``.
        generator_loss: ``"minimax"`` or ``"non_saturating"``.
        alpha: alpha of the parametric loss (``None`` for the named losses).
        beta: beta of the parametric loss (``None`` for the named losses).
        gamma: Weight of the gradient penalty, or ``None`` for none.
        penalty_measure: The penalty measure of Kim et al. (2021), Table 1.
        penalty_form: ``"simple"`` or ``"wgan_gp"``.
        anchor: The anchor point A of ``"mu_g_anc"``, or ``None``.
        lam: Weight lambda of Qin et al.'s penalty, or ``None`` for none.
        clip: Weight-clipping bound c, or ``None`` for none.
        lam_placement: ``"field"`` (lambda's term is part of the vector field) or ``"after_step"``
            (Qin et al.'s Algorithm 1: a separate step after the solver's step).
    """

    loss: str = eqx.field(static=True)
    generator_loss: str = eqx.field(static=True)
    alpha: Float[Array, ""] | None
    beta: Float[Array, ""] | None
    gamma: Float[Array, ""] | None
    penalty_measure: str = eqx.field(static=True)
    penalty_form: str = eqx.field(static=True)
    anchor: Float[Array, " d"] | None
    lam: Float[Array, ""] | None
    clip: Float[Array, ""] | None
    lam_placement: str = eqx.field(static=True, default="field")

    def phis(self) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
        """(phi_1, phi_2) of the loss (Khrulkov et al. 2021, eq. 2), built from array hyperparameters."""
        if self.loss == "parametric":
            a, b = self.alpha, self.beta
            return (lambda x: 0.5 * a * x**2 + b * x), (lambda x: -b * x)
        pair = gan_loss(self.loss)
        return pair.phi1, pair.phi2

    def losses(self, state: GANState, batch: Minibatch) -> tuple[Scalar, Scalar]:
        """(l_D, l_G) on one minibatch, without regularisers (Khrulkov et al. 2021, eq. 2; Qin et al. 2020, eq. 2).

        Args:
            state: The :class:`GANState`.
            batch: The :class:`Minibatch`.

        Returns:
            l_D = mean phi_1(D(x)) + mean phi_2(D(G(z))) and l_G, minimax (-mean phi_2(D(G(z))))
            or non-saturating (mean phi_1(D(G(z)))).
        """
        phi1, phi2 = self.phis()
        fake = jax.vmap(state.generator)(batch.z)
        d_real = jax.vmap(state.discriminator)(batch.x)
        d_fake = jax.vmap(state.discriminator)(fake)
        loss_d = jnp.mean(phi1(d_real)) + jnp.mean(phi2(d_fake))
        loss_g = -jnp.mean(phi2(d_fake)) if self.generator_loss == "minimax" else jnp.mean(phi1(d_fake))
        return loss_d, loss_g

    def discriminator_objective(self, state: GANState, batch: Minibatch) -> Scalar:
        """l_D + (gamma / 2) E_mu ||grad_x D||^2 (or gamma E_mu (||grad_x D|| - 1)^2) + lambda ||d l_G / d phi||^2.

        The terms are Khrulkov et al. (2021), Section 6 (simple penalty; Kim et al. 2021, Table 1),
        Gulrajani et al. (2017), eq. 3 (``penalty_form="wgan_gp"``) and Qin et al. (2020), eq. 11.
        The penalty samples use the batch's generated points G(z) as fixed points: only the
        dependence on the discriminator is differentiated by the flow.

        Args:
            state: The :class:`GANState`.
            batch: The :class:`Minibatch`.

        Returns:
            The scalar the discriminator descends.
        """
        loss_d, _ = self.losses(state, batch)
        total = loss_d
        if self.gamma is not None:
            fake = jax.lax.stop_gradient(jax.vmap(state.generator)(batch.z))
            x_hat = penalty_samples(self.penalty_measure, batch.x, fake, batch.u, anchor=self.anchor)
            pen = gradient_penalty(state.discriminator, x_hat, form=self.penalty_form)
            total = total + (0.5 * self.gamma if self.penalty_form == "simple" else self.gamma) * pen
        if self.lam is not None and self.lam_placement == "field":
            total = total + self.lam * self.generator_gradient_sq_norm(state, batch)
        return total

    def generator_gradient_sq_norm(self, state: GANState, batch: Minibatch) -> Scalar:
        """||d l_G / d phi||^2 on one minibatch, as a function of both players (Qin et al. 2020, eq. 11, before lambda)."""
        g_params, g_static = eqx.partition(state.generator, eqx.is_inexact_array)

        def loss_g_of(gp):
            return self.losses(GANState(state.discriminator, eqx.combine(gp, g_static), state.latent_dim), batch)[1]

        return generator_gradient_penalty(loss_g_of, g_params)


def gan_flow(
    loss: str = "standard",
    *,
    alpha: float | None = None,
    beta: float | None = None,
    generator_loss: str = "minimax",
    gamma: float | None = None,
    penalty_measure: str = "p_d",
    penalty_form: str = "simple",
    anchor: Float[Array, " d"] | None = None,
    lam: float | None = None,
    clip: float | None = None,
    lam_placement: str = "field",
) -> GANFlow:
    """The vector field theta' = -grad_theta (l_D + regularisers), phi' = -grad_phi l_G (Qin et al. 2020, eq. 4).

    Args:
        loss: A loss of :func:`lgan.gan_loss`: ``"standard"``, ``"wgan"``, ``"lsgan"`` or
            ``"parametric"`` (phi_1 = alpha x^2 / 2 + beta x, phi_2 = -beta x; Khrulkov et al. 2021,
            Section 7).
        alpha: alpha >= 0 of the parametric loss.
        beta: beta != 0 of the parametric loss.
        generator_loss: ``"minimax"`` (l_G = -E phi_2(D(G(z)))) or ``"non_saturating"``
            (l_G = E phi_1(D(G(z))), the -log D trick for the standard GAN; for WGAN the two agree).
        gamma: Weight gamma >= 0 of the gradient penalty; ``None`` leaves it out.
        penalty_measure: Penalty measure (Kim et al. 2021, Table 1): ``"p_d"``, ``"p_g"``,
            ``"mu_gp"``, ``"mu_mid"`` or ``"mu_g_anc"``.
        penalty_form: ``"simple"``: (gamma / 2) E_mu ||grad_x D||^2 (Khrulkov et al. 2021, Section 6);
            ``"wgan_gp"``: gamma E_mu (||grad_x D|| - 1)^2 (Gulrajani et al. 2017, eq. 3), usually with
            ``penalty_measure="mu_gp"``.
        anchor: The fixed point A of ``"mu_g_anc"``, shape (d,).
        lam: Weight lambda >= 0 of R(theta) = lambda ||d l_G / d phi||^2 (Qin et al. 2020, eq. 11);
            ``None`` leaves it out.
        clip: Weight clipping: after every step the discriminator's parameters are clipped to
            [-c, c] (the WGAN baseline); ``None`` for no clipping.
        lam_placement: Where lambda's term acts. ``"field"``: it is part of the vector field, so a
            solver evaluates it at every stage. ``"after_step"``: Qin et al.'s Algorithm 1, a
            separate step theta <- theta - h lambda grad_theta ||d l_G / d phi||^2 after the
            solver's step on the unregularised field, with the gradient taken at the parameters
            before that step (same minibatch). The two agree exactly for Euler and to first order
            in h for the other solvers.

    Returns:
        :class:`GANFlow`.
    """
    check_choice("loss", loss, LOSS_NAMES)
    gan_loss(loss, alpha=alpha, beta=beta)  # the checks of alpha and beta, with the same messages
    check_choice("generator_loss", generator_loss, GENERATOR_LOSSES)
    check_choice("penalty_measure", penalty_measure, PENALTY_MEASURES)
    check_choice("penalty_form", penalty_form, PENALTY_FORMS)
    check_choice("lam_placement", lam_placement, LAM_PLACEMENTS)
    dtype = jnp.result_type(float)

    def scalar(name, value, check):
        if value is None:
            return None
        if isinstance(value, bool) or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a real scalar, got {value!r}")
        check(name, value)
        return jnp.asarray(value, dtype=dtype)

    gamma_arr = scalar("gamma", gamma, check_nonnegative)
    lam_arr = scalar("lam", lam, check_nonnegative)
    clip_arr = scalar("clip", clip, check_positive)
    anchor_arr = None
    if penalty_measure == "mu_g_anc":
        if anchor is None:
            raise ValueError("anchor must be given for penalty_measure='mu_g_anc' (the fixed point A of Kim et al. 2021)")
        anchor_arr = jnp.asarray(anchor, dtype=dtype)
        if anchor_arr.ndim != 1:
            raise ValueError(f"anchor must be a vector of shape (d,), got shape {anchor_arr.shape}")
        check_finite("anchor", anchor_arr)
    elif anchor is not None:
        raise ValueError(f"anchor is only used by penalty_measure='mu_g_anc', got penalty_measure={penalty_measure!r}")
    return GANFlow(
        loss=loss,
        generator_loss=generator_loss,
        alpha=None if alpha is None else jnp.asarray(alpha, dtype=dtype),
        beta=None if beta is None else jnp.asarray(beta, dtype=dtype),
        gamma=gamma_arr,
        penalty_measure=penalty_measure,
        penalty_form=penalty_form,
        anchor=anchor_arr,
        lam=lam_arr,
        clip=clip_arr,
        lam_placement=lam_placement,
    )


def velocity(flow: GANFlow, parts: StateParts, y, batch: Minibatch):
    """v(theta, phi) = (-grad_theta (l_D + regularisers), -grad_phi l_G) on one minibatch, y = (theta, phi)."""
    d, g = y
    return disc_velocity(flow, parts, d, g, batch), gen_velocity(flow, parts, d, g, batch)


def disc_velocity(flow: GANFlow, parts: StateParts, d, g, batch: Minibatch):
    """theta' = -grad_theta (l_D + regularisers)."""
    grad = jax.grad(lambda dd: flow.discriminator_objective(parts.state(dd, g), batch))(d)
    return jax.tree_util.tree_map(jnp.negative, grad)


def gen_velocity(flow: GANFlow, parts: StateParts, d, g, batch: Minibatch):
    """phi' = -grad_phi l_G."""
    grad = jax.grad(lambda gg: flow.losses(parts.state(d, gg), batch)[1])(g)
    return jax.tree_util.tree_map(jnp.negative, grad)


def lam_step(flow: GANFlow, parts: StateParts, y, d_new, batch: Minibatch, step):
    """Qin et al.'s Algorithm 1: d_new - h lambda grad_theta ||d l_G / d phi||^2 at y = (theta, phi), or d_new unchanged.

    Only with ``lam_placement="after_step"``; with ``"field"`` the term is already in the velocity.
    """
    if flow.lam is None or flow.lam_placement != "after_step":
        return d_new
    d, g = y
    grad = jax.grad(lambda dd: flow.generator_gradient_sq_norm(parts.state(dd, g), batch))(d)
    return jax.tree_util.tree_map(lambda a, b: a - step * flow.lam * b, d_new, grad)


def strong_types(flow: GANFlow, dtype) -> GANFlow:
    """The flow with every array in ``dtype`` and no weak types: a hyperparameter given as jnp.asarray(2.0) must not retrace."""
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=dtype) if eqx.is_array(a) else a, flow)
