import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lgan._core._tree import (
    host_float64,
    tree_index,
    tree_norm,
    tree_prepend,
    tree_where,
)

TREE = {"a": jnp.array([[3.0, -1.0], [0.5, 2.0]]), "b": (jnp.array(4.0), jnp.array([1.0, -2.0, 0.25]))}


def _flat(tree):
    return np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(tree)])


def test_tree_norm_is_the_norm_of_the_flattened_tree():
    assert float(tree_norm(TREE)) == pytest.approx(np.linalg.norm(_flat(TREE)), rel=1e-15)
    assert tree_norm(host_float64(TREE), xp=np) == pytest.approx(np.linalg.norm(_flat(TREE)), rel=1e-15)
    batched = {"a": jnp.stack([TREE["a"], 2 * TREE["a"]]), "c": jnp.array([[1.0], [0.0]])}
    expected = [np.linalg.norm(_flat(tree_index(batched, r))) for r in range(2)]
    np.testing.assert_allclose(tree_norm(batched, batch_dims=1), expected, rtol=1e-15)
    np.testing.assert_allclose(tree_norm(host_float64(batched), xp=np, batch_dims=1), expected, rtol=1e-15)


def test_tree_where_index_and_prepend():
    other = jax.tree_util.tree_map(jnp.negative, TREE)
    np.testing.assert_array_equal(_flat(tree_where(jnp.asarray(False), TREE, other)), -_flat(TREE))
    stacked = tree_prepend(TREE, jax.tree_util.tree_map(lambda a: jnp.stack([a, 2 * a]), TREE))
    for r, factor in enumerate([1, 1, 2]):
        np.testing.assert_array_equal(_flat(tree_index(stacked, r)), factor * _flat(TREE))
    assert tree_index({"n": 3, "x": jnp.arange(2.0)}, 1) == {"n": 3, "x": 1.0}
