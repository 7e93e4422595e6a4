import sys
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)

# Make tests/helpers.py importable as `helpers` from any test module.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import tree_allclose  # noqa: E402

__all__ = ["tree_allclose"]


@pytest.fixture
def key():
    """A fresh PRNG key for each test."""
    return jax.random.key(0)


@pytest.fixture
def float32():
    """Run one test in JAX's default float32 (x64 off), where large and small finite inputs overflow."""
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", True)
