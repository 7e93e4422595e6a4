"""The GAN flow: a discriminator and a generator following the simultaneous-gradient vector field.

State. A :class:`GANState` holds a discriminator D: R^d -> R and a generator G: R^k -> R^d
(Equinox modules; :func:`mlp_gan` builds MLPs). Writing theta for D's parameters and phi for G's,
the flow is (Qin et al. 2020, eq. 4)

    theta' = -grad_theta [ l_D(theta, phi) + regularisers ],    phi' = -grad_phi l_G(theta, phi),

with l_D = E_mu phi_1(D(x)) + E_z phi_2(D(G(z))) (Khrulkov et al. 2021, eq. 2) and either the
minimax generator loss l_G = -E_z phi_2(D(G(z))) or the non-saturating one
l_G = E_z phi_1(D(G(z))) (for the standard GAN, -E_z log sigmoid(D(G(z))); Qin et al. 2020,
Section 2). It is integrated at a fixed step by Euler, Heun or the classical RK4 (:class:`lgan.RK4`),
one Diffrax ``solver.step`` per step inside a ``jax.lax.scan`` (or, with ``unroll_stages=True``,
the same Butcher tableau with its stages unrolled; :class:`lgan.RK4` unrolls its own stages, so the
flag only matters for Heun, whose Diffrax step loops over its stages).

Minibatch rule: one minibatch per step, shared by all the stages of that step, drawn from the key
``jax.random.fold_in(key, k)`` at step k. Between t_k and t_k + h the solver then integrates one
fixed, deterministic vector field v_k (the field of the step's empirical measures), so an RK4 step
is a genuine RK4 step of v_k and keeps its order in h. Fresh noise at each stage would make the
stages estimates of different fields, and the stage weights would no longer cancel the error terms
(the scheme degrades to a first-order stochastic one). Folding in k makes the batch of step k a
function of (key, k) only: Euler, Heun, RK4 and Adam at the same key see the same batches (paired
comparisons), and the batches do not depend on ``save_every`` or on a divergence earlier in the
run. With ``batch_size=None`` the batch is the whole data set and a latent sample drawn once, so
the flow is a deterministic ODE (used to test the order of the solvers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree, Scalar

from .._linear._losses import LOSS_NAMES, gan_loss
from ._regularisers import (
    PENALTY_FORMS,
    PENALTY_MEASURES,
    _clip_weights,
    generator_gradient_penalty,
    gradient_penalty,
    penalty_samples,
)
from .._core._solvers import SOLVER_NAMES, solver_by_name
from .._core._validation import (
    check_bool,
    check_choice,
    check_finite,
    check_int_at_least,
    check_key,
    check_nonnegative,
    check_positive,
    check_probability,
    check_shape,
    real_array,
)

GENERATOR_LOSSES = ("minimax", "non_saturating")
ADAM_METHODS = ("adam_simultaneous", "adam_alternating")
SWEEP_METHODS = SOLVER_NAMES + ADAM_METHODS
SWEEP_HYPERPARAMETERS = ("alpha", "beta", "gamma", "lam", "clip")
BUILTIN_METRICS = ("loss_d", "loss_g", "disc_sq_norm", "norm")

MetricFn = Callable[["GANState", Float[Array, "n d"], Float[Array, "n k"]], dict]


class GANState(eqx.Module):
    """A discriminator D: R^d -> R and a generator G: R^k -> R^d, the state of the GAN flow.

    Attributes:
        discriminator: D, called on one sample x of shape (d,), returning a scalar.
        generator: G, called on one latent z of shape (k,), returning a sample of shape (d,).
        latent_dim: k, the dimension of the latent variable z ~ N(0, I_k).
    """

    discriminator: Callable[[Float[Array, " d"]], Scalar]
    generator: Callable[[Float[Array, " k"]], Float[Array, " d"]]
    latent_dim: int = eqx.field(static=True)

    @property
    def data_dim(self) -> int:
        """The dimension d of the samples the generator produces."""
        out = _output_shape(self.generator, (self.latent_dim,), jnp.result_type(float))
        return int(out[0]) if len(out) == 1 else -1


def mlp_gan(
    data_dim: int,
    latent_dim: int = 2,
    width: int = 32,
    depth: int = 2,
    *,
    activation: Callable[[Array], Array] = jax.nn.silu,
    key: PRNGKeyArray,
) -> GANState:
    """A :class:`GANState` of two MLPs: D: R^d -> R and G: R^k -> R^d, each with ``depth`` hidden layers.

    The default activation is the smooth SiLU: the gradient penalty differentiates D with respect
    to its input and then the flow differentiates that again, and the order tests need a smooth
    field. Qin et al. (2020, Section 5.1) use ReLU MLPs with 25 units; pass
    ``activation=jax.nn.relu`` for that.

    Args:
        data_dim: d >= 1 (1 and 2 for the toy data sets).
        latent_dim: k >= 1.
        width: Units per hidden layer (>= 1).
        depth: Number of hidden layers (>= 1).
        activation: Elementwise activation of both networks.
        key: PRNG key for the weights.

    Returns:
        :class:`GANState`.
    """
    for name, value in (("data_dim", data_dim), ("latent_dim", latent_dim), ("width", width), ("depth", depth)):
        check_int_at_least(name, value, 1)
    check_key("key", key)
    if not callable(activation):
        raise ValueError(f"activation must be a callable elementwise function, got {activation!r:.60}")
    kd, kg = jax.random.split(key)
    disc = eqx.nn.MLP(data_dim, "scalar", width, depth, activation=activation, key=kd)
    gen = eqx.nn.MLP(latent_dim, data_dim, width, depth, activation=activation, key=kg)
    return GANState(disc, gen, latent_dim)


class Minibatch(NamedTuple):
    """The random inputs of one step: data x, latents z and uniforms u for the penalty measure.

    Attributes:
        x: Data samples, shape (b, d).
        z: Latent samples z ~ N(0, I_k), shape (b, k).
        u: Uniform draws in [0, 1], shape (b,), for the interpolating penalty measures.
    """

    x: Float[Array, "b d"]
    z: Float[Array, "b k"]
    u: Float[Array, " b"]


def draw_minibatch(data: Float[Array, "n d"], latent_dim: int, batch_size: int, *, key: PRNGKeyArray) -> Minibatch:
    """One minibatch: ``batch_size`` data points drawn uniformly with replacement, latents and uniforms.

    The flow calls it once per step k with ``jax.random.fold_in(key, k)`` (see the module notes).

    Args:
        data: The data set, shape (n, d).
        latent_dim: k.
        batch_size: b >= 1.
        key: PRNG key of this step.

    Returns:
        :class:`Minibatch`.
    """
    check_shape("data", data, ("n", "d"), description=" (n samples of dimension d)")
    if np.shape(data)[0] < 1:
        raise ValueError(f"data must hold at least one sample, got shape {tuple(np.shape(data))}")
    real_array("data", data)
    check_int_at_least("latent_dim", latent_dim, 1)
    check_int_at_least("batch_size", batch_size, 1)
    check_key("key", key)
    return _draw_minibatch(data, latent_dim, batch_size, key)


def _draw_minibatch(data, latent_dim: int, batch_size: int, key) -> Minibatch:
    ki, kz, ku = jax.random.split(key, 3)
    idx = jax.random.randint(ki, (batch_size,), 0, data.shape[0])
    z = jax.random.normal(kz, (batch_size, latent_dim), dtype=data.dtype)
    u = jax.random.uniform(ku, (batch_size,), dtype=data.dtype)
    return Minibatch(data[idx], z, u)


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
        if self.lam is not None:
            g_params, g_static = eqx.partition(state.generator, eqx.is_inexact_array)

            def loss_g_of(gp):
                return self.losses(GANState(state.discriminator, eqx.combine(gp, g_static), state.latent_dim), batch)[1]

            total = total + self.lam * generator_gradient_penalty(loss_g_of, g_params)
        return total


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
            ``None`` leaves it out. It enters the field at every stage (Qin et al.'s Algorithm 1
            applies it as a separate Euler step after the ODE step; both agree to first order in h).
        clip: Weight clipping: after every step the discriminator's parameters are clipped to
            [-c, c] (the WGAN baseline); ``None`` for no clipping.

    Returns:
        :class:`GANFlow`.
    """
    check_choice("loss", loss, LOSS_NAMES)
    gan_loss(loss, alpha=alpha, beta=beta)  # the checks of alpha and beta, with the same messages
    check_choice("generator_loss", generator_loss, GENERATOR_LOSSES)
    check_choice("penalty_measure", penalty_measure, PENALTY_MEASURES)
    check_choice("penalty_form", penalty_form, PENALTY_FORMS)
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
    )


class GANFlowResult(eqx.Module):
    """Metrics of a GAN flow saved every ``save_every`` steps, the final state, and divergence.

    A run that diverges is frozen: from ``diverged_at`` on, the state (and every metric) repeats
    the last state that was finite and within the threshold.

    Attributes:
        steps: Step indices k of the saved entries (0, e, 2e, ..., n with e = save_every).
        times: t_k = k * step (for Adam: k * learning rate, the cumulative learning rate).
        metrics: Dict of arrays with one entry per saved step: ``loss_d`` and ``loss_g`` (the
            unregularised losses; Nash values log 4 and log 2 for the standard GAN with the
            non-saturating generator loss), ``disc_sq_norm`` (E_mu D(x)^2 over the data),
            ``norm`` (the parameter norm), and the user's metrics.
        final: The :class:`GANState` after the last step (the frozen one if the run diverged).
        diverged: Whether some step produced non-finite parameters or a norm above the threshold.
        diverged_at: The first such step index k (1..n), or -1.
        divergence_norm: The parameter norm at step ``diverged_at`` (inf if non-finite; 0 if none).
        max_norm: The largest parameter norm reached before the divergence.
        method: The solver or optimiser that produced it.
        states: With ``save_states_every=s``: the whole :class:`GANState` at steps 0, s, 2s, ..., n
            (every parameter with a leading axis of size n / s + 1; frozen after a divergence,
            like the metrics); else ``None``.
    """

    steps: Int[Array, " s"]
    times: Float[Array, " s"]
    metrics: dict
    final: GANState
    diverged: Bool[Array, ""]
    diverged_at: Int[Array, ""]
    divergence_norm: Float[Array, ""]
    max_norm: Float[Array, ""]
    method: str = eqx.field(static=True)
    states: GANState | None = None

    @property
    def valid(self) -> Bool[Array, "*r s"]:
        """True for the saved entries computed before any divergence (shape (r, s) for a :func:`sweep`)."""
        diverged, at = jnp.asarray(self.diverged)[..., None], jnp.asarray(self.diverged_at)[..., None]
        return jnp.where(diverged, self.steps < at, True)

    def summary(self) -> str:
        """``"rk4: diverged at step 37 (norm 1.2e+06)"`` or ``"rk4: finished 200 steps, ..."``.

        One line for a single run; for a :func:`sweep`, one line per run, ``"run r: ..."``.
        """
        diverged = np.asarray(self.diverged)
        if diverged.ndim == 0:
            return self._summary_line(())
        return "\n".join(
            f"run {i[0] if len(i) == 1 else i}: {self._summary_line(i)}" for i in np.ndindex(diverged.shape)
        )

    def _summary_line(self, i) -> str:
        if bool(np.asarray(self.diverged)[i]):
            at, norm = int(np.asarray(self.diverged_at)[i]), float(np.asarray(self.divergence_norm)[i])
            return f"{self.method}: diverged at step {at} (norm {norm:.1e})"
        steps = np.asarray(self.steps)
        last = int(steps[-1]) if steps.ndim == 1 else int(steps[i][-1])
        loss_d = float(np.asarray(self.metrics["loss_d"])[i][-1])
        loss_g = float(np.asarray(self.metrics["loss_g"])[i][-1])
        return f"{self.method}: finished {last} steps, loss_d {loss_d:.4g}, loss_g {loss_g:.4g}"


# ----------------------------------------------------------------------------------------------
# The engine: one pure function of arrays, jitted for a single run and vmapped for a sweep.


def _split_state(state: GANState):
    d, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)
    g, g_static = eqx.partition(state.generator, eqx.is_inexact_array)
    return d, g, d_static, g_static


class _Parts(NamedTuple):
    d_static: PyTree
    g_static: PyTree
    latent_dim: int

    def state(self, d, g) -> GANState:
        return GANState(eqx.combine(d, self.d_static), eqx.combine(g, self.g_static), self.latent_dim)


def _disc_velocity(flow: GANFlow, parts: _Parts, d, g, batch):
    grad = jax.grad(lambda dd: flow.discriminator_objective(parts.state(dd, g), batch))(d)
    return jax.tree_util.tree_map(jnp.negative, grad)


def _gen_velocity(flow: GANFlow, parts: _Parts, d, g, batch):
    grad = jax.grad(lambda gg: flow.losses(parts.state(d, gg), batch)[1])(g)
    return jax.tree_util.tree_map(jnp.negative, grad)


def _velocity(flow: GANFlow, parts: _Parts, y, batch):
    d, g = y
    return _disc_velocity(flow, parts, d, g, batch), _gen_velocity(flow, parts, d, g, batch)


def _norm(tree) -> Scalar:
    return jnp.sqrt(sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(tree)))


def _tree_where(pred, a, b):
    return jax.tree_util.tree_map(lambda u, v: jnp.where(pred, u, v), a, b)


def _metrics(flow: GANFlow, parts: _Parts, y, x_eval, z_eval, u_eval, metric_fn) -> dict:
    state = parts.state(*y)
    loss_d, loss_g = flow.losses(state, Minibatch(x_eval, z_eval, u_eval))
    d_real = jax.vmap(state.discriminator)(x_eval)
    out = {"loss_d": loss_d, "loss_g": loss_g, "disc_sq_norm": jnp.mean(d_real**2), "norm": _norm(y)}
    if metric_fn is not None:
        extra = metric_fn(state, x_eval, z_eval)
        if not isinstance(extra, dict):
            raise ValueError(f"metric_fn must return a dict of arrays, got {type(extra).__name__}")
        clash = sorted(set(extra) & set(out))
        if clash:
            raise ValueError(f"metric_fn must not return the built-in metric names {clash}")
        out.update(extra)
    return out


def _unrolled_erk_step(tableau: diffrax.ButcherTableau, field, y0, h):
    """One step of an explicit Runge-Kutta method from its Butcher tableau, stages unrolled in Python.

    k_1 = f(y_0), k_i = f(y_0 + h sum_j a_ij k_j), y_1 = y_0 + h sum_i b_i k_i: the step Diffrax's
    ``AbstractERK.step`` takes for the same tableau (the field is autonomous), without its loop over
    the stages, which on CPU keeps XLA from fusing across stages (see benchmarks/gan_flow.py).
    Zero coefficients are skipped.
    """

    def combine(coeffs, ks):
        terms = [(float(a), k) for a, k in zip(coeffs, ks) if float(a) != 0.0]
        coefficients = [a for a, _ in terms]

        def leafwise(y, *leaves):
            return y + h * sum(a * leaf for a, leaf in zip(coefficients, leaves))

        return jax.tree_util.tree_map(leafwise, y0, *[k for _, k in terms])

    ks = [field(y0)]
    for row in tableau.a_lower:
        ks.append(field(combine(row, ks)))
    return combine(tableau.b_sol, ks)


def _run(
    flow: GANFlow,
    d0,
    g0,
    data,
    key,
    step,
    threshold,
    parts: _Parts,
    method: str,
    num_steps: int,
    save_every: int,
    batch_size: int | None,
    metric_fn,
    b1: float,
    b2: float,
    unroll_stages: bool = False,
    save_states_every: int | None = None,
    vmapped: bool = False,
):
    n = data.shape[0]
    noise_key, eval_key = jax.random.split(key)
    z_eval = jax.random.normal(eval_key, (n, parts.latent_dim), dtype=data.dtype)
    u_eval = jax.random.uniform(jax.random.fold_in(eval_key, 1), (n,), dtype=data.dtype)
    if batch_size is None:
        fixed = Minibatch(data, z_eval, u_eval)

        def get_batch(k):
            return fixed

    else:

        def get_batch(k):
            return _draw_minibatch(data, parts.latent_dim, batch_size, jax.random.fold_in(noise_key, k))

    def project(y):
        d, g = y
        return (_clip_weights(d, flow.clip), g) if flow.clip is not None else y

    y0 = (d0, g0)
    if method in SOLVER_NAMES:
        solver = solver_by_name(method)
        term = diffrax.ODETerm(lambda t, y, args: _velocity(flow, parts, y, args))
        opt0 = solver.init(term, 0.0, step, y0, get_batch(0))

        if unroll_stages and method != "euler":

            def advance(y, opt, batch, k):
                return project(_unrolled_erk_step(solver.tableau, lambda yy: _velocity(flow, parts, yy, batch), y, step)), opt

        else:

            def advance(y, opt, batch, k):
                t0 = k * step
                y1, _, _, opt, _ = solver.step(term, t0, t0 + step, y, batch, opt, made_jump=False)
                return project(y1), opt

    else:
        optimiser = optax.adam(step, b1=b1, b2=b2)
        opt0 = (optimiser.init(d0), optimiser.init(g0))
        alternating = method == "adam_alternating"

        def advance(y, opt, batch, k):
            d, g = y
            opt_d, opt_g = opt
            grad_d = jax.tree_util.tree_map(jnp.negative, _disc_velocity(flow, parts, d, g, batch))
            upd_d, opt_d = optimiser.update(grad_d, opt_d, d)
            d_new = project((optax.apply_updates(d, upd_d), g))[0]
            grad_g = jax.tree_util.tree_map(jnp.negative, _gen_velocity(flow, parts, d_new if alternating else d, g, batch))
            upd_g, opt_g = optimiser.update(grad_g, opt_g, g)
            return (d_new, optax.apply_updates(g, upd_g)), (opt_d, opt_g)

    def one_step(carry, k):
        # One step with the divergence bookkeeping: a step whose norm is non-finite or above the
        # threshold marks the run diverged, and from then on the state stays frozen.
        y, opt, diverged, diverged_at, div_norm, max_norm = carry
        y_new, opt_new = advance(y, opt, get_batch(k), k)
        norm = _norm(y_new)
        bad = ~(norm <= threshold) & ~diverged  # NaN counts as bad
        diverged_at = jnp.where(bad, k + 1, diverged_at)
        div_norm = jnp.where(bad, jnp.where(jnp.isfinite(norm), norm, jnp.inf), div_norm)
        diverged = diverged | bad
        max_norm = jnp.where(diverged, max_norm, jnp.maximum(max_norm, norm))
        y = _tree_where(diverged, y, y_new)
        opt = _tree_where(diverged, opt, opt_new)
        return (y, opt, diverged, diverged_at, div_norm, max_norm), None

    def checked_block(carry, ks):
        return jax.lax.scan(one_step, carry, ks)[0]

    def two_pass_block(carry, ks):
        # The same result as checked_block without its per-step selects (~10% of an RK4 step on CPU,
        # benchmarks/gan_flow.py). Pass 0 takes plain steps and records the first step whose norm
        # went bad; only if there is one, pass 1 repeats the block's steps up to just before it. One
        # while loop runs both passes, so the step is traced (and compiled) once. Not under vmap,
        # where every run would pay for the second pass of any one: sweeps use checked_block.
        y0_, opt0_, _, _, _, max_norm0 = carry
        start = ks[0]

        def plain(k, c):
            y, opt, first_bad, bad_norm, max_norm = c
            y, opt = advance(y, opt, get_batch(k), k)
            norm = _norm(y)
            bad = ~(norm <= threshold) & (first_bad < 0)
            first_bad = jnp.where(bad, k, first_bad)
            bad_norm = jnp.where(bad, jnp.where(jnp.isfinite(norm), norm, jnp.inf), bad_norm)
            max_norm = jnp.where(first_bad < 0, jnp.maximum(max_norm, norm), max_norm)
            return y, opt, first_bad, bad_norm, max_norm

        def one_pass(state):
            p, _, _, first_bad, bad_norm, max_norm = state
            first = p == 0  # pass 0 runs the whole block, pass 1 stops before the bad step
            stop = jnp.where(first, ks[-1] + 1, first_bad)
            y, opt, fb, bn, mx = jax.lax.fori_loop(start, stop, plain, (y0_, opt0_, jnp.asarray(-1), zero, max_norm0))
            first_bad, bad_norm, max_norm = (jnp.where(first, a, b) for a, b in ((fb, first_bad), (bn, bad_norm), (mx, max_norm)))
            return p + 1, y, opt, first_bad, bad_norm, max_norm

        def again(state):
            p, _, _, first_bad, _, _ = state
            return (p == 0) | ((p == 1) & (first_bad >= 0))

        init = (jnp.asarray(0), y0_, opt0_, jnp.asarray(-1), zero, max_norm0)
        _, y, opt, first_bad, bad_norm, max_norm = jax.lax.while_loop(again, one_pass, init)
        diverged = first_bad >= 0
        return (y, opt, diverged, jnp.where(diverged, first_bad + 1, -1), jnp.where(diverged, bad_norm, zero), max_norm)

    block = checked_block if vmapped else two_pass_block

    def one_save(carry, i):
        ks = i * save_every + jnp.arange(save_every)
        carry = jax.lax.cond(carry[2], lambda c: c, lambda c: block(c, ks), carry)  # a diverged run skips the block
        return carry, _metrics(flow, parts, carry[0], data, z_eval, u_eval, metric_fn)

    saves_per_snapshot = (save_states_every or num_steps) // save_every

    def one_snapshot(carry, j):
        carry, saved = jax.lax.scan(one_save, carry, j * saves_per_snapshot + jnp.arange(saves_per_snapshot))
        return carry, (saved, carry[0] if save_states_every else None)

    zero = jnp.zeros((), dtype=data.dtype)
    carry0 = (y0, opt0, jnp.asarray(False), jnp.asarray(-1), zero, _norm(y0))
    num_saves = num_steps // save_every
    num_snapshots = num_saves // saves_per_snapshot
    (y, _, diverged, diverged_at, div_norm, max_norm), (saved, snaps) = jax.lax.scan(
        one_snapshot, carry0, jnp.arange(num_snapshots)
    )
    saved = jax.tree_util.tree_map(lambda a: a.reshape((num_saves,) + a.shape[2:]), saved)
    first = _metrics(flow, parts, y0, data, z_eval, u_eval, metric_fn)
    metrics = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, saved)
    steps = save_every * jnp.arange(num_saves + 1)
    states = None
    if save_states_every:
        d_all, g_all = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), y0, snaps)
        states = GANState(eqx.combine(d_all, parts.d_static), eqx.combine(g_all, parts.g_static), parts.latent_dim)
    return GANFlowResult(
        steps=steps,
        times=step * steps,
        metrics=metrics,
        final=parts.state(*y),
        diverged=diverged,
        diverged_at=diverged_at,
        divergence_norm=div_norm,
        max_norm=max_norm,
        method=method,
        states=states,
    )


_run_jit = eqx.filter_jit(_run)


@eqx.filter_jit
def _sweep_jit(
    flow, d0, g0, data, keys, steps, threshold, parts, method, num_steps, save_every, batch_size, metric_fn, b1, b2, state_axis,
    unroll_stages, save_states_every,
):
    run = lambda f, d, g, k, s: _run(  # noqa: E731
        f, d, g, data, k, s, threshold, parts, method, num_steps, save_every, batch_size, metric_fn, b1, b2, unroll_stages,
        save_states_every, vmapped=True,
    )
    return eqx.filter_vmap(run, in_axes=(0, state_axis, state_axis, 0, 0))(flow, d0, g0, keys, steps)


# ----------------------------------------------------------------------------------------------
# Checks before compute.


def _check_common(flow, state, data, num_steps, save_every, batch_size, divergence_threshold, save_states_every=None):
    if not isinstance(flow, GANFlow):
        raise ValueError(f"flow must be an lgan.GANFlow (build it with lgan.gan_flow), got {type(flow).__name__}")
    if not isinstance(state, GANState):
        raise ValueError(f"state must be an lgan.GANState (build it with lgan.mlp_gan), got {type(state).__name__}")
    check_int_at_least("num_steps", num_steps, 1)
    check_int_at_least("save_every", save_every, 1)
    if num_steps % save_every:
        raise ValueError(f"save_every must divide num_steps, got save_every={save_every}, num_steps={num_steps}")
    if save_states_every is not None:
        check_int_at_least("save_states_every", save_states_every, 1)
        if save_states_every % save_every or num_steps % save_states_every:
            raise ValueError(
                "save_states_every must be a multiple of save_every and divide num_steps, got "
                f"save_states_every={save_states_every}, save_every={save_every}, num_steps={num_steps}"
            )
    if batch_size is not None:
        check_int_at_least("batch_size", batch_size, 1)
    if isinstance(divergence_threshold, bool) or np.ndim(divergence_threshold) != 0:
        raise ValueError(f"divergence_threshold must be a real scalar > 0, got {divergence_threshold!r}")
    check_positive("divergence_threshold", divergence_threshold)
    return _check_data(data, state, flow)


_SHAPE_CACHE: dict = {}


def _output_shape(model, in_shape: tuple, dtype) -> tuple:
    """``model(x).shape`` for x of ``in_shape``, by ``jax.eval_shape``, cached on the model's structure.

    Tracing an MLP costs ~10 ms, which was most of the fixed cost of a short ``solve_gan_flow`` call;
    the answer depends only on the tree structure, the leaves' shapes and dtypes (and any non-array
    leaves, such as an activation function), so it is computed once per such structure.
    """
    leaves, treedef = jax.tree_util.tree_flatten(model)

    def leaf_key(leaf):
        if eqx.is_array(leaf):
            return (leaf.shape, str(leaf.dtype))
        try:
            hash(leaf)
        except TypeError:
            return ("id", id(leaf))
        return leaf

    key = (treedef, tuple(leaf_key(leaf) for leaf in leaves), in_shape, str(dtype))
    try:
        hash(key)  # a static field of the model may be unhashable: then no caching
    except TypeError:
        key = None
    if key in _SHAPE_CACHE:
        return _SHAPE_CACHE[key]
    # A plain function around the model: eval_shape names what it traces, and for an Equinox module
    # that means pretty-printing the whole module.
    shape = tuple(jax.eval_shape(lambda x: model(x), jax.ShapeDtypeStruct(in_shape, dtype)).shape)
    if key is not None and len(_SHAPE_CACHE) < 256:
        _SHAPE_CACHE[key] = shape
    return shape


def _check_data(data, state: GANState, flow: GANFlow):
    try:
        arr = np.asarray(data)
    except Exception:  # noqa: BLE001
        raise ValueError(f"data must be an array of shape (n, d), got {type(data).__name__}") from None
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"data must be real, got dtype {arr.dtype}")
    dtype = jnp.result_type(float)
    try:
        out = _output_shape(state.generator, (state.latent_dim,), dtype)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"state.generator failed on a latent of shape ({state.latent_dim},): {err}") from err
    if len(out) != 1:
        raise ValueError(f"state.generator must return a vector of shape (d,), got shape {out}")
    d = out[0]
    if arr.ndim == 1 and d == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError(f"data must have shape (n, d) with n >= 1, got shape {arr.shape}")
    if arr.shape[1] != d:
        raise ValueError(f"data has dimension {arr.shape[1]} but the generator makes samples of dimension {d}")
    try:
        d_out = _output_shape(state.discriminator, (d,), dtype)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"data has dimension {d} but state.discriminator fails on a sample of shape ({d},): {err}") from err
    if d_out != ():
        raise ValueError(f"state.discriminator must return a scalar, got shape {d_out}")
    check_finite("data", arr)
    if flow.anchor is not None and flow.anchor.shape != (d,):
        raise ValueError(f"anchor has shape {flow.anchor.shape} but the data have dimension {d}")
    return jnp.asarray(arr, dtype=dtype)


def _host_norm(tree, axis=None):
    # On the host in float64: op-by-op jnp here cost ~4 ms per call.
    leaves = [np.asarray(leaf, dtype=np.float64) for leaf in jax.tree_util.tree_leaves(tree)]
    if axis is None:
        return float(np.sqrt(sum(np.sum(leaf**2) for leaf in leaves)))
    return np.sqrt(sum(np.sum(leaf.reshape(leaf.shape[0], -1) ** 2, axis=1) for leaf in leaves))


def _check_initial_norm(d0, g0, threshold):
    norm0 = _host_norm((d0, g0))
    if not np.isfinite(norm0):
        raise ValueError("state must have finite parameters")
    if not norm0 <= float(threshold):
        raise ValueError(f"divergence_threshold must exceed the initial parameter norm {norm0:.3g}, got {float(threshold)!r}")


def _strong(flow: GANFlow, dtype) -> GANFlow:
    # One dtype, no weak types: a hyperparameter given as jnp.asarray(2.0) must not retrace.
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=dtype) if eqx.is_array(a) else a, flow)


def _check_bool(name, value):
    check_bool(name, value)


def _check_step(name, step):
    if isinstance(step, bool) or np.ndim(step) != 0:
        raise ValueError(f"{name} must be a real scalar > 0, got {step!r}")
    check_positive(name, step)


def solve_gan_flow(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    solver: str = "rk4",
    step: float,
    num_steps: int,
    batch_size: int | None = 64,
    save_every: int = 1,
    key: PRNGKeyArray,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    unroll_stages: bool = False,
    save_states_every: int | None = None,
) -> GANFlowResult:
    """Integrate the GAN flow (theta', phi') = v(theta, phi) (Qin et al. 2020, eq. 4) at a fixed step.

    One Diffrax ``solver.step`` per step (Euler, Heun or :class:`lgan.RK4`) in a ``jax.lax.scan``;
    one minibatch per step, shared by its stages, from ``jax.random.fold_in(key, k)`` (module
    notes). Metrics are evaluated on the whole data set and a fixed latent sample every
    ``save_every`` steps; the parameters are not stored. After a step whose parameters are
    non-finite or have norm above ``divergence_threshold`` the run stops (later steps are masked)
    and the result reports the step and the norm.

    Args:
        flow: The :class:`GANFlow` (:func:`gan_flow`).
        state: The initial :class:`GANState` (:func:`mlp_gan`).
        data: The data set, shape (n, d) (or (n,) when d = 1); finite.
        solver: ``"euler"``, ``"heun"`` or ``"rk4"``.
        step: The step h > 0 (a 0-d array is fine; a new value does not recompile).
        num_steps: n >= 1.
        batch_size: Minibatch size b >= 1; ``None`` for the full data set and a fixed latent
            sample (a deterministic ODE).
        save_every: Save metrics every e steps; e must divide ``num_steps``.
        key: PRNG key of the minibatches and of the evaluation latents.
        metric_fn: Optional ``metric_fn(state, x_eval, z_eval) -> dict`` of scalars, saved with
            the built-in metrics.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        unroll_stages: Evaluate the solver's Butcher tableau with the stages unrolled instead of
            calling Diffrax's ``solver.step`` (same scheme, equal up to round-off). Diffrax's generic
            step loops over the stages, which keeps XLA from fusing across them; ``lgan.RK4`` already
            unrolls its stages, so this only changes how Heun is stepped.
        save_states_every: Also keep the whole state every s steps (s a multiple of ``save_every``
            that divides ``num_steps``) in ``result.states``, e.g. to draw the generator during
            training; ``None`` keeps only the final state.

    Returns:
        :class:`GANFlowResult`.
    """
    check_choice("solver", solver, SOLVER_NAMES)
    _check_step("step", step)
    _check_bool("unroll_stages", unroll_stages)
    return _single(
        flow, state, data, solver, step, num_steps, batch_size, save_every, key, metric_fn, divergence_threshold, 0.9, 0.999,
        unroll_stages, save_states_every,
    )  # fmt: skip


def train_with_adam(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    learning_rate: float,
    num_steps: int,
    alternating: bool = False,
    b1: float = 0.5,
    b2: float = 0.999,
    batch_size: int | None = 64,
    save_every: int = 1,
    key: PRNGKeyArray,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    save_states_every: int | None = None,
) -> GANFlowResult:
    """What users do instead of solving the flow: Adam steps (Optax) on l_D + regularisers and on l_G.

    Simultaneous: both players step from the same (theta, phi). Alternating: the discriminator
    steps first, then the generator takes its gradient at the new discriminator (same minibatch).
    The minibatch rule, the metrics and the divergence report are those of :func:`solve_gan_flow`,
    so the two can be compared run for run; ``times`` is the cumulative learning rate.

    Args:
        flow: The :class:`GANFlow`.
        state: The initial :class:`GANState`.
        data: The data set, shape (n, d) (or (n,) when d = 1).
        learning_rate: Adam's learning rate > 0 (both players).
        num_steps: Number of updates n >= 1.
        alternating: Alternating (discriminator first) instead of simultaneous updates.
        b1: Adam's beta_1 in [0, 1) (0.5 is the usual GAN choice).
        b2: Adam's beta_2 in [0, 1).
        batch_size: Minibatch size, or ``None`` for the full data set.
        save_every: Save metrics every e updates; e must divide ``num_steps``.
        key: PRNG key.
        metric_fn: Optional extra metrics, as in :func:`solve_gan_flow`.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        save_states_every: Also keep the whole state every s updates (s a multiple of ``save_every``
            that divides ``num_steps``) in ``result.states``, e.g. to draw the generator during
            training; ``None`` keeps only the final state.

    Returns:
        :class:`GANFlowResult` with method ``"adam_simultaneous"`` or ``"adam_alternating"``.
    """
    _check_step("learning_rate", learning_rate)
    b1, b2 = check_probability("b1", b1), check_probability("b2", b2)
    method = "adam_alternating" if check_bool("alternating", alternating) else "adam_simultaneous"
    return _single(
        flow, state, data, method, learning_rate, num_steps, batch_size, save_every, key, metric_fn, divergence_threshold,
        float(b1), float(b2), False, save_states_every,
    )  # fmt: skip


def _single(
    flow, state, data, method, step, num_steps, batch_size, save_every, key, metric_fn, threshold, b1, b2, unroll=False,
    save_states_every=None,
):  # fmt: skip
    check_key("key", key)
    data = _check_common(flow, state, data, num_steps, save_every, batch_size, threshold, save_states_every)
    if metric_fn is not None and not callable(metric_fn):
        raise ValueError(f"metric_fn must be callable as metric_fn(state, x, z) -> dict, got {type(metric_fn).__name__}")
    d0, g0, d_static, g_static = _split_state(state)
    _check_initial_norm(d0, g0, threshold)
    parts = _Parts(d_static, g_static, state.latent_dim)
    dtype = data.dtype
    flow = _strong(flow, dtype)
    return _run_jit(
        flow, d0, g0, data, key, jnp.asarray(step, dtype), jnp.asarray(threshold, dtype), parts, method,
        num_steps, save_every, batch_size, metric_fn, b1, b2, bool(unroll), save_states_every,
    )  # fmt: skip


def sweep(
    flow: GANFlow,
    state: GANState,
    data: Float[Array, "n d"],
    *,
    keys: PRNGKeyArray,
    step: Float[Array, " r"] | float,
    num_steps: int,
    method: str = "rk4",
    hyperparameters: dict | None = None,
    batched_state: bool = False,
    batch_size: int | None = 64,
    save_every: int = 1,
    metric_fn: MetricFn | None = None,
    divergence_threshold: float = 1e6,
    b1: float = 0.5,
    b2: float = 0.999,
    unroll_stages: bool = False,
    save_states_every: int | None = None,
) -> GANFlowResult:
    """Many runs of :func:`solve_gan_flow` (or :func:`train_with_adam`) as one vmapped, compiled call.

    Run r uses ``keys[r]``, ``step[r]`` and, for each name in ``hyperparameters``, the value
    ``hyperparameters[name][r]``; everything is an array, so other values of the same shape do
    not recompile. Run r takes the same steps, with the same minibatches, as the single run with the
    same arguments, but the two are compiled separately: XLA evaluates the vmapped (batched) matrix
    products and reductions of a sweep with its own kernels, which may sum in another order, so the
    numbers (``loss_d``, the parameters) agree to round-off, not necessarily bit for bit. The
    difference starts in the last bit (relative 1e-7 in float32, 1e-16 in float64) and, like any
    round-off, can grow over the steps of an unstable run. With several devices
    (``jax.devices()``) and r a multiple of their number, the runs are split evenly across them.

    Args:
        flow: The :class:`GANFlow`; each swept hyperparameter must be part of it (not ``None``).
        state: The initial :class:`GANState`, shared by all runs; or, with ``batched_state=True``,
            one per run (every array leaf with a leading axis of size r, e.g. from
            ``eqx.filter_vmap(lambda k: lgan.mlp_gan(1, key=k))(init_keys)``).
        data: The data set, shape (n, d) (or (n,) when d = 1), shared by all runs.
        keys: One PRNG key per run, shape (r,).
        step: Step h (learning rate for Adam), a scalar or shape (r,); all > 0.
        num_steps: n >= 1.
        method: ``"euler"``, ``"heun"``, ``"rk4"``, ``"adam_simultaneous"`` or ``"adam_alternating"``.
        hyperparameters: Dict from names in ``("alpha", "beta", "gamma", "lam", "clip")`` to
            arrays of shape (r,).
        batched_state: Whether ``state`` carries one state per run.
        batch_size: Minibatch size, or ``None`` for the full data set.
        save_every: Save metrics every e steps; e must divide ``num_steps``.
        metric_fn: Optional extra metrics, as in :func:`solve_gan_flow`.
        divergence_threshold: Parameter norm above which a run counts as diverged.
        b1: Adam's beta_1 (Adam only).
        b2: Adam's beta_2 (Adam only).
        unroll_stages: As in :func:`solve_gan_flow` (Heun and RK4 only).
        save_states_every: As in :func:`solve_gan_flow`; ``result.states`` then has leading axes
            (r, n / s + 1).

    Returns:
        :class:`GANFlowResult` whose array leaves have a leading axis of size r.
    """
    check_choice("method", method, SWEEP_METHODS)
    _check_bool("unroll_stages", unroll_stages)
    _check_bool("batched_state", batched_state)
    b1, b2 = check_probability("b1", b1), check_probability("b2", b2)
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "dtype"):
        raise ValueError(f"keys must be an array of typed PRNG keys of shape (r,) (jax.random.split(key, r)), got {keys!r:.60}")
    keys = jnp.asarray(keys)
    if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        raise ValueError(
            f"keys must be an array of typed PRNG keys of shape (r,) (jax.random.split(key, r)), got dtype {keys.dtype}"
        )
    if keys.ndim != 1:
        raise ValueError(f"keys must have shape (r,), got shape {keys.shape}")
    r = keys.shape[0]
    if not isinstance(state, GANState):
        raise ValueError(f"state must be an lgan.GANState (build it with lgan.mlp_gan), got {type(state).__name__}")
    if batched_state:
        for leaf in jax.tree_util.tree_leaves(eqx.filter(state, eqx.is_inexact_array)):
            if leaf.ndim == 0 or leaf.shape[0] != r:
                raise ValueError(
                    f"batched_state=True needs a leading axis of size {r} on every parameter, got shape {leaf.shape}"
                )
    # With one state per run, the model checks look at run 0.
    first = jax.tree_util.tree_map(lambda a: a[0] if eqx.is_array(a) and a.ndim > 0 else a, state) if batched_state else state
    data = _check_common(flow, first, data, num_steps, save_every, batch_size, divergence_threshold, save_states_every)
    dtype = data.dtype
    step_arr = real_array("step", step)
    if step_arr is None or step_arr.dtype == bool:
        raise ValueError(f"step must be a real scalar > 0 or an array of shape ({r},), got {step!r:.60}")
    step_arr = step_arr.astype(float)
    if step_arr.ndim == 0:
        step_arr = np.full((r,), float(step_arr))
    if step_arr.shape != (r,):
        raise ValueError(f"step must be a scalar or have shape ({r},) (one per key), got shape {step_arr.shape}")
    check_positive("step", step_arr)
    hyperparameters = dict(hyperparameters or {})
    for name, values in hyperparameters.items():
        check_choice("hyperparameters key", name, SWEEP_HYPERPARAMETERS)
        if getattr(flow, name) is None:
            raise ValueError(f"hyperparameters[{name!r}]: this flow has no {name}; build it with lgan.gan_flow({name}=...)")
        arr = real_array(f"hyperparameters[{name!r}]", values)
        if arr is None:
            raise ValueError(f"hyperparameters[{name!r}] must be a concrete array of shape ({r},)")
        arr = arr.astype(float)
        if arr.shape != (r,):
            raise ValueError(f"hyperparameters[{name!r}] must have shape ({r},) (one per key), got shape {arr.shape}")
        if name in ("gamma", "lam", "alpha"):
            check_nonnegative(f"hyperparameters[{name!r}]", arr)
        elif name == "clip":
            check_positive(f"hyperparameters[{name!r}]", arr)
        else:
            check_finite(f"hyperparameters[{name!r}]", arr)
            if np.any(arr == 0):
                raise ValueError(f"hyperparameters['beta'] must be non-zero, got {arr.tolist()}")
    # Every array leaf of the flow gets a leading axis of size r (swept or broadcast).
    batched_flow = flow
    for name in ("alpha", "beta", "gamma", "lam", "clip", "anchor"):
        value = getattr(flow, name)
        if value is None:
            continue
        if name in hyperparameters:
            new = jnp.asarray(hyperparameters[name], dtype)
        else:
            new = jnp.broadcast_to(value, (r,) + value.shape)
        batched_flow = eqx.tree_at(lambda f, name=name: getattr(f, name), batched_flow, new)
    d0, g0, d_static, g_static = _split_state(state)
    if batched_state:
        norms = _host_norm((d0, g0), axis=0)
        if not np.all(norms <= float(divergence_threshold)):
            raise ValueError(f"divergence_threshold must exceed every initial parameter norm (max {float(np.max(norms)):.3g})")
    else:
        _check_initial_norm(d0, g0, divergence_threshold)
    parts = _Parts(d_static, g_static, state.latent_dim)
    batched_flow = _strong(batched_flow, dtype)
    steps = jnp.asarray(step_arr, dtype)
    # Runs are independent: with several devices (GPUs, or CPU cores exposed as host devices through
    # XLA_FLAGS=--xla_force_host_platform_device_count=N), split them evenly across the devices.
    put = _runs_sharding(r)
    batched_flow, keys, steps = put(batched_flow), put(keys), put(steps)
    if batched_state:
        d0, g0 = put(d0), put(g0)
    return _sweep_jit(
        batched_flow, d0, g0, data, keys, steps, jnp.asarray(divergence_threshold, dtype), parts,
        method, num_steps, save_every, batch_size, metric_fn, float(b1), float(b2), 0 if batched_state else None,
        bool(unroll_stages), save_states_every,
    )  # fmt: skip


def _runs_sharding(r: int):
    """A function placing the leading (run) axis of every array leaf across the devices, if r splits evenly.

    With one device, or when r is not a multiple of the device count, it returns the tree unchanged
    and the sweep runs on the default device.
    """
    devices = jax.devices()
    if len(devices) < 2 or r % len(devices):
        return lambda tree: tree
    mesh = jax.sharding.Mesh(np.asarray(devices), ("runs",))
    runs = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("runs"))
    return lambda tree: jax.tree_util.tree_map(lambda a: jax.device_put(a, runs) if eqx.is_array(a) else a, tree)
