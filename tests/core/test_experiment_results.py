"""The experiments' result files ship with the package (lgan/_core/_experiment_results.py).

Not slow: the Colab-install test runs this against an installed (not editable) lgan, so a result
file missing from the package data fails there.
"""

import numpy as np
import pytest

import lgan


def test_the_result_files_ship_with_their_command_and_arrays():
    result = lgan.experiment_result("qin2020_mixture_stability")
    assert result["command"].startswith("python experiments/qin2020_mixture.py")
    assert set(result["experiments"]) == {"stability"} and "arrays" not in result
    figure2 = lgan.experiment_result("qin2020_mixture_figure2")
    samples = figure2["arrays"]["rk4 per player/samples"]
    assert samples.shape == (4, 2000, 2) and np.all(np.isfinite(samples))


def test_an_unknown_result_is_refused_with_the_names():
    with pytest.raises(ValueError, match=r"name must be one of .*'qin2020_mixture_stability'.*; got 'qin2020'"):
        lgan.experiment_result("qin2020")


def test_the_long_kim_run_is_the_cpu_size_trained_five_times_longer():
    cpu, long = lgan.experiment_result("kim2021_toy"), lgan.experiment_result("kim2021_toy_long")
    assert long["command"].startswith("python experiments/kim2021_toy.py --long --only grid")
    assert {k: v for k, v in long["size"].items() if k not in ("steps", "saves")} == {
        k: v for k, v in cpu["size"].items() if k not in ("steps", "saves")
    }
    assert long["size"]["steps"]["grid"] == 5 * cpu["size"]["steps"]["grid"]
    assert list(long["results"]) == ["grid"] and list(long["results"]["grid"]) == list(cpu["results"]["grid"])
    # Same seeds, per-step keys (fold_in): up to the CPU size's last step, each run is the CPU run.
    # Exact equality: both files come from one version of the package (rerun both after a change).
    for variant, run in long["results"]["grid"].items():
        assert run["steps"][-1] == long["size"]["steps"]["grid"]
        assert np.asarray(run["modes"]).shape == (8, len(run["steps"]))
        at = run["steps"].index(cpu["size"]["steps"]["grid"])
        short = cpu["results"]["grid"][variant]
        for metric in ("modes", "high_quality", "frechet", "loss_d", "loss_g"):
            np.testing.assert_array_equal(np.asarray(run[metric])[:, at], np.asarray(short[metric])[:, -1], err_msg=f"{variant} {metric}")
