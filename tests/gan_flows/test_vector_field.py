"""The GAN flow's vector field (lgan/_gan_flows/_vector_field.py)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from gan_flows._setup import DATA, STATE

import lgan


def test_nash_values_of_the_standard_gan(key):
    # With D = 0: l_D = phi_1(0) + phi_2(0) = log 4; non-saturating l_G = phi_1(0) = log 2; minimax -log 2.
    zero_d = jax.tree_util.tree_map(lambda a: jnp.zeros_like(a) if eqx.is_inexact_array(a) else a, STATE.discriminator)
    state = lgan.GANState(zero_d, STATE.generator, 1)
    batch = lgan.draw_minibatch(jnp.asarray(DATA)[:, None], 1, 16, key=key)
    loss_d, loss_g = lgan.gan_flow("standard", generator_loss="non_saturating").losses(state, batch)
    assert float(loss_d) == pytest.approx(math.log(4.0))
    assert float(loss_g) == pytest.approx(math.log(2.0))
    assert float(lgan.gan_flow("standard").losses(state, batch)[1]) == pytest.approx(-math.log(2.0))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="hinge"), r"loss must be one of 'standard', 'wgan', 'lsgan', 'parametric'; got 'hinge'"),
        (dict(generator_loss="logD"), r"generator_loss must be one of 'minimax', 'non_saturating'; got 'logD'"),
        (dict(gamma=1.0, penalty_measure="p_x"), r"penalty_measure must be one of 'p_d', 'p_g', 'mu_gp', 'mu_mid', 'mu_g_anc'; got 'p_x'"),
        (dict(penalty_form="one_centred"), r"penalty_form must be one of 'simple', 'wgan_gp'; got 'one_centred'"),
        (dict(gamma=-1.0), r"gamma must be >= 0, got -1.0"),
        (dict(lam=-0.5), r"lam must be >= 0, got -0.5"),
        (dict(clip=0.0), r"clip must be > 0, got 0.0"),
        (dict(gamma=[1.0]), r"gamma must be a real scalar"),
        (dict(loss="parametric", alpha=-1.0, beta=1.0), r"alpha must be >= 0, got -1.0"),
        (dict(loss="parametric", alpha=1.0, beta=0.0), r"beta must be non-zero, got 0.0"),
        (dict(loss="wgan", alpha=1.0), r"alpha and beta are only accepted for name='parametric'"),
        (dict(gamma=1.0, penalty_measure="mu_g_anc"), r"anchor must be given for penalty_measure='mu_g_anc'"),
        (dict(gamma=1.0, anchor=[0.0]), r"anchor is only used by penalty_measure='mu_g_anc'"),
    ],
)
def test_gan_flow_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lgan.gan_flow(**kwargs)
