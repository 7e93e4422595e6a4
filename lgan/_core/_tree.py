"""Pytree helpers: the one tree norm, the one ``tree_where`` and the one way to pick a run out of a batch."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PyTree


def tree_norm(tree: PyTree, *, xp=jnp, batch_dims: int = 0) -> Float[Array, "*r"]:
    """||tree||_2 = sqrt(sum over leaves of sum leaf^2).

    Args:
        tree: A pytree of real arrays.
        xp: ``jax.numpy`` inside a computation, or ``numpy`` for a check on the host (in the leaves'
            own dtype; pass float64 leaves for a check that must not overflow).
        batch_dims: 0 for one norm, 1 for one norm per entry of the leading axis of every leaf.

    Returns:
        The norm, shape () or (r,).
    """

    def square_sum(leaf):
        leaf = xp.asarray(leaf)
        axis = None if batch_dims == 0 else tuple(range(batch_dims, leaf.ndim))
        return xp.sum(xp.square(leaf), axis=axis)

    return xp.sqrt(sum(square_sum(leaf) for leaf in jax.tree_util.tree_leaves(tree)))


def tree_where(pred: Bool[Array, ""], on_true: PyTree, on_false: PyTree) -> PyTree:
    """``jnp.where(pred, a, b)`` leaf by leaf over two pytrees of the same structure."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


def tree_index(tree: PyTree, index) -> PyTree:
    """Entry ``index`` of the leading axis of every array leaf (other leaves unchanged).

    This is how one run is picked out of a batched result or a batch of states, e.g. run r of a
    :func:`lgan.sweep` (:meth:`lgan.GANFlowResult.run`).
    """
    return jax.tree_util.tree_map(lambda a: a[index] if eqx.is_array(a) and a.ndim > 0 else a, tree)


def tree_prepend(first: PyTree, rest: PyTree) -> PyTree:
    """Stack ``first`` in front of ``rest`` along a new leading axis: [first, rest_0, rest_1, ...]."""
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([jnp.asarray(a)[None], b]), first, rest)


def host_float64(tree: PyTree) -> PyTree:
    """Every leaf as a float64 numpy array (for checks before compute, which must not overflow)."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64), tree)
