"""Time and accuracy of the weighted-Laplacian reference solver as the mesh grows.

Checks against the Gaussian closed form xi_k = k / sigma^2 (first five modes) and prints, side by
side in one run: time per solve, the worst relative error, the error ratio per mesh doubling (the
observed order is log2 of it) and the time ratio of quadratic to linear elements at equal mesh.

Run: .venv/bin/python benchmarks/reference_solver.py
"""

import platform
import time

import numpy as np

import lgan


def best_time(fn, repeats=5):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    sigma = 1.0
    g = lgan.gaussian_mixture([0.0], [sigma])
    exact = np.arange(1, 6) / sigma**2
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print("1D, N(0, 1) on (-10, 10), first five modes, min of 5 runs")
    print(f"{'elements':>9} | {'P1 time [ms]':>12} {'P1 rel err':>11} {'order':>6} | {'P2 time [ms]':>12} {'P2 rel err':>11} {'order':>6} | {'P2/P1 time':>10}")
    prev = {}
    for n in [50, 100, 200, 400, 800, 1600, 3200]:
        row = []
        times = {}
        for degree in (1, 2):
            t, spec = best_time(lambda: lgan.weighted_laplacian_spectrum(g, g.domain(), num_modes=5, num_elements=n, degree=degree))
            err = float(np.max(np.abs(spec.xi / exact - 1)))
            order = np.log2(prev[degree] / err) if degree in prev and err > 1e-13 else float("nan")
            prev[degree] = err
            times[degree] = t
            row.append(f"{t * 1e3:12.2f} {err:11.2e} {order:6.2f}")
        print(f"{n:9d} | {row[0]} | {row[1]} | {times[2] / times[1]:10.2f}")
    m = lgan.two_gaussian_mixture(4.0)
    t, xi = best_time(lambda: lgan.poincare_constant(m, m.domain()))
    print(f"\nxi_min of 0.5 N(0,1) + 0.5 N(4,1) with the defaults: {xi:.10f} in {t * 1e3:.1f} ms")
    print("\n2D, N(0, diag(1, 4)) on (-9, 9) x (-18, 18), first five modes (0.25, 0.5, 0.75, 1, 1)")
    exact2 = np.array([0.25, 0.5, 0.75, 1.0, 1.0])
    rho = lambda x, y: np.exp(-(x**2) / 2 - y**2 / 8)  # noqa: E731
    prev2 = None
    print(f"{'cells':>9} | {'time [s]':>9} {'rel err':>9} {'order':>6}")
    for n in [40, 80, 160, 320]:
        t, spec = best_time(lambda: lgan.weighted_laplacian_spectrum_2d(rho, ((-9, 9), (-18, 18)), num_modes=5, num_cells=n), repeats=1)
        err = float(np.max(np.abs(spec.xi / exact2 - 1)))
        order = np.log2(prev2 / err) if prev2 else float("nan")
        prev2 = err
        print(f"{n:9d} | {t:9.3f} {err:9.2e} {order:6.2f}")


if __name__ == "__main__":
    main()
