"""Reading DATA for the command line: a .npy file or a built-in name, checked before any compute."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def load_data(spec: str) -> np.ndarray:
    """A .npy file, or a built-in name; checked to be (n, d) vectors or (n, C, H, W) images."""
    from .._poincare._datasets import BUILTIN_NAMES, load_builtin

    path = Path(spec)
    if spec.endswith(".npy"):
        if not path.is_file():
            raise FileNotFoundError(f"DATA file not found: {spec!r}")
        check_npy_header(path, spec)
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError, MemoryError) as err:
            raise ValueError(f"DATA {spec!r} is not a readable .npy array ({err})") from None
        where = f"DATA {spec!r}"
    else:
        try:
            data = load_builtin(spec)
        except ValueError:
            what = "is a file but not a .npy array" if path.exists() else "is neither a .npy file nor a built-in name"
            raise ValueError(
                f"DATA {spec!r} {what}; give a .npy file or one of {', '.join(BUILTIN_NAMES)} (e.g. mixture-4)"
            ) from None
        where = f"built-in data {spec!r}"
    if not (np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.integer)):
        raise ValueError(f"{where} must hold real numbers, got dtype {data.dtype}")
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim not in (2, 4):
        raise ValueError(f"{where} must have shape (n, d) or (n, C, H, W), got shape {data.shape}")
    if data.shape[0] < 2:
        raise ValueError(f"{where} must have at least 2 samples, got shape {data.shape}")
    if data.dtype == np.uint8 and data.ndim == 4:
        data = data.astype(np.float32) / 255.0  # 8-bit images to [0, 1]
    elif not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    if not np.all(np.isfinite(data)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(data))[0])
        raise ValueError(f"{where} must be finite, got {data[bad].item()!r} at index {bad}")
    return data


def check_npy_header(path: Path, spec: str) -> None:
    """Raise unless the .npy header describes an array that the file actually holds (read before loading)."""
    from numpy.lib import format as npy_format

    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            version = npy_format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(f)
            else:
                return  # a newer format: np.load reads (or refuses) it
            offset = f.tell()
    except (ValueError, OSError, EOFError) as err:
        what = "is empty" if size == 0 else f"has no valid .npy header ({' '.join(str(err).split())})"
        raise ValueError(f"DATA {spec!r} is not a readable .npy array: the file {what}") from None
    if dtype.hasobject:
        return  # np.load refuses it with a clear message (allow_pickle=False)
    needed = math.prod(shape) * dtype.itemsize
    if needed != size - offset:
        raise ValueError(
            f"DATA {spec!r} is not a readable .npy array: its header claims shape {shape} of {dtype} "
            f"({needed:.4g} bytes) but the file holds {size - offset} bytes of data"
        )


def check_images_for_augmentation(data: np.ndarray) -> None:
    if data.ndim != 4:
        raise ValueError(f"augmentations need image data of shape (n, C, H, W), got shape {data.shape}")
    lo, hi = float(data.min()), float(data.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"augmentations need images with values in [0, 1], got values in [{lo:.6g}, {hi:.6g}]")
