"""The argument checks of lgan/_validation.py: one message per kind of bad argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lgan._core._validation import (
    ArgumentTypeError,
    check_bool,
    check_finite,
    check_finite_in_dtype,
    check_key,
    check_positive,
    check_probability,
    check_real_dtype,
    check_real_scalar,
    check_result_finite,
    check_shape,
    error_if_not_finite,
    error_if_outside,
    real_array,
)


def test_type_errors_are_also_value_errors():
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)


@pytest.mark.parametrize(
    "value, match",
    [
        ("abc", r"x must be a real number or array, got str 'abc'"),
        (None, r"x must be a real number or array, got NoneType None"),
        (1 + 2j, r"x must be real, got complex value \(1\+2j\)"),
        (np.array([1.0, 2j]), r"x must be real, got complex value"),
        ([1, "a"], r"x must be a real number or array"),
        ({"a": 1}, r"x must be a real number or array"),
    ],
)
def test_real_array_rejects_strings_complex_and_objects(value, match):
    with pytest.raises(TypeError, match=match):
        real_array("x", value)
    with pytest.raises(ValueError, match=match):  # the same error, caught as a ValueError
        check_finite("x", value)


def test_real_array_passes_tracers_and_returns_arrays():
    assert real_array("x", [1, 2]).tolist() == [1, 2]
    jax.jit(lambda v: real_array("x", v) or v)(jnp.ones(2))
    with pytest.raises(TypeError, match="x must be real, got dtype complex"):
        jax.jit(lambda v: real_array("x", v) or v)(jnp.ones(2, dtype=jnp.complex64))


def test_real_scalar_probability_bool():
    assert check_real_scalar("s", np.float32(2.5)) == 2.5
    for bad, match in [(True, "s must be a finite real number, got True"), ("1", "s must be a real number or array"),
                       (np.ones(2), r"s must be a scalar, got shape \(2,\)"), (np.nan, "s must be finite, got nan")]:
        with pytest.raises(ValueError, match=match):
            check_real_scalar("s", bad)
    assert check_probability("b1", 0) == 0.0
    for bad in (1.0, -5, 2.0, float("nan")):
        with pytest.raises(ValueError, match=r"b1 must be (in|a number in) \[0, 1\)"):
            check_probability("b1", bad)
    assert check_probability("p", 1.0, include_one=True) == 1.0
    assert check_bool("flag", np.bool_(True)) is True
    with pytest.raises(TypeError, match="flag must be True or False, got 'no'"):
        check_bool("flag", "no")


def test_positive_and_finite_messages():
    with pytest.raises(ValueError, match=r"a must be > 0, got -1.0 at index \(1,\)"):
        check_positive("a", [1.0, -1.0])
    with pytest.raises(ValueError, match="a must be finite, got nan"):
        check_positive("a", float("nan"))


def test_real_dtype_and_shape():
    check_real_dtype("data", np.float32)
    with pytest.raises(TypeError, match="data must hold real numbers, got dtype complex128"):
        check_real_dtype("data", np.complex128)
    check_shape("x", np.ones((3, 2)), (None, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\) \(samples\), got shape \(3,\)"):
        check_shape("x", np.ones(3), (None, 2), description=" (samples)")


def test_keys():
    check_key("key", jax.random.key(0))
    check_key("key", jax.random.PRNGKey(0))  # legacy raw keys are accepted
    jax.vmap(lambda k: check_key("key", k))(jax.random.split(jax.random.key(0), 2))
    for bad in (0, "seed", np.zeros(3, np.uint32), 1.5):
        with pytest.raises(TypeError, match=r"key must be a PRNG key such as jax.random.key\(0\), got"):
            check_key("key", bad)
    with pytest.raises(ValueError, match=r"key must be a single PRNG key, got an array of keys of shape \(2,\)"):
        check_key("key", jax.random.split(jax.random.key(0), 2))


def test_finite_in_the_working_dtype():
    check_finite_in_dtype("x", 1e300, np.float64)
    with pytest.raises(ValueError, match=r"x must be finite in float32 \(at most 3.403e\+38 in absolute value\), got 1e\+39"):
        check_finite_in_dtype("x", 1e39, np.float32)


def test_result_finite():
    check_result_finite(np.array([1.0, 2.0]), "f(x=1)")
    with pytest.raises(ValueError, match=r"f\(x=1\): the result overflows float64; rescale the arguments"):
        check_result_finite(np.array([1.0, np.inf]), "f(x=1)", np.float64)
    with pytest.raises(ValueError, match="the result overflows"):
        check_result_finite(np.array([1.0 + 1j * np.nan]), "f(x=1)")


def test_traced_checks_hold_under_jit():
    f = jax.jit(lambda x: error_if_not_finite(x, "x must be finite") + 1)
    assert float(f(1.0)) == 2.0
    with pytest.raises(Exception, match="x must be finite"):
        f(jnp.nan).block_until_ready()
    g = jax.jit(lambda x: error_if_outside(x, 0.0, 1.0, "x must lie in [0, 1]"))
    assert g(jnp.array([0.0, 1.0])).shape == (2,)
    with pytest.raises(Exception, match=r"x must lie in \[0, 1\]"):
        g(jnp.array([0.5, 1.5])).block_until_ready()
