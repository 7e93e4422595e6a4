"""experiments/kim2021_toy.py at its reduced (CI) size, and its summary: the script cannot rot."""

import json

import pytest
from helpers import run_experiment


@pytest.mark.slow
def test_reduced_run_writes_every_field_and_summarises(tmp_path):
    out = tmp_path / "kim.json"
    done = run_experiment("kim2021_toy.py", "--reduced", "--only", "grid,swissroll,mu_g_anc", "--out", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["command"] == f"python experiments/kim2021_toy.py --reduced --only grid,swissroll,mu_g_anc --out {out}"
    assert result["size_name"] == "reduced" and result["paper"]["width"] == 512
    assert result["paper"]["steps"] == {"grid": 200_000, "swissroll": 100_000}
    settings = result["settings"]
    assert (settings["depth"], settings["latent_dim"], settings["batch_size"], settings["critic_steps"]) == (3, 2, 256, 5)
    assert (settings["learning_rate"], settings["b1"], settings["b2"]) == (1e-4, 0.5, 0.9)
    assert (settings["gamma_simple"], settings["gamma_wgan_gp"], settings["anchor"]) == (0.2, 0.1, [2.0, -1.0])
    assert len(result["data"]["grid"]["centres"]) == 25 and result["departures"]
    cost = result["paper_cost"]
    assert cost["seconds_per_generator_step"] > 0 and cost["extrapolated_hours_all_runs"] > 0 and cost["width"] == 8
    assert result["total_seconds"] > 0 and result["total_cpu_seconds"] > 0
    assert set(result["results"]) == {"grid", "swissroll"}
    seeds = result["size"]["seeds"]
    assert seeds >= 8
    for dataset, names in (("grid", ("loss_d", "loss_g", "frechet", "modes", "high_quality")), ("swissroll", ("loss_d", "loss_g", "frechet"))):
        run = result["results"][dataset]["mu_g_anc"]
        saves = result["size"]["saves"] + 1
        assert run["steps"][-1] == result["size"]["steps"][dataset] and len(run["steps"]) == saves
        assert len(run["diverged"]) == seeds and len(run["diverged_at"]) == seeds and run["seconds"] > 0
        for name in names:
            assert len(run[name]) == seeds and all(len(per_seed) == saves for per_seed in run[name])
        assert ("modes" in run) == (dataset == "grid")
    done = run_experiment("summarise_kim2021.py", str(out))
    assert done.returncode == 0, done.stderr
    table = done.stdout
    assert "### grid" in table and "### swissroll" in table
    assert "| variant | seeds | diverged | median modes (min-max) | median high-quality fraction | median Frechet (min-max) | seconds |" in table
    assert f"| mu_g_anc | {seeds} | " in table


@pytest.mark.parametrize(
    "only, message",
    [
        ("grid,figure4", "--only must name data sets or variants among grid, swissroll, p_d, p_g, mu_gp, mu_mid, mu_g_anc, wgan_gp; got figure4"),
        (",", "--only must name data sets or variants among grid, swissroll, p_d, p_g, mu_gp, mu_mid, mu_g_anc, wgan_gp; got ','"),
    ],
)
def test_unknown_names_are_refused_without_a_traceback(tmp_path, only, message):
    done = run_experiment("kim2021_toy.py", "--only", only, "--out", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in done.stderr
    assert not (tmp_path / "x.json").exists()
