"""Data sets whose Poincare constant the book estimates, and instance selection (Khrulkov et al. 2021, Section 7).

Everything here is numpy and reads only local files: scikit-learn's bundled digits, the
CIFAR-10 binary files from a directory the user downloaded, and small synthetic samples.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from jaxtyping import Bool, Float, Int

from .._core._measures import two_gaussian_mixture
from .._core._measures_2d import ring_of_gaussians
from .._core._validation import check_finite

BUILTIN_NAMES = ("digits", "gaussian", "mixture-M", "ring")
_NUM_SAMPLES = 4000

_CIFAR_RECORD = 1 + 3 * 32 * 32
_CIFAR_FILES = {
    "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("test_batch.bin",),
}


def load_digits_images() -> tuple[Float[np.ndarray, "1797 1 8 8"], Int[np.ndarray, " 1797"]]:
    """The 8 x 8 handwritten digits bundled with scikit-learn, as images in [0, 1].

    Pixel intensities 0..16 are divided by 16. Nothing is downloaded: the data ship with
    scikit-learn (``sklearn.datasets.load_digits``).

    Returns:
        A pair ``(images, labels)``: float32 images of shape (1797, 1, 8, 8) and int64 labels
        0..9 of shape (1797,).

    Raises:
        ImportError: If scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "load_digits_images needs scikit-learn (pip install scikit-learn); it reads the digits bundled with it"
        ) from err
    digits = load_digits()
    images = (np.asarray(digits.images, dtype=np.float32) / 16.0)[:, None, :, :]
    return images, np.asarray(digits.target, dtype=np.int64)


def _cifar_dir(path: Path, files: tuple[str, ...]) -> Path:
    # The official archive unpacks to cifar-10-batches-bin/; accept that folder or its parent.
    if not (path / files[0]).exists() and (path / "cifar-10-batches-bin" / files[0]).exists():
        return path / "cifar-10-batches-bin"
    return path


def load_cifar10(
    path: str | os.PathLike, split: str = "train"
) -> tuple[Float[np.ndarray, "n 3 32 32"], Int[np.ndarray, " n"]]:
    """CIFAR-10 from its binary version in a local directory, as images in [0, 1].

    Each record of ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) and ``test_batch.bin``
    (test) is one label byte followed by 3072 pixel bytes: the 1024 red, then green, then blue
    values of a 32 x 32 image in row-major order. Nothing is downloaded; get
    ``cifar-10-binary.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it.

    Args:
        path: The folder holding the ``.bin`` files, or the folder it was unpacked into
            (containing ``cifar-10-batches-bin``).
        split: ``"train"`` (50000 images) or ``"test"`` (10000 images).

    Returns:
        A pair ``(images, labels)``: float32 images of shape (n, 3, 32, 32) (pixel bytes divided
        by 255) and int64 labels 0..9 of shape (n,).

    Raises:
        FileNotFoundError: If ``path`` or one of the split's files is missing.
        ValueError: If ``split`` is unknown, a file's size is not a multiple of 3073 bytes, or a
            label is outside 0..9.
    """
    if split not in _CIFAR_FILES:
        raise ValueError(f"split must be one of 'train', 'test'; got {split!r}")
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"CIFAR-10 directory not found: {str(path)!r}")
    files = _CIFAR_FILES[split]
    folder = _cifar_dir(path, files)
    images, labels = [], []
    for name in files:
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(
                f"CIFAR-10 file {name!r} not found in {str(folder)!r} (the {split} split needs {', '.join(files)})"
            )
        raw = np.fromfile(file, dtype=np.uint8)
        if raw.size == 0 or raw.size % _CIFAR_RECORD:
            raise ValueError(
                f"{str(file)!r} has {raw.size} bytes, not a positive multiple of {_CIFAR_RECORD} "
                "(1 label byte + 3072 pixel bytes per record); is it the CIFAR-10 binary version?"
            )
        records = raw.reshape(-1, _CIFAR_RECORD)
        if records[:, 0].max() > 9:
            raise ValueError(f"{str(file)!r} has labels outside 0..9; is it the CIFAR-10 binary version?")
        labels.append(records[:, 0].astype(np.int64))
        images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels)


def instance_selection(
    features: Float[np.ndarray, "n k"],
    psi: float,
    *,
    ridge: float = 1e-6,
    groups: Int[np.ndarray, " n"] | None = None,
    fit: Float[np.ndarray, "m k"] | None = None,
) -> tuple[Bool[np.ndarray, " n"], Float[np.ndarray, " n"]]:
    """Keep the samples whose Gaussian log-likelihood is above its psi-quantile (DeVries et al. 2020).

    A Gaussian N(m, S + r I) is fitted to the feature vectors (m their mean, S their covariance,
    r = ridge times the mean variance, so that a degenerate S stays invertible), and the
    round(psi n) samples of lowest log-likelihood are dropped (ties broken by index). The
    paper computes xi_min of the selected CIFAR-10 images for psi in 0.1, ..., 0.5 (Table 1),
    with Inception v3 features.

    With ``groups`` (e.g. class labels) the same fraction is dropped within each group: the
    round(psi n_g) samples of lowest log-likelihood among the n_g samples of group g, still under
    the one Gaussian fitted to all the features, so only the balance between groups changes.
    With ``fit`` the Gaussian is fitted to those feature vectors instead (e.g. a training half)
    and the rule is applied to ``features`` (e.g. the held-out half).

    Args:
        features: Feature vectors, shape (n, k) with n >= 2, finite.
        psi: The dropped lower quantile, in [0, 1); psi = 0 keeps everything.
        ridge: Relative ridge r, >= 0.
        groups: Optional integer group of each sample, shape (n,).
        fit: Optional feature vectors to fit the Gaussian to, shape (m, k) with m >= 2, finite;
            by default ``features``.

    Returns:
        A pair ``(keep, log_likelihood)``: a boolean mask of shape (n,) with
        n - round(psi n) entries True (n_g - round(psi n_g) in each group with ``groups``),
        and the log-density of each sample under the fit.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"features must have shape (n, k) with n >= 2 and k >= 1, got shape {x.shape}")
    check_finite("features", x)
    ref = x
    if fit is not None:
        ref = np.asarray(fit, dtype=np.float64)
        if ref.ndim != 2 or ref.shape[0] < 2 or ref.shape[1] != x.shape[1]:
            raise ValueError(
                f"fit must have shape (m, {x.shape[1]}) with m >= 2 (the features' width), got shape {ref.shape}"
            )
        check_finite("fit", ref)
    psi_arr = np.asarray(psi, dtype=float)
    if psi_arr.ndim != 0 or not np.isfinite(psi_arr) or not 0 <= float(psi_arr) < 1:
        raise ValueError(f"psi must be a number in [0, 1), got {psi!r}")
    ridge_arr = np.asarray(ridge, dtype=float)
    if ridge_arr.ndim != 0 or not np.isfinite(ridge_arr) or float(ridge_arr) < 0:
        raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
    n, k = x.shape
    if groups is None:
        group = np.zeros(n, dtype=np.int64)
    else:
        group = np.asarray(groups)
        if group.shape != (n,) or not np.issubdtype(group.dtype, np.integer):
            raise ValueError(f"groups must be integers of shape ({n},), got {group.dtype} of shape {group.shape}")
    mean = ref.mean(axis=0)
    centred_ref = ref - mean
    cov = centred_ref.T @ centred_ref / (ref.shape[0] - 1)
    scale = float(np.trace(cov)) / k
    cov = cov + float(ridge_arr) * (scale if scale > 0 else 1.0) * np.eye(k)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("the feature covariance is singular; increase ridge") from None
    z = np.linalg.solve(chol, (x - mean).T)
    log_det = 2.0 * np.sum(np.log(np.diag(chol)))
    log_likelihood = -0.5 * (np.sum(z**2, axis=0) + log_det + k * np.log(2 * np.pi))
    keep = np.ones(n, dtype=bool)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        num_drop = int(round(float(psi_arr) * len(members)))
        keep[members[np.argsort(log_likelihood[members], kind="stable")[:num_drop]]] = False
    return keep, log_likelihood


def load_builtin(name: str) -> Float[np.ndarray, "n ..."]:
    """A named data set for the command line: digits images or a synthetic sample (seed 0).

    - ``"digits"``: scikit-learn's digits as images, shape (1797, 1, 8, 8) in [0, 1]
      (see :func:`lgan.load_digits_images`).
    - ``"gaussian"``: 4000 samples of N(0, 1), shape (4000, 1).
    - ``"mixture-M"``, e.g. ``"mixture-4"``: 4000 samples of (1/2) N(0, 1) + (1/2) N(M, 1)
      (:func:`lgan.two_gaussian_mixture`), shape (4000, 1).
    - ``"ring"``: 4000 samples of the equal mixture of 8 Gaussians with std 0.7 centred on the
      circle of radius 2, shape (4000, 2).

    Args:
        name: One of the names above.

    Returns:
        The data as a numpy array (float32 images, or float64 vectors of shape (n, d)).
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, got {name!r}")
    if name == "digits":
        return load_digits_images()[0]
    if name == "gaussian":
        return np.random.default_rng(0).standard_normal((_NUM_SAMPLES, 1))
    if name == "ring":
        return ring_of_gaussians(8, radius=2.0, std=0.7).sample(_NUM_SAMPLES, seed=0)
    match = re.fullmatch(r"mixture-(.+)", name)
    if match:
        try:
            separation = float(match.group(1))
        except ValueError:
            separation = float("nan")
        if not np.isfinite(separation):
            raise ValueError(f"the separation M in 'mixture-M' must be a finite number, got {name!r}")
        return two_gaussian_mixture(separation).sample(_NUM_SAMPLES, seed=0).reshape(-1, 1)
    raise ValueError(f"unknown data set {name!r}; built-in names are {', '.join(BUILTIN_NAMES)} (e.g. mixture-4)")
