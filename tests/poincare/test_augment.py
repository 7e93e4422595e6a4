import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lgan


@pytest.fixture
def images():
    # Smooth-ish images in [0, 1], float32 as an image pipeline would give.
    return jax.random.uniform(jax.random.key(3), (6, 3, 12, 10), dtype=jnp.float32)


@pytest.mark.parametrize("name", lgan.AUGMENTATION_NAMES)
def test_strength_zero_is_identity(name, images, key):
    out = lgan.augment(name, images, 0.0, key=key)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(jnp.max(jnp.abs(out - images))) <= 1e-6


@pytest.mark.parametrize("name", lgan.AUGMENTATION_NAMES)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_shape_dtype_range_and_change(name, dtype, images, key):
    x = images.astype(dtype)
    out = lgan.augment(name, x, 0.8, key=key)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(jnp.max(jnp.abs(out - x))) > 1e-3  # it does something
    # Deterministic in the key, different for another key.
    assert jnp.array_equal(out, lgan.augment(name, x, 0.8, key=key))
    assert not jnp.array_equal(out, lgan.augment(name, x, 0.8, key=jax.random.key(7)))


def test_strength_drawn_per_image(images, key):
    # Brightness adds one offset per image; the offsets differ between images and lie in [-s, s].
    x = jnp.full((200, 1, 4, 4), 0.5)
    out = lgan.augment("brightness", x, 0.3, key=key)
    offsets = np.asarray(out[:, 0, 0, 0] - 0.5)
    assert np.allclose(np.asarray(out - 0.5), offsets[:, None, None, None], atol=1e-7)
    assert np.all(np.abs(offsets) <= 0.3 + 1e-7)
    assert np.std(offsets) > 0.1 and np.abs(offsets).max() > 0.25
    assert np.mean(offsets > 0) == pytest.approx(0.5, abs=0.15)


def test_translation_shifts_whole_pixels_with_zero_padding(key):
    x = jax.random.uniform(key, (50, 1, 8, 8), minval=0.1, maxval=1.0)
    out = np.asarray(lgan.augment("translation", x, 0.5, key=jax.random.key(1)))
    xs = np.asarray(x)
    for img, orig in zip(out[:, 0], xs[:, 0]):
        matches = [
            (dy, dx)
            for dy in range(-4, 5)
            for dx in range(-4, 5)
            if np.allclose(img, _shift(orig, dy, dx), atol=1e-6)
        ]
        assert matches, "each output is a whole-pixel shift of its input, zero padded"
    assert np.mean(out == 0) > 0.05  # some zero padding appeared


def _shift(a, dy, dx):
    out = np.zeros_like(a)
    h, w = a.shape
    target = (slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0)))
    out[target] = a[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    return out


def test_zoom_in_keeps_centre_zoom_out_pads(key):
    x = jnp.ones((20, 1, 9, 9))
    zin = lgan.augment("zoom_in", x, 1.0, key=key)
    assert np.allclose(np.asarray(zin), 1.0, atol=1e-6)  # cropping a constant image stays constant
    zout = np.asarray(lgan.augment("zoom_out", x, 1.0, key=key))
    assert np.allclose(zout[:, :, 4, 4], 1.0)  # centre fixed
    assert np.mean(zout[:, :, 0, 0] < 1.0) > 0.5  # corners padded with zeros


def test_cutout_sets_a_square_to_zero(key):
    x = jnp.ones((40, 2, 16, 16))
    out = np.asarray(lgan.augment("cutout", x, 0.5, key=key))
    assert set(np.unique(out)) <= {0.0, 1.0}
    zeros = (out[:, 0] == 0).sum(axis=(1, 2))
    assert np.all(out[:, 0] == out[:, 1])  # same square in every channel
    assert zeros.max() <= 8 * 8 and zeros.max() > 0


def test_saturation_contrast_preserve_gray_and_mean(key):
    gray = jnp.tile(jax.random.uniform(key, (5, 1, 6, 6), minval=0.3, maxval=0.7), (1, 3, 1, 1))
    sat = lgan.augment("saturation", gray, 1.0, key=key)
    assert np.allclose(np.asarray(sat), np.asarray(gray), atol=1e-6)  # a gray image has no saturation
    x = jax.random.uniform(key, (5, 1, 6, 6), minval=0.3, maxval=0.7)
    con = lgan.augment("contrast", x, 0.2, key=key)  # small enough that nothing is clipped
    assert np.allclose(np.asarray(con.mean(axis=(1, 2, 3))), np.asarray(x.mean(axis=(1, 2, 3))), atol=1e-6)


def test_make_augmentation_matches_augment_and_jits(images, key):
    aug = lgan.make_augmentation("zoom_in", 0.4)
    # Equal up to float32 round-off (images lie in [0, 1]; 1e-6 is about 8 ulps at 1): the switch
    # compiles the augmentation inside lax.switch, which some CPUs fuse and round an ulp differently.
    np.testing.assert_allclose(aug(key, images), lgan.augment("zoom_in", images, 0.4, key=key), rtol=0, atol=1e-6)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def apply(aug, k, x):
        return aug(k, x)

    a = apply(aug, key, images)
    b = apply(lgan.make_augmentation("zoom_in", 0.9), key, images)  # a new strength: no retrace
    assert a.shape == b.shape and not jnp.array_equal(a, b)
    # Under jit with a traced strength, augment itself works too.
    out = jax.jit(lambda s: lgan.augment("cutout", images, s, key=key))(0.3)
    assert out.shape == images.shape


def test_errors_before_compute(images, key):
    with pytest.raises(ValueError, match="name must be one of"):
        lgan.augment("rotate", images, 0.1, key=key)
    with pytest.raises(ValueError, match="name must be one of"):
        lgan.make_augmentation("rotate", 0.1)
    with pytest.raises(ValueError, match=r"strength of 'cutout' must lie in \[0, 1\]"):
        lgan.augment("cutout", images, 1.5, key=key)
    with pytest.raises(ValueError, match="strength of 'zoom_in' must lie"):
        lgan.make_augmentation("zoom_in", -0.1)
    with pytest.raises(ValueError, match="strength must be finite"):
        lgan.make_augmentation("zoom_in", float("nan"))
    with pytest.raises(ValueError, match="images must have rank 4"):
        lgan.augment("cutout", images[0], 0.1, key=key)
    with pytest.raises(ValueError, match="images must have rank 4"):
        lgan.make_augmentation("cutout", 0.1)(key, images[0])
    with pytest.raises(ValueError, match="images must be floating point"):
        lgan.augment("cutout", (images * 255).astype(jnp.uint8), 0.1, key=key)
    with pytest.raises(ValueError, match=r"images must have values in \[0, 1\]"):
        lgan.augment("cutout", images * 2, 0.1, key=key)


def test_augmentation_inside_jit_rejects_images_outside_the_unit_interval(key):
    # The estimator calls augmentations on traced batches, where the up-front check cannot look at
    # the values; clipping them to [0, 1] would silently change the data.
    aug = lgan.make_augmentation("brightness", 0.2)
    images = jnp.full((2, 1, 4, 4), 0.5)
    assert eqx.filter_jit(aug)(key, images).shape == images.shape
    with pytest.raises(Exception, match=r"images must have values in \[0, 1\] for the augmentation"):
        eqx.filter_jit(aug)(key, 3.0 * images).block_until_ready()
    with pytest.raises(ValueError, match=r"images must have values in \[0, 1\], got values in \[1.5, 1.5\]"):
        aug(key, 3.0 * images)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("translation", np.full((1, 1, 4, 4), 0.5), 0.1), {"key": 0}, TypeError, r"key must be a PRNG key such as jax.random.key\(0\)"),
        (("translation", "abc", 0.1), {}, ValueError, r"images must be a floating-point array of shape \(n, C, H, W\), got str"),
        (("translation", np.full((1, 1, 4, 4), 0.5), "0.1"), {}, TypeError, "strength must be a real number or array, got str"),
        (("translation", np.full((1, 1, 4, 4), 0.5), 0.1j), {}, TypeError, "strength must be real, got complex value"),
    ],
)
def test_augment_names_bad_arguments(args, kwargs, error, match):
    kwargs = {"key": jax.random.key(0), **kwargs}
    with pytest.raises(error, match=match):
        lgan.augment(*args, **kwargs)


# ----------------------------------------------------------------------------- the augmentation as a value

ALL_NAMES = (*lgan.AUGMENTATION_NAMES, "identity")


def test_identity_is_exact(images, key):
    assert jnp.array_equal(lgan.make_augmentation("identity")(key, images), images)
    assert jnp.array_equal(lgan.augment("identity", images, 0.7, key=key), images)
    assert lgan.make_augmentation("identity").name == "identity"


def test_choice_is_traced_one_compilation_for_every_augmentation(images, key):
    # The switch on the index against the direct call of each named augmentation, up to float32
    # round-off (a few ulps: lax.switch may fuse and round differently on some CPUs).
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def apply(aug, k, x):
        return aug(k, x)

    for name in ALL_NAMES:
        aug = lgan.make_augmentation(name, 0.5)
        assert aug.name == name
        np.testing.assert_allclose(apply(aug, key, images), lgan.augment(name, images, 0.5, key=key), rtol=0, atol=1e-6)


def test_augmentations_can_be_vmapped_over_index_and_strength(images, key):
    index = jnp.arange(len(ALL_NAMES))
    strength = jnp.linspace(0.1, 0.8, len(ALL_NAMES))
    out = jax.vmap(lambda i, s: lgan.Augmentation(i, s)(key, images))(index, strength)
    for i, name in enumerate(ALL_NAMES):
        np.testing.assert_allclose(out[i], lgan.augment(name, images, float(strength[i]), key=key), atol=1e-6)


def test_flat_batches_are_augmented_as_images(images, key):
    flat = images.reshape(images.shape[0], -1)
    aug = lgan.make_augmentation("cutout", 0.6, image_shape=(3, 12, 10))
    out = aug(key, flat)
    assert out.shape == flat.shape
    np.testing.assert_array_equal(out.reshape(images.shape), lgan.augment("cutout", images, 0.6, key=key))
    with pytest.raises(ValueError, match=r"image_shape must be a tuple \(C, H, W\)"):
        lgan.make_augmentation("cutout", 0.6, image_shape=(12, 10))
    with pytest.raises(ValueError, match="image_shape must be an integer >= 1"):
        lgan.make_augmentation("cutout", 0.6, image_shape=(3, 0, 10))


def test_estimator_checks_flat_images_once(key):
    images = np.asarray(lgan.load_digits_images()[0][:40])
    aug = lgan.make_augmentation("zoom_out", 0.3, image_shape=(1, 8, 8))
    kwargs = dict(key=key, num_steps=2, batch_size=8, augmentation=aug)
    with pytest.raises(ValueError, match=r"data must be images of shape \(n, 64\) .* got values in \[0, 2\]"):
        lgan.estimate_poincare_constant(2 * images.reshape(40, -1), **kwargs)
    with pytest.raises(ValueError, match=r"data must be images of shape \(n, 64\) .* got shape \(40, 32\)"):
        lgan.estimate_poincare_constant(images.reshape(40, -1)[:, :32], **kwargs)
    assert np.isfinite(lgan.estimate_poincare_constant(images.reshape(40, -1), **kwargs).xi)


def test_identity_augmentation_is_no_augmentation(key):
    # The explicit identity trains on the same batches as augmentation=None: the same estimate.
    flat = np.asarray(lgan.load_digits_images()[0][:200]).reshape(200, -1)
    kwargs = dict(key=key, num_steps=30, batch_size=32, width=16, input_gain=1.0)
    plain = lgan.estimate_poincare_constant(flat, **kwargs)
    ident = lgan.estimate_poincare_constant(
        flat, augmentation=lgan.make_augmentation("identity", image_shape=(1, 8, 8)), **kwargs
    )
    assert ident.xi == pytest.approx(plain.xi, rel=1e-10)
