"""Print the seed statistics of a result file of experiments/qin2020_mixture.py as Markdown tables.

For each run: whether it diverged, the modes covered at the end (of 16), the first saved step at
which all 16 are covered, the distance of the final losses from the Nash values (log 4 for the
discriminator, log 2 for the generator) and the final fraction of high-quality samples (within
3 standard deviations, 0.06, of the nearest centre); where the file has them, the same two scores
within 0.25 of the nearest centre and the final norm of the generator's gradient.

Usage: python experiments/summarise_qin2020.py lgan/_results/qin2020_mixture_figure2.json
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

NASH_D, NASH_G = math.log(4), math.log(2)


def summary(run: dict, num_modes: int) -> list[dict]:
    """One row per setting: statistics over the seeds of ``run`` (one entry of the result file)."""
    steps = np.asarray(run["steps"])
    modes = np.asarray(run["modes"], dtype=float)  # (seed, setting, save)
    rows = []
    for j, step in enumerate(run["settings"]["step"]):
        full = modes[:, j, :] >= num_modes
        first = [int(steps[np.argmax(f)]) if f.any() else None for f in full]
        reached = [s for s in first if s is not None]
        loss_d = np.asarray(run["loss_d"], dtype=float)[:, j, -1]
        loss_g = np.asarray(run["loss_g"], dtype=float)[:, j, -1]
        rows.append(
            {
                "h": step,
                "lambda": run["settings"]["lam"][j],
                "seeds": modes.shape[0],
                "diverged": int(np.sum(np.asarray(run["diverged"])[:, j])),
                "all modes at the end": int(np.sum(full[:, -1])),
                "median final modes": float(np.nanmedian(modes[:, j, -1])),
                "median first step with all modes": float(np.median(reached)) if reached else None,
                "median l_D - log 4 (abs)": float(np.nanmedian(np.abs(loss_d - NASH_D))),
                "median l_G - log 2 (abs)": float(np.nanmedian(np.abs(loss_g - NASH_G))),
                "median high-quality fraction": float(np.nanmedian(np.asarray(run["high_quality"], dtype=float)[:, j, -1])),
            }
        )
        if "modes_loose" in run:  # files written before the loose radius and the gradient norms were recorded lack them
            rows[-1]["median final modes within 0.25"] = float(np.nanmedian(np.asarray(run["modes_loose"], dtype=float)[:, j, -1]))
            rows[-1]["median fraction within 0.25"] = float(np.nanmedian(np.asarray(run["high_quality_loose"], dtype=float)[:, j, -1]))
            rows[-1]["median final grad l_G norm"] = float(np.nanmedian(np.asarray(run["grad_norm_g"], dtype=float)[:, j, -1]))
        rows[-1]["seconds"] = run["seconds"]
    return rows


def main(path: str) -> int:
    result = json.loads(open(path).read())
    num_modes = len(result["mixture"]["centres"])
    print(f"{result['command']}  ({result['machine']['backend']}, jax {result['machine']['jax']})\n")
    for name, exp in result["experiments"].items():
        runs = exp if "settings" not in exp else {exp["solver"]: exp}
        rows = [(label, row) for label, run in runs.items() for row in summary(run, num_modes)]
        keys = list(rows[0][1])
        print(f"### {name}\n")
        print("| run | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        for label, row in rows:
            cells = [("-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)) for v in row.values()]
            print(f"| {label} | " + " | ".join(cells) + " |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
