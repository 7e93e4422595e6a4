"""experiments/qin2020_mixture.py at its reduced (CI) size, and its summary: the script cannot rot."""

import json

import numpy as np
import pytest
from helpers import run_experiment


@pytest.mark.slow
def test_reduced_run_writes_every_field_and_summarises(tmp_path):
    out = tmp_path / "qin.json"
    done = run_experiment("qin2020_mixture.py", "--reduced", "--only", "figure2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["command"].startswith("python experiments/qin2020_mixture.py --reduced")
    assert len(result["mixture"]["centres"]) == 16 and result["mixture"]["std"] == 0.02
    runs = result["experiments"]["figure2"]
    assert set(runs) == {"euler", "rk4", "rk4 per player"}
    assert [run["per_player"] for run in runs.values()] == [False, False, True]
    for run in runs.values():
        seeds, settings = result["size"]["seeds"], 1
        saves = result["size"]["steps"] // result["size"]["save_every"] + 1
        for name in ("loss_d", "loss_g", "modes", "high_quality", "modes_loose", "high_quality_loose", "grad_norm_d", "grad_norm_g"):
            assert len(run[name]) == seeds and len(run[name][0]) == settings and len(run[name][0][0]) == saves
    drawings = np.load(out.with_suffix(".npz"))  # seed 0 at 0, n/3, 2n/3, n steps
    assert drawings["rk4 per player/samples"].shape == (4, 2000, 2)
    assert drawings["euler/discriminator"].shape == (4, drawings["grid"].size, drawings["grid"].size)
    done = run_experiment("summarise_qin2020.py", str(out))
    assert done.returncode == 0, done.stderr
    table = done.stdout
    assert "### figure2" in table and "| euler | 0.03 | 0.07 | 2 |" in table and "| rk4 per player | 0.03 |" in table


def test_unknown_experiment_is_refused_without_a_traceback(tmp_path):
    done = run_experiment("qin2020_mixture.py", "--only", "figure9", "--out", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--only must name experiments among figure2, stability, large_steps, public_defaults, lambda, ablations; got figure9" in done.stderr
