"""Spectrally normalised test-function networks w(x; theta) for the Rayleigh quotient (Khrulkov et al. 2021, Section 6).

The variational estimate of xi_min (eq. 32) differentiates w with respect to its input, so the
activations are smooth (softplus, SiLU) rather than ReLU. Every weight layer is wrapped in
``eqx.nn.SpectralNorm`` (Miyato et al. 2018), as the paper does: the Rayleigh quotient is scale
invariant, and spectral normalisation keeps the network's Lipschitz constant in check.

``SpectralNorm`` carries power-iteration state, so both networks are stateful: build them with
``model, state = eqx.nn.make_with_state(SpectralNormMLP)(d, key=key)`` and call them on one sample
at a time, ``y, state = model(x, state)``. A training-mode call advances the power iteration;
inside ``eqx.nn.inference_mode(model)`` the state is read but not advanced.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, Scalar

from .._core._validation import check_int_at_least, check_key


def _spectral_norm(layer, key: PRNGKeyArray) -> eqx.nn.SpectralNorm:
    return eqx.nn.SpectralNorm(layer, weight_name="weight", key=key)


class SpectralNormMLP(eqx.Module):
    """A scalar MLP w(x) = L_D(s(... s(L_0 x))) with spectrally normalised linear layers L_i and smooth s.

    The test-function network of the variational estimate (Khrulkov et al. 2021, eq. 32, "a simple
    two-layer MLP with spectral normalization on top of linear layers", Section 7). Stateful:
    construct it with ``eqx.nn.make_with_state`` and call it per sample.

    Example:
        ``model, state = eqx.nn.make_with_state(SpectralNormMLP)(2, key=key)`` and then
        ``y, state = model(x, state)`` with ``x`` of shape (2,) and ``y`` a scalar; for a batch,
        ``jax.vmap(model, in_axes=(0, None), out_axes=(0, None))(xs, state)``.

    Attributes:
        layers: The ``eqx.nn.SpectralNorm``-wrapped ``eqx.nn.Linear`` layers, input to output.
        activation: The smooth activation between layers (default ``jax.nn.softplus``).
    """

    layers: tuple[eqx.nn.SpectralNorm, ...]
    activation: Callable[[Array], Array] = eqx.field(static=True)

    def __init__(
        self,
        in_features: int,
        width: int = 64,
        depth: int = 2,
        *,
        activation: Callable[[Array], Array] = jax.nn.softplus,
        key: PRNGKeyArray,
    ):
        """Build the network.

        Args:
            in_features: Dimension d of the input vectors (>= 1).
            width: Units per hidden layer (>= 1).
            depth: Number of hidden layers (>= 1); there are depth + 1 linear layers.
            activation: A smooth elementwise function (it is differentiated twice in training).
            key: PRNG key for the weights and the power-iteration vectors.
        """
        check_key("key", key)
        check_int_at_least("in_features", in_features, 1)
        check_int_at_least("width", width, 1)
        check_int_at_least("depth", depth, 1)
        sizes = [in_features] + [width] * depth + [1]
        keys = jax.random.split(key, 2 * (depth + 1))
        self.layers = tuple(
            _spectral_norm(eqx.nn.Linear(a, b, key=keys[2 * i]), keys[2 * i + 1])
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
        )
        self.activation = activation

    def __call__(self, x: Float[Array, " d"], state: eqx.nn.State) -> tuple[Scalar, eqx.nn.State]:
        """w(x) for one sample x of shape (d,); returns ``(w, new_state)``."""
        h = x
        for i, layer in enumerate(self.layers):
            h, state = layer(h, state)
            if i < len(self.layers) - 1:
                h = self.activation(h)
        return h[0], state


class SpectralNormConvNet(eqx.Module):
    """A scalar convolutional w(x) in the style of the SN-DCGAN discriminator, smooth activations.

    Layers: a 3x3 convolution (stride 1) to ``width`` channels, then three 4x4 convolutions with
    stride 2 to ``width``, ``2 width`` and ``4 width`` channels, each followed by the activation,
    then a global average over the pixels and a linear head to one output. Every convolution and
    the head are spectrally normalised (the SNDCGAN discriminator of Zhao et al. 2020 that
    Khrulkov et al. 2021 mimic in Section 7, with LeakyReLU replaced by the smooth SiLU because
    eq. 32 differentiates w with respect to its input). The global pooling makes it work for any
    image size: 8x8 (scikit-learn digits) and 32x32 (CIFAR-10) alike.

    Example:
        ``model, state = eqx.nn.make_with_state(SpectralNormConvNet)(3, key=key)`` and then
        ``y, state = model(image, state)`` with ``image`` of shape (C, H, W).

    Attributes:
        convs: The ``eqx.nn.SpectralNorm``-wrapped ``eqx.nn.Conv2d`` layers.
        head: The ``eqx.nn.SpectralNorm``-wrapped ``eqx.nn.Linear`` output layer.
        activation: The smooth elementwise activation (default ``jax.nn.silu``).
    """

    convs: tuple[eqx.nn.SpectralNorm, ...]
    head: eqx.nn.SpectralNorm
    activation: Callable[[Array], Array] = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        width: int = 32,
        *,
        activation: Callable[[Array], Array] = jax.nn.silu,
        key: PRNGKeyArray,
    ):
        """Build the network.

        Args:
            in_channels: Number C of image channels (>= 1).
            width: Channels of the first convolution (>= 1); later ones have 2 and 4 times as many.
            activation: A smooth elementwise function (it is differentiated twice in training).
            key: PRNG key for the weights and the power-iteration vectors.
        """
        check_key("key", key)
        check_int_at_least("in_channels", in_channels, 1)
        check_int_at_least("width", width, 1)
        keys = jax.random.split(key, 10)
        specs = [  # (in, out, kernel, stride)
            (in_channels, width, 3, 1),
            (width, width, 4, 2),
            (width, 2 * width, 4, 2),
            (2 * width, 4 * width, 4, 2),
        ]
        self.convs = tuple(
            _spectral_norm(
                eqx.nn.Conv2d(cin, cout, k, stride=s, padding=1, key=keys[2 * i]),
                keys[2 * i + 1],
            )
            for i, (cin, cout, k, s) in enumerate(specs)
        )
        self.head = _spectral_norm(eqx.nn.Linear(4 * width, 1, key=keys[8]), keys[9])
        self.activation = activation

    def __call__(self, x: Float[Array, "c h w"], state: eqx.nn.State) -> tuple[Scalar, eqx.nn.State]:
        """w(x) for one image x of shape (C, H, W); returns ``(w, new_state)``."""
        h = x
        for conv in self.convs:
            h, state = conv(h, state)
            h = self.activation(h)
        h = jnp.mean(h, axis=(1, 2))
        y, state = self.head(h, state)
        return y[0], state
