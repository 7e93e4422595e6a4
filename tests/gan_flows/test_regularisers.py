import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan

W = jnp.array([0.6, -0.8, 1.5])
B = 0.3


def _linear_d(x):
    return jnp.dot(W, x) + B


def _linear_gan(key):
    """D(x) = w.x + b on R^2 and G(z) = A z + c from R^3: grad_x D = w exactly."""
    kd, kg = jax.random.split(key)
    return lgan.GANState(eqx.nn.Linear(2, "scalar", key=kd), eqx.nn.Linear(3, 2, key=kg), 3)


def test_penalty_samples_follow_kim_table_1():
    xd = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    xg = jnp.array([[-1.0, 0.0], [5.0, 2.0]])
    u = jnp.array([0.25, 1.0])
    anchor = jnp.array([2.0, -1.0])
    np.testing.assert_allclose(lgan.penalty_samples("p_d", xd, xg, u), xd)
    np.testing.assert_allclose(lgan.penalty_samples("p_g", xd, xg, u), xg)
    np.testing.assert_allclose(lgan.penalty_samples("mu_mid", xd, xg, u), [[0.0, 1.0], [4.0, 3.0]])
    np.testing.assert_allclose(lgan.penalty_samples("mu_gp", xd, xg, u), [[-0.5, 0.5], [3.0, 4.0]])
    np.testing.assert_allclose(lgan.penalty_samples("mu_g_anc", xd, xg, u, anchor=anchor), [[-0.25, -0.25], [2.0, -1.0]])


def test_penalty_samples_errors():
    x = jnp.zeros((2, 2))
    with pytest.raises(ValueError, match=r"measure must be one of 'p_d', 'p_g', 'mu_gp', 'mu_mid', 'mu_g_anc'; got 'mu'"):
        lgan.penalty_samples("mu", x, x, jnp.zeros(2))
    with pytest.raises(ValueError, match=r"anchor must be given for measure='mu_g_anc'"):
        lgan.penalty_samples("mu_g_anc", x, x, jnp.zeros(2))


def test_gradient_penalty_of_a_linear_discriminator_is_exact(key):
    x = jax.random.normal(key, (7, 3))
    w2 = float(jnp.sum(W**2))
    np.testing.assert_allclose(lgan.gradient_penalty(_linear_d, x), w2, rtol=1e-12)
    np.testing.assert_allclose(lgan.gradient_penalty(_linear_d, x, form="wgan_gp"), (np.sqrt(w2) - 1.0) ** 2, rtol=1e-12)
    with pytest.raises(ValueError, match=r"form must be one of 'simple', 'wgan_gp'; got 'zero'"):
        lgan.gradient_penalty(_linear_d, x, form="zero")


def test_gradient_penalty_of_a_quadratic_discriminator(key):
    # D(x) = x.A x has grad_x D = (A + A^T) x.
    A = jnp.array([[1.0, 0.5], [-0.2, 2.0]])
    x = jax.random.normal(key, (5, 2))
    expected = np.mean(np.sum((np.asarray(x) @ np.asarray(A + A.T).T) ** 2, axis=1))
    np.testing.assert_allclose(lgan.gradient_penalty(lambda v: v @ A @ v, x), expected, rtol=1e-12)


def test_wgan_gp_penalty_is_finite_where_the_gradient_vanishes():
    x = jnp.zeros((3, 2))
    pen, grad = jax.value_and_grad(lambda s: lgan.gradient_penalty(lambda v: s * jnp.sum(v**2), x, form="wgan_gp"))(1.0)
    assert float(pen) == pytest.approx(1.0)
    assert np.isfinite(float(grad))


def test_generator_gradient_penalty_closed_form(key):
    # WGAN minimax l_G = -mean w.(A z + c) - b: d l_G / dA = -w zbar^T, d l_G / dc = -w.
    state = _linear_gan(key)
    z = jax.random.normal(jax.random.key(3), (6, 3))
    flow = lgan.gan_flow("wgan")
    batch = lgan.Minibatch(jnp.zeros((6, 2)), z, jnp.zeros(6))
    g_params, g_static = eqx.partition(state.generator, eqx.is_inexact_array)

    def loss_g(gp):
        return flow.losses(lgan.GANState(state.discriminator, eqx.combine(gp, g_static), 3), batch)[1]

    w = np.asarray(state.discriminator.weight).ravel()
    zbar = np.asarray(jnp.mean(z, axis=0))
    expected = np.sum(w**2) * (np.sum(zbar**2) + 1.0)
    np.testing.assert_allclose(lgan.generator_gradient_penalty(loss_g, g_params), expected, rtol=1e-12)


def test_discriminator_objective_adds_the_penalties(key):
    state = _linear_gan(key)
    kx, kz, ku = jax.random.split(jax.random.key(5), 3)
    batch = lgan.Minibatch(jax.random.normal(kx, (8, 2)), jax.random.normal(kz, (8, 3)), jax.random.uniform(ku, (8,)))
    base = lgan.gan_flow("wgan")
    loss_d, _ = base.losses(state, batch)
    w = np.asarray(state.discriminator.weight).ravel()
    zbar = np.asarray(jnp.mean(batch.z, axis=0))
    gamma, lam = 0.7, 0.2
    for measure in lgan.PENALTY_MEASURES:
        anchor = jnp.array([2.0, -1.0]) if measure == "mu_g_anc" else None
        flow = lgan.gan_flow("wgan", gamma=gamma, penalty_measure=measure, anchor=anchor, lam=lam)
        expected = float(loss_d) + 0.5 * gamma * np.sum(w**2) + lam * np.sum(w**2) * (np.sum(zbar**2) + 1.0)
        np.testing.assert_allclose(flow.discriminator_objective(state, batch), expected, rtol=1e-12)
    gp = lgan.gan_flow("wgan", gamma=gamma, penalty_measure="mu_gp", penalty_form="wgan_gp")
    expected = float(loss_d) + gamma * (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(gp.discriminator_objective(state, batch), expected, rtol=1e-12)


def test_objective_gradient_matches_finite_differences(key):
    """The flow differentiates the penalties again with respect to theta: check against central differences."""
    state = lgan.mlp_gan(2, latent_dim=2, width=3, depth=1, key=key)
    kx, kz, ku = jax.random.split(jax.random.key(7), 3)
    batch = lgan.Minibatch(jax.random.normal(kx, (5, 2)), jax.random.normal(kz, (5, 2)), jax.random.uniform(ku, (5,)))
    flow = lgan.gan_flow("standard", gamma=0.5, penalty_measure="mu_gp", lam=0.3)
    d_params, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)

    @jax.jit
    def objective(dp):
        return flow.discriminator_objective(lgan.GANState(eqx.combine(dp, d_static), state.generator, 2), batch)

    grad = jax.jit(jax.grad(objective))(d_params)
    leaves, treedef = jax.tree_util.tree_flatten(d_params)
    grad_leaves = jax.tree_util.tree_leaves(grad)
    eps = 1e-6
    for i, leaf in enumerate(leaves):
        idx = (0,) * leaf.ndim
        bumped = [np.array(a) for a in leaves]
        bumped[i][idx] += eps
        up = objective(jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in bumped]))
        bumped[i][idx] -= 2 * eps
        down = objective(jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in bumped]))
        np.testing.assert_allclose(grad_leaves[i][idx], (up - down) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_clip_weights(key):
    mlp = eqx.nn.MLP(2, "scalar", 4, 1, key=key)
    clipped = lgan.clip_weights(mlp, 0.01)
    for leaf in jax.tree_util.tree_leaves(eqx.filter(clipped, eqx.is_inexact_array)):
        assert float(jnp.max(jnp.abs(leaf))) <= 0.01
    assert clipped.activation is mlp.activation


@pytest.mark.parametrize(
    "clip, error, match",
    [
        (-1.0, ValueError, r"clip must be > 0 \(a normal float64 number\), got -1.0"),
        (0.0, ValueError, r"clip must be > 0 \(a normal float64 number\), got 0.0"),
        (5e-324, ValueError, r"clip must be > 0 \(a normal float64 number\), got 5e-324"),
        (np.nan, ValueError, "clip must be a finite number > 0, got nan"),
        (True, TypeError, "clip must be a finite number > 0, got True"),
        ("1", TypeError, "clip must be a real number or array, got str '1'"),
        (np.ones(2), ValueError, r"clip must be a scalar, got shape \(2,\)"),
    ],
)
def test_clip_weights_rejects_bad_bounds(clip, error, match):
    with pytest.raises(error, match=match):
        lgan.clip_weights(jnp.ones(3), clip)


def test_clip_weights_checks_a_traced_bound_at_run_time():
    clipped = jax.jit(lgan.clip_weights)(jnp.array([-2.0, 0.5, 2.0]), jnp.asarray(1.0))
    np.testing.assert_array_equal(clipped, [-1.0, 0.5, 1.0])
    with pytest.raises(Exception, match=r"clip must be > 0 \(and not NaN\)"):
        jax.jit(lgan.clip_weights)(jnp.ones(3), jnp.asarray(-1.0)).block_until_ready()
