"""The one fixed-step loop against a hand-written Python loop of the same bookkeeping."""

import jax.numpy as jnp
import numpy as np
import pytest

from lgan._core._stepping import FixedStepLoop, LoopCarry
from lgan._core._tree import tree_norm

GROWTH = np.array([1.5, -2.0])  # y_{k+1} = GROWTH * y_k (elementwise): the norm grows by about 2 per step


def _advance(y, aux, k):
    return {"a": y["a"] * jnp.asarray(GROWTH), "b": y["b"] + 0.0 * k}, aux + 1


def _by_hand(y0, threshold, num_steps, bad_at=None):
    """The documented bookkeeping, written out: freeze at the first step whose norm is > threshold or not finite."""
    y, history = np.array(y0, dtype=float), []
    norms = [np.linalg.norm(y)]
    diverged_at, divergence_norm, max_norm, steps_taken = -1, 0.0, norms[0], 0
    for k in range(num_steps):
        proposal = y * GROWTH if k + 1 != bad_at else y * np.nan
        norm = np.linalg.norm(proposal)
        if diverged_at < 0:
            if not norm <= threshold:
                diverged_at, divergence_norm = k + 1, (norm if np.isfinite(norm) else np.inf)
                max_norm = max(max_norm, divergence_norm)  # max_norm includes the step that diverged
            else:
                y, max_norm, steps_taken = proposal, max(max_norm, norm), steps_taken + 1
        history.append(y.copy())
    return np.array(history), diverged_at, divergence_norm, max_norm, steps_taken


@pytest.mark.parametrize("two_pass", [False, True])
@pytest.mark.parametrize("block_size", [1, 3])
@pytest.mark.parametrize("threshold, bad_at", [(1e3, None), (1e9, None), (1e9, 5)])
def test_loop_matches_a_hand_written_loop(two_pass, block_size, threshold, bad_at):
    num_steps = 12
    y0 = {"a": jnp.array([0.3, -0.4]), "b": jnp.zeros(())}

    def advance(y, aux, k):
        y, aux = _advance(y, aux, k)
        return ({"a": jnp.where(k + 1 == (bad_at or -7), jnp.nan, y["a"]), "b": y["b"]}, aux)

    loop = FixedStepLoop(advance, jnp.asarray(threshold), two_pass=two_pass)
    carry, saved = loop.run(LoopCarry.start(y0, jnp.asarray(0)), jnp.arange(num_steps // block_size), block_size, lambda c: (c.y["a"], c.norm))
    history, diverged_at, divergence_norm, max_norm, steps_taken = _by_hand([0.3, -0.4], threshold, num_steps, bad_at)
    np.testing.assert_allclose(saved[0], history[block_size - 1 :: block_size], rtol=1e-14)
    np.testing.assert_allclose(saved[1], np.linalg.norm(history[block_size - 1 :: block_size], axis=1), rtol=1e-14)
    assert int(carry.diverged_at) == diverged_at and bool(carry.diverged) == (diverged_at > 0)
    assert float(carry.divergence_norm) == pytest.approx(divergence_norm, rel=1e-14)
    assert float(carry.max_norm) == pytest.approx(max_norm, rel=1e-14)
    assert int(carry.aux) == steps_taken  # the auxiliary state froze with y


def test_divergence_norm_is_at_most_max_norm_and_inf_for_nan():
    loop = FixedStepLoop(lambda y, aux, k: (y * jnp.where(k == 2, jnp.nan, 3.0), aux), jnp.asarray(1e6))
    carry = loop.block(LoopCarry.start(jnp.ones(2), None), jnp.arange(5))
    assert int(carry.diverged_at) == 3 and float(carry.divergence_norm) == np.inf and float(carry.max_norm) == np.inf
    np.testing.assert_allclose(carry.y, 9.0 * np.ones(2))
    np.testing.assert_allclose(carry.norm, tree_norm(carry.y))
