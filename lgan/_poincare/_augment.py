"""Image augmentations that change the data distribution, and with it xi_min (Khrulkov et al. 2021, Section 7).

The paper estimates the Poincare constant xi_min of augmented versions of CIFAR-10 (its Figure 4)
with the augmentations of Zhao et al. (2020): each one has a strength parameter lambda, and the
strength applied to an image is drawn uniformly from [0, lambda], independently for every image.

Images are batches shaped (n, C, H, W) (the Equinox convolution layout) with values in [0, 1].
Every augmentation keeps the shape, the dtype and the [0, 1] range (results are clipped), and
is the identity at strength 0. Spatial resampling uses bilinear interpolation
(``jax.scipy.ndimage.map_coordinates``) with zero padding outside the image.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core._custom_types import RealScalarLike
from .._core._validation import (
    check_choice,
    check_finite,
    check_int_at_least,
    check_key,
    concrete,
    error_if_outside,
    real_float_array,
)

AUGMENTATION_NAMES = ("translation", "zoom_in", "zoom_out", "cutout", "brightness", "saturation", "contrast")
# The augmentation that changes nothing, accepted wherever a name is (not in AUGMENTATION_NAMES, which
# lists the augmentations to compare).
IDENTITY = "identity"

# Every strength lives in [0, 1]; the meaning of each is in the docstring of `augment`.
_STRENGTH_RANGE = (0.0, 1.0)

# ITU-R BT.601 luma weights, for the grayscale of a 3-channel image.
_LUMA = (0.299, 0.587, 0.114)


def _check_images(images) -> None:
    if isinstance(images, (str, bytes)) or images is None:
        raise ValueError(f"images must be a floating-point array of shape (n, C, H, W), got {type(images).__name__}")
    shape = np.shape(images)  # numpy's: a dict or a list is read, not deprecated
    if len(shape) != 4:
        raise ValueError(f"images must have rank 4, shape (n, C, H, W), got shape {tuple(shape)}")
    dtype = jnp.result_type(images)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"images must be floating point with values in [0, 1], got dtype {dtype}")


def _check_strength(name: str, strength) -> None:
    check_finite("strength", strength)
    arr = concrete(strength)
    if arr is None:
        return
    if arr.ndim != 0:
        raise ValueError(f"strength must be a scalar, got shape {arr.shape}")
    lo, hi = _STRENGTH_RANGE
    if not lo <= float(arr) <= hi:
        raise ValueError(f"strength of {name!r} must lie in [{lo:g}, {hi:g}], got {float(arr)!r}")


def _check_range(images) -> None:
    arr = concrete(images)
    if arr is None or arr.size == 0:
        return
    check_finite("images", arr)
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"images must have values in [0, 1], got values in [{lo:.6g}, {hi:.6g}]")


def _resample(image: Array, rows: Array, cols: Array) -> Array:
    """image (C, H, W) read at the (H, W) grid of source coordinates, bilinear, zero outside."""

    def one_channel(channel):
        return jax.scipy.ndimage.map_coordinates(channel, [rows, cols], order=1, mode="constant", cval=0.0)

    return jax.vmap(one_channel)(image)


def _grid(h: int, w: int, dtype) -> tuple[Array, Array]:
    return jnp.meshgrid(jnp.arange(h, dtype=dtype), jnp.arange(w, dtype=dtype), indexing="ij")


def _translation(key, image, s):
    _, h, w = image.shape
    # (dy, dx) uniform in [-s, s] times the size: the magnitude per axis is uniform in [0, s].
    shift = jax.random.uniform(key, (2,), dtype=image.dtype, minval=-1.0, maxval=1.0) * s
    dy = jnp.round(shift[0] * h)
    dx = jnp.round(shift[1] * w)
    rows, cols = _grid(h, w, image.dtype)
    return _resample(image, rows - dy, cols - dx)


def _zoom(key, image, s, *, zoom_in: bool):
    _, h, w = image.shape
    u = jax.random.uniform(key, (), dtype=image.dtype) * s
    scale = 1.0 + u if zoom_in else 1.0 / (1.0 + u)
    rows, cols = _grid(h, w, image.dtype)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    return _resample(image, cy + (rows - cy) / scale, cx + (cols - cx) / scale)


def _cutout(key, image, s):
    _, h, w = image.shape
    k_size, k_pos = jax.random.split(key)
    u = jax.random.uniform(k_size, (), dtype=image.dtype) * s
    centre = jax.random.uniform(k_pos, (2,), dtype=image.dtype) * jnp.array([h, w], dtype=image.dtype)
    rows, cols = _grid(h, w, image.dtype)
    inside = (jnp.abs(rows + 0.5 - centre[0]) < u * h / 2) & (jnp.abs(cols + 0.5 - centre[1]) < u * w / 2)
    return jnp.where(inside[None], jnp.zeros((), image.dtype), image)


def _brightness(key, image, s):
    b = jax.random.uniform(key, (), dtype=image.dtype, minval=-1.0, maxval=1.0) * s
    return image + b


def _grayscale(image):
    if image.shape[0] == 3:
        return jnp.tensordot(jnp.asarray(_LUMA, dtype=image.dtype), image, axes=1)[None]
    return jnp.mean(image, axis=0, keepdims=True)


def _saturation(key, image, s):
    f = 1.0 + jax.random.uniform(key, (), dtype=image.dtype, minval=-1.0, maxval=1.0) * s
    gray = _grayscale(image)
    return gray + f * (image - gray)


def _contrast(key, image, s):
    f = 1.0 + jax.random.uniform(key, (), dtype=image.dtype, minval=-1.0, maxval=1.0) * s
    mean = jnp.mean(_grayscale(image))
    return mean + f * (image - mean)


_ONE_IMAGE = {
    "translation": _translation,
    "zoom_in": lambda key, image, s: _zoom(key, image, s, zoom_in=True),
    "zoom_out": lambda key, image, s: _zoom(key, image, s, zoom_in=False),
    "cutout": _cutout,
    "brightness": _brightness,
    "saturation": _saturation,
    "contrast": _contrast,
}


_BRANCHES = (*AUGMENTATION_NAMES, IDENTITY)


def _apply(name: str, images: Array, strength: Array, key: PRNGKeyArray) -> Array:
    images = jnp.asarray(images)
    if name == IDENTITY:
        return images
    s = jnp.asarray(strength, dtype=images.dtype)
    keys = jax.random.split(key, images.shape[0])
    out = jax.vmap(lambda k, image: _ONE_IMAGE[name](k, image, s))(keys, images)
    return jnp.clip(out, 0.0, 1.0).astype(images.dtype)


_apply_jit = jax.jit(_apply, static_argnums=0)


def _apply_index(index: Array, images: Array, strength: Array, key: PRNGKeyArray) -> Array:
    """The augmentation number ``index`` of ``AUGMENTATION_NAMES + ("identity",)``, chosen at run time."""
    branches = [lambda x, s, k, name=name: _apply_jit(name, x, s, k) for name in _BRANCHES]
    return jax.lax.switch(index, branches, jnp.asarray(images), strength, key)


def augment(
    name: str, images: Float[ArrayLike, "n c h w"], strength: RealScalarLike, *, key: PRNGKeyArray
) -> Float[Array, "n c h w"]:
    """x -> T_s(x) with s ~ U[0, strength] drawn independently for each image (Zhao et al. 2020).

    Every strength lies in [0, 1]; for each image s is drawn uniformly from [0, strength], and
    the augmentation with s = 0 is the identity:

    - ``"translation"``: shift by (dy, dx) = round(t H), round(t' W) pixels with t and t'
      uniform in [-strength, strength] (so each magnitude is uniform in [0, strength]); the
      uncovered border is zero.
    - ``"zoom_in"``: scale up by 1 + s about the image centre and crop to H x W (bilinear).
    - ``"zoom_out"``: scale down by 1 / (1 + s) about the centre, zero padding around.
    - ``"cutout"``: a rectangle of s H by s W pixels (a square for square images), centred at a
      uniformly random point of the image and clipped at its borders, is set to 0.
    - ``"brightness"``: add b to every pixel, with b uniform in [-strength, strength].
    - ``"saturation"``: g + f (x - g) with g the grayscale image (BT.601 luma for C = 3,
      the channel mean otherwise; the identity for C = 1) and f uniform in
      [1 - strength, 1 + strength].
    - ``"contrast"``: m + f (x - m) with m the mean of the grayscale image and f uniform in
      [1 - strength, 1 + strength].
    - ``"identity"``: the images unchanged, at any strength (the baseline "no augmentation").

    Results are clipped to [0, 1] and keep the dtype of ``images``. The function is jitted with
    ``name`` static, so a new strength does not recompile; under an outer ``jit`` the checks of
    traced values are skipped. To choose the augmentation itself at run time (under ``jit`` or
    ``vmap``), use :func:`lgan.make_augmentation`, whose result holds it as an array.

    Args:
        name: One of :data:`lgan.AUGMENTATION_NAMES`, or ``"identity"``.
        images: A batch of shape (n, C, H, W), floating point, values in [0, 1].
        strength: The largest strength, in [0, 1].
        key: PRNG key; one subkey per image.

    Returns:
        The augmented batch, same shape and dtype as ``images``.
    """
    check_choice("name", name, _BRANCHES)
    _check_strength(name, strength)
    _check_images(images)
    _check_range(images)
    check_key("key", key)
    return _apply_jit(name, images, strength, key)


class Augmentation(eqx.Module):
    """An augmentation as a value: (key, batch) -> batch, with the choice and the strength as arrays.

    ``index`` numbers the augmentation in ``lgan.AUGMENTATION_NAMES + ("identity",)`` and
    ``strength`` is its largest strength (see :func:`lgan.augment`); both are JAX arrays, so a
    function of an ``Augmentation`` under ``eqx.filter_jit`` compiles once for every choice and
    strength, and a stack of them can be ``vmap``-ed over. Built by :func:`lgan.make_augmentation`.

    With ``image_shape = (C, H, W)`` a batch of flat vectors of shape (n, C H W) is augmented as
    images of that shape and returned flat (to train a vector network on augmented images).

    Attributes:
        index: The augmentation's number, an integer array.
        strength: The largest strength, a float array in [0, 1].
        image_shape: ``None`` for image batches (n, C, H, W), or (C, H, W) for flat batches.
        check_values: Whether calls check that the images lie in [0, 1] (``False`` only where the
            caller has checked them, as :func:`lgan.estimate_poincare_constant` does).
    """

    index: Array
    strength: Array
    image_shape: tuple[int, int, int] | None = eqx.field(static=True, default=None)
    check_values: bool = eqx.field(static=True, default=True)

    @property
    def name(self) -> str | None:
        """The augmentation's name, or ``None`` when the index is traced."""
        index = concrete(self.index)
        return None if index is None else _BRANCHES[int(index)]

    def __call__(self, key: PRNGKeyArray, batch: Float[ArrayLike, "n ..."]) -> Float[Array, "n ..."]:
        images = batch if self.image_shape is None else jnp.reshape(batch, (jnp.shape(batch)[0], *self.image_shape))
        _check_images(images)
        if self.check_values:
            _check_range(images)  # concrete images; traced ones (inside jit) are checked at run time
            if isinstance(images, jax.core.Tracer):
                what = "" if self.name is None else f" {self.name!r}"
                images = error_if_outside(images, 0.0, 1.0, f"images must have values in [0, 1] for the augmentation{what}")
        out = _apply_index(self.index, images, self.strength, key)
        return out if self.image_shape is None else jnp.reshape(out, jnp.shape(batch))

    def checked_for(self, data: np.ndarray) -> Augmentation:
        """This augmentation with the value check done once on the whole data set (raises if it fails)."""
        if self.image_shape is None:
            ok, want = data.ndim == 4, "(n, C, H, W)"
        else:
            size = int(np.prod(self.image_shape))
            ok, want = data.ndim == 2 and data.shape[1] == size, f"(n, {size}) (flat images {self.image_shape})"
        what = f"shape {data.shape}"
        if ok:
            lo, hi = float(data.min()), float(data.max())
            ok, what = 0 <= lo and hi <= 1, f"values in [{lo:.6g}, {hi:.6g}]"
        if not ok:
            raise ValueError(
                f"data must be images of shape {want} with values in [0, 1] for the augmentation {self.name!r}, got {what}"
            )
        return dataclasses.replace(self, check_values=False)


def make_augmentation(
    name: str, strength: RealScalarLike = 0.0, *, image_shape: tuple[int, int, int] | None = None
) -> Augmentation:
    """The map (key, images) -> augment(name, images, strength, key=key), checked once here.

    This is the form :func:`lgan.estimate_poincare_constant` takes as its ``augmentation``
    argument. The result is an :class:`lgan.Augmentation`, an Equinox module whose arrays are the
    augmentation's number and its strength, so passing it through ``eqx.filter_jit`` with another
    augmentation or strength does not recompile. ``make_augmentation("identity")`` is the baseline
    that changes nothing.

    Args:
        name: One of :data:`lgan.AUGMENTATION_NAMES`, or ``"identity"``.
        strength: The largest strength, in [0, 1] (see :func:`lgan.augment` for its meaning).
        image_shape: Optional (C, H, W): the batches are flat vectors of C H W numbers, augmented
            as images of that shape.

    Returns:
        A callable taking ``(key, images)`` with images of shape (n, C, H, W) in [0, 1] (or
        (n, C H W) with ``image_shape``).
    """
    check_choice("name", name, _BRANCHES)
    _check_strength(name, strength)
    if image_shape is not None:
        if not (isinstance(image_shape, tuple) and len(image_shape) == 3):
            raise ValueError(f"image_shape must be a tuple (C, H, W) of positive integers, got {image_shape!r}")
        for size in image_shape:
            check_int_at_least("image_shape", size, 1)
    index = jnp.asarray(_BRANCHES.index(name))
    return Augmentation(index, jnp.asarray(real_float_array("strength", strength)), image_shape)
