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
