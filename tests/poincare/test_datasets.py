import sys

import numpy as np
import pytest

import lgan


def _write_cifar(path, labels, rng):
    """CIFAR-10 binary records: a label byte, then 1024 red, 1024 green, 1024 blue bytes."""
    pixels = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], pixels.reshape(len(labels), -1)], axis=1)
    records.tofile(path)
    return pixels


def test_load_digits_images():
    images, labels = lgan.load_digits_images()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and set(np.unique(labels)) == set(range(10))
    assert images.min() == 0.0 and images.max() == 1.0
    from sklearn.datasets import load_digits

    assert np.allclose(images[5, 0] * 16, load_digits().images[5])


def test_load_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match="needs scikit-learn"):
        lgan.load_digits_images()


@pytest.mark.parametrize("nested", [False, True])
def test_load_cifar10_binary_format(tmp_path, nested):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin" if nested else tmp_path
    folder.mkdir(exist_ok=True)
    train_pixels, train_labels = [], []
    for i in range(1, 6):
        labels = rng.integers(0, 10, size=i)  # 1 + 2 + ... + 5 = 15 records
        train_pixels.append(_write_cifar(folder / f"data_batch_{i}.bin", labels, rng))
        train_labels.append(labels)
    test_labels = [3, 1, 4, 1, 5]
    test_pixels = _write_cifar(folder / "test_batch.bin", test_labels, rng)

    images, labels = lgan.load_cifar10(tmp_path, split="test")
    assert images.shape == (5, 3, 32, 32) and images.dtype == np.float32
    assert labels.tolist() == test_labels
    assert np.array_equal(np.round(images * 255).astype(np.uint8), test_pixels)
    # channel-major: the first 1024 pixel bytes of a record are the red plane
    raw = np.fromfile(folder / "test_batch.bin", dtype=np.uint8).reshape(5, 3073)
    assert np.allclose(images[2, 0].ravel(), raw[2, 1:1025] / 255.0)

    images, labels = lgan.load_cifar10(str(tmp_path))
    assert images.shape == (15, 3, 32, 32)
    assert np.array_equal(labels, np.concatenate(train_labels))
    assert np.array_equal(np.round(images * 255).astype(np.uint8), np.concatenate(train_pixels))
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_load_cifar10_errors(tmp_path):
    rng = np.random.default_rng(1)
    with pytest.raises(FileNotFoundError, match="CIFAR-10 directory not found"):
        lgan.load_cifar10(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="'test_batch.bin' not found"):
        lgan.load_cifar10(tmp_path, split="test")
    _write_cifar(tmp_path / "data_batch_1.bin", [0, 1], rng)
    with pytest.raises(FileNotFoundError, match="'data_batch_2.bin' not found"):
        lgan.load_cifar10(tmp_path, split="train")
    with pytest.raises(ValueError, match="split must be one of"):
        lgan.load_cifar10(tmp_path, split="validation")
    (tmp_path / "test_batch.bin").write_bytes(bytes(3073 * 2 + 7))
    with pytest.raises(ValueError, match="not a positive multiple of 3073"):
        lgan.load_cifar10(tmp_path, split="test")
    (tmp_path / "test_batch.bin").write_bytes(bytes([12]) + bytes(3072))
    with pytest.raises(ValueError, match="labels outside 0..9"):
        lgan.load_cifar10(tmp_path, split="test")


def test_instance_selection_drops_outliers_first():
    rng = np.random.default_rng(0)
    inliers = rng.normal(size=(500, 3)) @ np.diag([1.0, 2.0, 0.5])
    outliers = np.array([[8.0, 0.0, 0.0], [0.0, -15.0, 0.0], [0.0, 0.0, 4.0], [5.0, 10.0, -2.0]])
    features = np.concatenate([inliers, outliers])
    n = len(features)

    keep, loglik = lgan.instance_selection(features, 0.0)
    assert keep.dtype == bool and keep.shape == (n,) and keep.all()
    assert loglik.shape == (n,) and np.all(np.isfinite(loglik))

    keep, loglik = lgan.instance_selection(features, 0.01)  # round(5.04) = 5 dropped
    assert not keep[-4:].any()  # the outliers go first
    for psi in (0.1, 0.25, 0.5, 0.9):
        keep, loglik = lgan.instance_selection(features, psi)
        assert abs(keep.mean() - (1 - psi)) <= 1 / n
        assert loglik[keep].min() >= loglik[~keep].max()  # dropped = the bottom of the likelihood

    # Matches scipy's Gaussian log-density (ridge only a tiny perturbation).
    from scipy.stats import multivariate_normal

    mean, cov = features.mean(axis=0), np.cov(features, rowvar=False)
    ref = multivariate_normal(mean, cov).logpdf(features)
    assert np.allclose(loglik, ref, atol=1e-4)


def test_instance_selection_degenerate_and_errors():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 1))
    features = np.concatenate([x, 2 * x], axis=1)  # singular covariance: the ridge keeps it invertible
    keep, loglik = lgan.instance_selection(features, 0.2)
    assert keep.sum() == 40 and np.all(np.isfinite(loglik))
    with pytest.raises(ValueError, match=r"psi must be a number in \[0, 1\)"):
        lgan.instance_selection(features, 1.0)
    with pytest.raises(ValueError, match=r"psi must be a number in \[0, 1\)"):
        lgan.instance_selection(features, -0.1)
    with pytest.raises(ValueError, match=r"features must have shape \(n, k\)"):
        lgan.instance_selection(features[:, 0], 0.1)
    with pytest.raises(ValueError, match="features must be finite"):
        lgan.instance_selection(np.array([[0.0], [np.nan], [1.0]]), 0.1)
    with pytest.raises(ValueError, match="ridge must be a number >= 0"):
        lgan.instance_selection(features, 0.1, ridge=-1.0)
    with pytest.raises(ValueError, match="singular"):
        lgan.instance_selection(features, 0.1, ridge=0.0)


def test_load_builtin():
    digits = lgan.load_builtin("digits")
    assert digits.shape == (1797, 1, 8, 8)
    g = lgan.load_builtin("gaussian")
    assert g.shape == (4000, 1)
    assert abs(g.mean()) < 0.06 and abs(g.std() - 1) < 0.05
    assert np.array_equal(g, lgan.load_builtin("gaussian"))  # seed 0: reproducible
    m = lgan.load_builtin("mixture-4")
    assert m.shape == (4000, 1)
    assert np.array_equal(m[:, 0], lgan.two_gaussian_mixture(4).sample(4000, seed=0))
    assert abs(m.mean() - 2.0) < 0.15
    assert lgan.load_builtin("mixture-2.5").shape == (4000, 1)
    ring = lgan.load_builtin("ring")
    assert ring.shape == (4000, 2)
    radius = np.linalg.norm(ring, axis=1)
    assert abs(np.median(radius) - 2.0) < 0.2
    assert np.allclose(ring.mean(axis=0), 0.0, atol=0.1)


@pytest.mark.parametrize("name", ["cifar", "mixture-", "mixture-x", "mixture-inf", "Gaussian"])
def test_load_builtin_unknown(name):
    with pytest.raises(ValueError, match="digits, gaussian, mixture-M, ring|separation M"):
        lgan.load_builtin(name)


def test_instance_selection_within_groups_and_fitted_elsewhere():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(300, 4)) @ np.diag([1.0, 3.0, 0.5, 2.0])
    groups = np.repeat(np.arange(3), [50, 100, 150])
    _, global_loglik = lgan.instance_selection(features, 0.3)
    keep, loglik = lgan.instance_selection(features, 0.3, groups=groups)
    assert np.array_equal(loglik, global_loglik)  # one Gaussian, fitted to all samples
    for g, size in enumerate((50, 100, 150)):
        members = groups == g
        assert keep[members].sum() == size - round(0.3 * size)  # the same fraction per group
        assert loglik[members & keep].min() >= loglik[members & ~keep].max()
    assert np.array_equal(lgan.instance_selection(features, 0.3, groups=np.zeros(300, int))[0],
                          lgan.instance_selection(features, 0.3)[0])  # one group = global  # fmt: skip

    # fit=: the Gaussian of the first half (against scipy), the rule applied to the second half.
    from scipy.stats import multivariate_normal

    first, second = features[:150], features[150:]
    keep, loglik = lgan.instance_selection(second, 0.2, fit=first)
    ref = multivariate_normal(first.mean(axis=0), np.cov(first, rowvar=False)).logpdf(second)
    assert np.allclose(loglik, ref, atol=1e-4)
    assert keep.sum() == 120 and loglik[keep].min() >= loglik[~keep].max()
    with pytest.raises(ValueError, match=r"fit must have shape \(m, 4\)"):
        lgan.instance_selection(second, 0.2, fit=first[:, :3])
    with pytest.raises(ValueError, match="groups must be integers of shape"):
        lgan.instance_selection(features, 0.2, groups=np.zeros(299, int))
