"""The state of a GAN flow: a discriminator and a generator, their parameters, and the random inputs of a step."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree, Scalar

from .._core._validation import check_choice, check_int_at_least, check_key, check_shape, real_array

INITIALISATIONS = ("equinox", "haiku")


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
    init: str = "equinox",
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
        init: How the weights of a layer with n inputs start. ``"equinox"`` (Equinox's default):
            weights and biases uniform on [-1/sqrt(n), 1/sqrt(n)]. ``"haiku"`` (the default of
            Haiku's ``hk.Linear``, which Qin et al.'s code uses): weights
            N(0, 1/n) truncated to two standard deviations, biases zero.
        key: PRNG key for the weights.

    Returns:
        :class:`GANState`.
    """
    for name, value in (("data_dim", data_dim), ("latent_dim", latent_dim), ("width", width), ("depth", depth)):
        check_int_at_least(name, value, 1)
    check_key("key", key)
    if not callable(activation):
        raise ValueError(f"activation must be a callable elementwise function, got {activation!r:.60}")
    check_choice("init", init, INITIALISATIONS)
    kd, kg = jax.random.split(key)
    disc = eqx.nn.MLP(data_dim, "scalar", width, depth, activation=activation, key=kd)
    gen = eqx.nn.MLP(latent_dim, data_dim, width, depth, activation=activation, key=kg)
    if init == "haiku":
        disc, gen = _haiku_init(disc, jax.random.fold_in(kd, 1)), _haiku_init(gen, jax.random.fold_in(kg, 1))
    return GANState(disc, gen, latent_dim)


def _haiku_init(mlp: eqx.nn.MLP, key: PRNGKeyArray) -> eqx.nn.MLP:
    """The MLP with Haiku's default ``hk.Linear`` start: W = truncnorm(-2, 2) / sqrt(n_in), b = 0."""
    keys = jax.random.split(key, len(mlp.layers))
    layers = []
    for layer, k in zip(mlp.layers, keys):
        w = layer.weight
        w = jax.random.truncated_normal(k, -2.0, 2.0, w.shape, w.dtype) / np.sqrt(w.shape[1])
        layer = eqx.tree_at(lambda lin: lin.weight, layer, w)
        if layer.bias is not None:
            layer = eqx.tree_at(lambda lin: lin.bias, layer, jnp.zeros_like(layer.bias))
        layers.append(layer)
    return eqx.tree_at(lambda m: m.layers, mlp, tuple(layers))


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


class StateParts(eqx.Module):
    """What a :class:`GANState` is besides its parameters: the static parts of both networks and k.

    The engine steps the parameters (theta, phi) as a pytree y = (d, g) of arrays; ``parts.state(d, g)``
    puts them back into a :class:`GANState` (Diffrax's ``eqx.partition`` / ``eqx.combine`` pattern).
    """

    d_static: PyTree = eqx.field(static=True)
    g_static: PyTree = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    @staticmethod
    def split(state: GANState) -> tuple[tuple[PyTree, PyTree], StateParts]:
        """((d, g), parts): the parameter arrays of D and G, and the rest."""
        d, d_static = eqx.partition(state.discriminator, eqx.is_inexact_array)
        g, g_static = eqx.partition(state.generator, eqx.is_inexact_array)
        return (d, g), StateParts(d_static, g_static, state.latent_dim)

    def state(self, d: PyTree, g: PyTree) -> GANState:
        """The :class:`GANState` with parameters d and g."""
        return GANState(eqx.combine(d, self.d_static), eqx.combine(g, self.g_static), self.latent_dim)


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
