import math
import os
import re
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import lgan
from lgan._cli import main

ROOT = Path(__file__).resolve().parents[2]


class FakeEstimator:
    """Stands in for lgan.estimate_poincare_constant: records its calls, reports progress."""

    def __init__(self):
        self.calls = []

    def __call__(self, data, *, key, augmentation=None, num_steps=100, batch_size=64, progress=None, **kwargs):
        self.calls.append(
            dict(data=data, key=key, augmentation=augmentation, num_steps=num_steps, batch_size=batch_size)
            | dict(progress=progress, **kwargs)
        )
        if progress is not None:
            for step in range(num_steps):
                progress(step, 1.0 / (step + 1))
        if augmentation is None:
            return 0.5
        batch = jnp.asarray(data[:4])
        out = augmentation(key, batch)  # the callable signature the estimator relies on
        assert out.shape == batch.shape
        # A made-up xi that depends on the augmentation, so the ranking is predictable.
        base = {"zoom_in": 0.6, "cutout": 0.55, "brightness": 0.2}.get(augmentation.name, 0.4)
        return base * (1 + augmentation.strength)


@pytest.fixture
def fake(monkeypatch):
    est = FakeEstimator()
    est.real = lgan.estimate_poincare_constant
    monkeypatch.setattr(lgan, "estimate_poincare_constant", est, raising=False)
    return est


@pytest.fixture
def images_npy(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.random.default_rng(0).uniform(size=(10, 1, 6, 6)).astype(np.float32))
    return path


def test_xi_builtin(fake, capsys):
    argv = ["xi", "gaussian", "--steps", "30", "--batch-size", "16", "--width", "8", "--depth", "2", "--lr", "0.01"]
    assert main([*argv, "--seed", "3"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "xi_min ≈ 0.5 (4000 samples, 30 steps)"
    (call,) = fake.calls
    assert call["data"].shape == (4000, 1)
    assert call["num_steps"] == 30 and call["batch_size"] == 16
    assert call["width"] == 8 and call["depth"] == 2 and call["learning_rate"] == 0.01
    assert call["augmentation"] is None and callable(call["progress"])
    assert "30/30" in err  # the progress bar went to stderr


def test_xi_quiet_npy_vectors(fake, tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(12.0))  # 1-D: read as (n, 1)
    assert main(["xi", str(path), "--steps", "5", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("xi_min ≈ 0.5 (12 samples, 5 steps)")
    assert err == ""
    assert fake.calls[0]["progress"] is None and fake.calls[0]["data"].shape == (12, 1)
    assert "width" not in fake.calls[0]  # the estimator's own defaults


def test_xi_with_augmentation(fake, images_npy, capsys):
    assert main(["xi", str(images_npy), "--augmentation", "zoom_in", "--strength", "0.5", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert "xi_min ≈ 0.9 (10 samples" in out and "zoom_in strength 0.5" in out
    aug = fake.calls[0]["augmentation"]
    assert aug.name == "zoom_in" and float(aug.strength) == 0.5


def test_uint8_images_scaled(fake, tmp_path, capsys):
    path = tmp_path / "u8.npy"
    np.save(path, np.full((3, 3, 4, 4), 255, dtype=np.uint8))
    assert main(["xi", str(path), "--quiet"]) == 0
    data = fake.calls[0]["data"]
    assert data.dtype == np.float32 and data.max() == 1.0


def test_advise(capsys):
    assert main(["advise", "--xi", "0.25", "--beta", "2"]) == 0
    out, _ = capsys.readouterr()
    opt = lgan.optimal_parameters(2.0, 0.25)
    assert "alpha = phi_1''(0) + phi_2''(0)" in out
    assert f"alpha = {opt.alpha:.6g}" in out and f"gamma = {opt.gamma:.6g}" in out
    assert f"Re lambda_+(xi_min) = {opt.rate_at_xi_min:.6g}" in out
    assert f"= {opt.rate:.6g}" in out and "whole spectrum" in out
    assert main(["advise", "--xi", "0.25", "--beta", "2", "--gamma", "6"]) == 0
    out, _ = capsys.readouterr()
    assert f"alpha = {lgan.optimal_parameters(2.0, 0.25, 6.0).alpha:.6g}" in out


def test_rank_augmentations(fake, images_npy, capsys):
    argv = ["rank-augmentations", str(images_npy), "--augmentations", "brightness,zoom_in,cutout"]
    argv += ["--strengths", "0.1,0.5", "--steps", "3", "--quiet"]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    names = {"none", "brightness", "zoom_in", "cutout"}
    rows = [line.split() for line in out.splitlines() if line.split() and line.split()[0] in names]
    assert len(rows) == 7 and len(fake.calls) == 7
    ratios = [float(r[-1]) for r in rows]
    assert ratios == sorted(ratios, reverse=True)
    assert rows[0][:2] == ["zoom_in", "0.5"] and float(rows[0][-1]) == pytest.approx(0.6 * 1.5 / 0.5, abs=1e-4)
    assert ["none", "0", "0.5", "1.0000"] in rows
    assert rows[-1][0] == "brightness"


def test_rank_sweeps_passed_through(fake, images_npy, capsys):
    argv = ["rank-augmentations", str(images_npy), "--augmentations", "cutout", "--strengths", "0.2"]
    assert main([*argv, "--sweeps", "5", "--quiet"]) == 0
    assert all(call["eval_sweeps"] == 5 for call in fake.calls)


def _error_line(capsys):
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lgan: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "argv, match",
    [
        (["xi", "missing.npy"], "DATA file not found: 'missing.npy'"),
        (["xi", "nonsense"], "neither a .npy file nor a built-in name"),
        (["xi", "mixture-x"], "neither a .npy file nor a built-in name"),
        (["advise", "--xi", "0", "--beta", "1"], "--xi must be > 0, got 0.0"),
        (["advise", "--xi", "-2", "--beta", "1"], "--xi must be > 0, got -2.0"),
        (["advise", "--xi", "nan", "--beta", "1"], "--xi must be finite, got nan"),
        (["advise", "--xi", "1", "--beta", "0"], "--beta must be non-zero, got 0.0"),
        (["advise", "--xi", "1e-300", "--beta", "1e300"], r"--beta=1e\+300 and --xi=1e-300 are out of range"),
        (["advise", "--xi", "1", "--beta", "1", "--gamma", "5"], r"--gamma must lie in .* = \[1, 2\]"),
        (["xi", "IMAGES", "--augmentation", "rotate", "--strength", "0.1"], "name must be one of"),
        (["xi", "IMAGES", "--augmentation", "cutout", "--strength", "1.5"], r"strength of 'cutout' must lie in \[0, 1"),
        (["xi", "IMAGES", "--augmentation", "cutout"], "--augmentation and --strength go together"),
        (["xi", "gaussian", "--augmentation", "cutout", "--strength", "0.2"], r"need image data of shape \(n, C,"),
        (["rank-augmentations", "IMAGES", "--augmentations", "zoom_in,spin"], "--augmentations must be one of"),
        (["rank-augmentations", "IMAGES", "--strengths", "0.1,2"], "strength of 'translation' must lie"),
        (["rank-augmentations", "gaussian"], "need image data"),
    ],
)
def test_bad_input_exit_2(fake, images_npy, capsys, argv, match):
    argv = [str(images_npy) if a == "IMAGES" else a for a in argv]
    assert main(argv) == 2
    assert re.search(match, _error_line(capsys))
    assert fake.calls == []  # nothing was estimated


def test_nan_and_bad_arrays(fake, tmp_path, capsys):
    path = tmp_path / "nan.npy"
    np.save(path, np.array([[0.0], [np.nan], [1.0]]))
    assert main(["xi", str(path)]) == 2
    assert "must be finite, got nan at index (1, 0)" in _error_line(capsys)
    path = tmp_path / "rank3.npy"
    np.save(path, np.zeros((4, 2, 2)))
    assert main(["xi", str(path)]) == 2
    assert "must have shape (n, d) or (n, C, H, W)" in _error_line(capsys)
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert main(["xi", str(path)]) == 2
    assert "is a file but not a .npy array" in _error_line(capsys)
    path = tmp_path / "broken.npy"
    path.write_text("not numpy")
    assert main(["xi", str(path)]) == 2
    assert "is not a readable .npy array" in _error_line(capsys)
    path = tmp_path / "big.npy"
    np.save(path, np.full((3, 1, 2, 2), 2.0))
    assert main(["xi", str(path), "--augmentation", "cutout", "--strength", "0.1"]) == 2
    assert r"values in [0, 1]" in _error_line(capsys)


def test_argparse_errors_and_help(capsys):
    assert main([]) == 2
    assert main(["xi", "gaussian", "--steps", "0"]) == 2
    assert "expected a positive integer" in capsys.readouterr().err
    assert main(["advise", "--xi", "1"]) == 2  # --beta is required
    assert main(["--help"]) == 0
    out, _ = capsys.readouterr()
    assert "examples:" in out and "rank-augmentations" in out
    for command in ("xi", "advise", "rank-augmentations"):
        assert main([command, "--help"]) == 0
        assert "examples:" in capsys.readouterr().out


def test_cli_options_match_the_estimator(fake, images_npy, capsys):
    """Every keyword the CLI passes is a parameter of the real estimator (no silent renames)."""
    import inspect

    argv = ["rank-augmentations", str(images_npy), "--augmentations", "cutout", "--strengths", "0.2"]
    assert main([*argv, "--sweeps", "2", "--width", "8", "--depth", "2", "--lr", "0.01", "--quiet"]) == 0
    signature = inspect.signature(fake.real)
    for call in fake.calls:
        data = call.pop("data")
        signature.bind(data, **call)


def _run(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "lgan", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)


@pytest.mark.slow
def test_subprocess_advise_and_errors(tmp_path):
    result = _run("advise", "--xi", "0.5", "--beta", "1")
    assert result.returncode == 0 and "alpha = 0.707107" in result.stdout
    result = _run("advise", "--xi", "0.2616", "--beta", "1")  # rate -sqrt(xi) to all printed digits
    assert result.returncode == 0 and f"= {-math.sqrt(0.2616):.6g}" in result.stdout, result.stdout
    result = _run("xi", str(tmp_path / "nope.npy"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"lgan: error: DATA file not found: {str(tmp_path / 'nope.npy')!r}"]
    result = _run("advise", "--xi", "-1", "--beta", "1")
    assert result.returncode == 2 and result.stderr.startswith("lgan: error: --xi") and "Traceback" not in result.stderr
    result = _run("rank-augmentations", "--bogus")
    assert result.returncode == 2 and "usage:" in result.stderr


@pytest.mark.slow
def test_end_to_end_xi_gaussian():
    result = _run("xi", "gaussian", "--steps", "200", timeout=600)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("xi_min ≈ ") and "(4000 samples, 200 steps)" in line
    xi = float(line.split()[2])
    assert 0 < xi < 10  # N(0, 1) has xi_min = 1; 200 steps give only a rough estimate


# ----------------------------------------------------------------------------- no traceback, no NaN with exit 0


def _npy_with_huge_header(path):
    from numpy.lib import format as npy_format

    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 10**6)})
        f.write(b"\0" * 80)


@pytest.mark.parametrize(
    "make, argv, match",
    [
        (lambda p: p.write_bytes(b""), ["xi", "DATA"], r"is not a readable .npy array: the file is empty"),
        (_npy_with_huge_header, ["xi", "DATA"], r"its header claims shape \(1000000000000, 1000000\) of float64 .* but the file holds 80 bytes"),
        (lambda p: np.save(p, np.ones((5, 1))), ["xi", "DATA", "--seed", "1e23"], r"--seed must be an integer in \[0, 2\^63\), got '1e23'"),
        (lambda p: np.save(p, np.ones((5, 1))), ["xi", "DATA", "--seed", str(10**23)], r"--seed must be an integer in \[0, 2\^63\)"),
        (lambda p: np.save(p, np.ones((5, 1))), ["rank-augmentations", "DATA", "--seed", "-1"], r"--seed must be an integer"),
    ],
)
def test_unreadable_files_and_seeds_exit_2_with_one_line(fake, tmp_path, capsys, make, argv, match):
    path = tmp_path / "data.npy"
    make(path)
    assert main([str(path) if a == "DATA" else a for a in argv]) == 2
    assert re.search(match, _error_line(capsys))
    assert fake.calls == []


@pytest.mark.parametrize(
    "data, options, match",
    [
        (1e308 * np.random.default_rng(0).uniform(0.5, 0.9, (50, 1)), [], r"data: xi_min = .* is not a normal float64 number"),
        (np.random.default_rng(0).standard_normal((20, 1)), ["--lr", "1e300"], r"learning_rate must be at most 1e3"),
        (np.random.default_rng(0).uniform(size=(10, 1, 1, 1)), [], r"data must be images of at least 8x8 pixels"),
    ],
)
def test_real_estimator_never_prints_nan(tmp_path, capsys, data, options, match):
    path = tmp_path / "data.npy"
    np.save(path, data)
    assert main(["xi", str(path), "--steps", "4", "--batch-size", "4", "--quiet", *options]) == 2
    assert re.search(match, _error_line(capsys))


def test_four_samples_with_batch_size_2_give_a_finite_answer(tmp_path, capsys):
    path = tmp_path / "four.npy"
    np.save(path, np.random.default_rng(0).standard_normal((4, 1)))
    assert main(["xi", str(path), "--steps", "40", "--batch-size", "2", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    xi = float(out.split()[2])
    assert math.isfinite(xi) and xi > 0


def test_advise_tiny_xi_gives_the_exact_rate(capsys):
    assert main(["advise", "--xi", "5e-324", "--beta", "1"]) == 0  # was an OverflowError traceback
    out, _ = capsys.readouterr()
    assert f"Re lambda_+(xi_min) = {-math.sqrt(5e-324):.6g}" in out and "nan" not in out


def test_a_nan_estimate_is_an_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(lgan, "estimate_poincare_constant", lambda data, **kwargs: float("nan"), raising=False)
    path = tmp_path / "data.npy"
    np.save(path, np.random.default_rng(0).standard_normal((20, 1)))
    assert main(["xi", str(path), "--quiet"]) == 2
    assert "the estimate of xi_min is not a finite positive number (got nan)" in _error_line(capsys)
