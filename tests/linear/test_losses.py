import math

import jax.numpy as jnp
import pytest

import lgan

# Closed forms of the flow constants: alpha = phi1''(0) + phi2''(0), beta = phi2'(0).
# standard GAN: phi1 = softplus(-x), phi2 = softplus(x): phi''(0) = sigmoid'(0) = 1/4 each, phi2'(0) = 1/2.
CLOSED_FORMS = {"standard": (0.5, 0.5), "wgan": (0.0, 1.0), "lsgan": (2.0, 1.0)}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_constants_match_closed_forms(name):
    alpha, beta = lgan.lgan_constants(lgan.gan_loss(name))
    assert alpha == pytest.approx(CLOSED_FORMS[name][0], abs=1e-12)
    assert beta == pytest.approx(CLOSED_FORMS[name][1], abs=1e-12)


@pytest.mark.parametrize("a, b", [(0.25, -0.5), (1.0, 2.0), (0.0, -1.0)])
def test_parametric_family_constants(a, b):
    # phi1 = a x^2/2 + b x, phi2 = -b x  =>  alpha = a, beta = -b.
    alpha, beta = lgan.lgan_constants(lgan.gan_loss("parametric", alpha=a, beta=b))
    assert alpha == pytest.approx(a, abs=1e-12)
    assert beta == pytest.approx(-b, abs=1e-12)


def test_standard_gan_is_the_log_loss():
    loss = lgan.gan_loss("standard")
    x = jnp.linspace(-3, 3, 7)
    sig = 1 / (1 + jnp.exp(-x))
    assert jnp.allclose(loss.phi1(x), -jnp.log(sig), atol=1e-12)
    assert jnp.allclose(loss.phi2(x), -jnp.log(1 - sig), atol=1e-12)


def test_unknown_name():
    with pytest.raises(ValueError, match=r"name must be one of .*'lsgan'.*got 'hinge'"):
        lgan.gan_loss("hinge")


def test_parametric_needs_parameters():
    with pytest.raises(ValueError, match="needs both alpha and beta"):
        lgan.gan_loss("parametric", alpha=1.0)
    with pytest.raises(ValueError, match="only accepted for name='parametric'"):
        lgan.gan_loss("wgan", alpha=1.0)
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -1.0"):
        lgan.gan_loss("parametric", alpha=-1.0, beta=1.0)
    with pytest.raises(ValueError, match=r"beta must be non-zero"):
        lgan.gan_loss("parametric", alpha=1.0, beta=0.0)
    with pytest.raises(ValueError, match=r"alpha must be finite, got nan"):
        lgan.gan_loss("parametric", alpha=math.nan, beta=1.0)


def test_assumption_first_derivatives():
    bad = lgan.GANLoss("shifted", lambda x: (x - 1) ** 2 / 2, lambda x: (x + 2) ** 2 / 2)
    with pytest.raises(ValueError, match=r"violates Theorem 1: phi1'\(0\) must equal -phi2'\(0\).*-1.0.*2.0"):
        lgan.lgan_constants(bad)


def test_assumption_nonzero_slope():
    bad = lgan.GANLoss("flat", lambda x: x**2, lambda x: x**2)
    with pytest.raises(ValueError, match=r"phi2'\(0\) must be non-zero"):
        lgan.lgan_constants(bad)


def test_assumption_convexity():
    bad = lgan.GANLoss("concave", lambda x: -x - x**2, lambda x: x - x**2)
    with pytest.raises(ValueError, match=r"phi1''\(0\) \+ phi2''\(0\) must be >= 0, got -4.0"):
        lgan.lgan_constants(bad)
