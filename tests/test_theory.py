"""Tests for experiments.theory: Erlang formulas, Manhattan distances, hypercube model, Gini."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from experiments.theory import (
    HypercubeModel,
    erlang_b,
    erlang_c,
    gini,
    grid_mean_cell_to_uniform,
    grid_mean_uniform_pair,
    manhattan_mean_point_to_uniform,
    manhattan_mean_uniform_pair,
    mmc_queue_length_mean,
    mmc_utilisation,
    mmc_wait_mean,
    mmc_wait_quantile,
    mmc_wait_survival,
    nearest_of_poisson_units_mean,
    solve_hypercube,
)

# ---------------------------------------------------------------------------------------------
# Erlang / M/M/c
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [(2, 1.0, 0.2), (2, 1.25, 0.257732), (2, 2.0, 0.4), (3, 2.0, 0.210526)],
)
def test_erlang_b_worked_values(c, a, expected):
    assert erlang_b(c, a) == pytest.approx(expected, abs=5e-7)


def test_erlang_b_edge_cases():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    # Stable for large systems (direct factorial formula would overflow).
    assert 0.0 < erlang_b(2000, 1900.0) < 1.0


def _erlang_b_direct(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def _mmc_p_wait_direct(c: int, a: float) -> float:
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


@pytest.mark.parametrize(("c", "a"), [(1, 0.3), (3, 2.2), (5, 4.0), (8, 1.5), (10, 9.5)])
def test_erlang_formulas_match_direct_sums(c, a):
    assert erlang_b(c, a) == pytest.approx(_erlang_b_direct(c, a), rel=1e-12)
    assert erlang_c(c, a) == pytest.approx(_mmc_p_wait_direct(c, a), rel=1e-12)


@pytest.mark.parametrize(
    ("lam", "mu", "c", "p_wait", "wq", "lq"),
    [
        (1.0, 1.0, 2, 1 / 3, 1 / 3, 1 / 3),
        (2.0, 1.0, 3, 4 / 9, 4 / 9, 8 / 9),
        (1.5, 1.0, 3, 9 / 38, 3 / 19, 1.5 * 3 / 19),
    ],
)
def test_mmc_exact_fractions(lam, mu, c, p_wait, wq, lq):
    assert erlang_c(c, lam / mu) == pytest.approx(p_wait, rel=1e-12)
    assert mmc_wait_mean(lam, mu, c) == pytest.approx(wq, rel=1e-12)
    assert mmc_queue_length_mean(lam, mu, c) == pytest.approx(lq, rel=1e-12)


@pytest.mark.parametrize(
    ("c", "p_wait", "wq_hours"),
    [(3, 0.702247, 0.117041), (4, 0.319857, 0.017770), (5, 0.130371, 0.004346)],
)
def test_mmc_call_centre_example(c, p_wait, wq_hours):
    lam, mu = 30.0, 12.0  # per hour
    assert erlang_c(c, lam / mu) == pytest.approx(p_wait, abs=5e-7)
    assert mmc_wait_mean(lam, mu, c) == pytest.approx(wq_hours, abs=5e-7)


def test_mmc_four_servers_load_four():
    assert erlang_c(5, 4.0) == pytest.approx(0.554113, abs=5e-7)
    assert mmc_queue_length_mean(4.0, 1.0, 5) == pytest.approx(2.21645, abs=5e-6)


@pytest.mark.parametrize(("c", "p_wait", "wq_min"), [(6, 0.2848, 5.70), (5, 0.5541, 22.2)])
def test_police_illustration(c, p_wait, wq_min):
    lam, mu = 6.0, 1.5  # 6 calls/h, 40-minute jobs
    assert erlang_c(c, lam / mu) == pytest.approx(p_wait, abs=5e-5)
    assert 60 * mmc_wait_mean(lam, mu, c) == pytest.approx(wq_min, abs=0.05)


def test_mmc_unstable_and_idle():
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(3, 5.0) == 1.0
    assert mmc_wait_mean(3.0, 1.0, 3) == math.inf
    assert mmc_queue_length_mean(4.0, 1.0, 3) == math.inf
    assert mmc_wait_survival(10.0, 4.0, 1.0, 3) == 1.0
    assert mmc_wait_quantile(0.5, 4.0, 1.0, 3) == math.inf
    assert erlang_c(3, 0.0) == 0.0
    assert mmc_wait_mean(0.0, 1.0, 2) == 0.0
    assert mmc_queue_length_mean(0.0, 1.0, 2) == 0.0


def test_mmc_utilisation():
    assert mmc_utilisation(6.0, 1.5, 5) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        mmc_utilisation(1.0, 1.0, 0)
    with pytest.raises(ValueError):
        mmc_utilisation(1.0, 0.0, 2)
    with pytest.raises(ValueError):
        mmc_utilisation(-1.0, 1.0, 2)


def test_invalid_erlang_arguments():
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError):
            erlang_b(bad, 1.0)
    with pytest.raises(ValueError):
        erlang_c(2, -0.1)


def test_wait_survival_and_quantile():
    lam, mu, c = 2.0, 1.0, 3
    p_wait = 4 / 9
    assert mmc_wait_survival(0.0, lam, mu, c) == pytest.approx(p_wait)
    assert mmc_wait_survival(-1.0, lam, mu, c) == 1.0
    assert mmc_wait_survival(1.5, lam, mu, c) == pytest.approx(p_wait * math.exp(-1.5))
    assert mmc_wait_quantile(0.5, lam, mu, c) == 0.0
    assert mmc_wait_quantile(1 - p_wait, lam, mu, c) == 0.0
    assert mmc_wait_quantile(1.0, lam, mu, c) == math.inf
    for p in (0.6, 0.9, 0.99):
        t = mmc_wait_quantile(p, lam, mu, c)
        assert mmc_wait_survival(t, lam, mu, c) == pytest.approx(1 - p)
    with pytest.raises(ValueError):
        mmc_wait_quantile(1.5, lam, mu, c)


def test_wait_survival_integrates_to_mean():
    lam, mu, c = 6.0, 1.5, 5
    area, _ = integrate.quad(lambda t: mmc_wait_survival(t, lam, mu, c), 0, math.inf)
    assert area == pytest.approx(mmc_wait_mean(lam, mu, c), rel=1e-8)


# ---------------------------------------------------------------------------------------------
# Manhattan distances
# ---------------------------------------------------------------------------------------------


def test_continuous_uniform_pair():
    assert manhattan_mean_uniform_pair(1.0, 1.0) == pytest.approx(2 / 3)
    assert manhattan_mean_uniform_pair(3.0, 6.0) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        manhattan_mean_uniform_pair(0.0, 1.0)


def test_continuous_point_to_uniform():
    assert manhattan_mean_point_to_uniform(0.5, 0.5, 1.0, 1.0) == pytest.approx(0.5)
    assert manhattan_mean_point_to_uniform(0.0, 0.0, 1.0, 1.0) == pytest.approx(1.0)
    assert manhattan_mean_point_to_uniform(1.0, 2.0, 4.0, 2.0) == pytest.approx(1.25 + 1.0)
    # Outside the rectangle: distance to its centre along that axis.
    assert manhattan_mean_point_to_uniform(-1.0, 0.5, 2.0, 1.0) == pytest.approx(2.0 + 0.25)


@pytest.mark.parametrize(("px", "py", "x0", "y0"), [(0.3, 0.8, 1.0, 2.0), (2.5, 0.1, 3.0, 1.0)])
def test_continuous_point_to_uniform_by_quadrature(px, py, x0, y0):
    ex, _ = integrate.quad(lambda u: abs(u - px) / x0, 0, x0, points=[px])
    ey, _ = integrate.quad(lambda v: abs(v - py) / y0, 0, y0, points=[py])
    assert manhattan_mean_point_to_uniform(px, py, x0, y0) == pytest.approx(ex + ey, rel=1e-10)


@pytest.mark.parametrize(
    ("n", "pair", "centre", "corner"),
    [
        (10, 6.6, 5.0, 9.0),
        (11, 7.272727, 5.454545, 10.0),
        (20, 13.3, 10.0, 19.0),
        (21, 13.968254, 10.476190, 20.0),
        (50, 33.32, 25.0, 49.0),
    ],
)
def test_square_grid_worked_values(n, pair, centre, corner):
    m = (n - 1) // 2
    assert grid_mean_uniform_pair(n, n) == pytest.approx(pair, abs=5e-7)
    assert grid_mean_cell_to_uniform(m, m, n, n) == pytest.approx(centre, abs=5e-7)
    assert grid_mean_cell_to_uniform(0, 0, n, n) == pytest.approx(corner, abs=1e-12)
    assert grid_mean_cell_to_uniform(n - 1, n - 1, n, n) == pytest.approx(corner, abs=1e-12)


def _brute_cells(w: int, h: int) -> np.ndarray:
    return np.array(list(itertools.product(range(w), range(h))))


@pytest.mark.parametrize(("w", "h"), [(1, 1), (1, 4), (2, 3), (3, 3), (4, 7), (6, 5)])
def test_grid_formulas_by_brute_force(w, h):
    cells = _brute_cells(w, h)
    dist = np.abs(cells[:, None, :] - cells[None, :, :]).sum(axis=2)
    assert grid_mean_uniform_pair(w, h) == pytest.approx(dist.mean(), rel=1e-12)
    for k, (x, y) in enumerate(cells):
        assert grid_mean_cell_to_uniform(x, y, w, h) == pytest.approx(dist[k].mean(), abs=1e-12)


@pytest.mark.parametrize(("x", "y"), [(1.5, 2.25), (-2.0, 0.5), (7.5, 9.0)])
def test_grid_cell_to_uniform_fractional_and_outside(x, y):
    w, h = 5, 4
    cells = _brute_cells(w, h)
    expected = (np.abs(cells[:, 0] - x) + np.abs(cells[:, 1] - y)).mean()
    assert grid_mean_cell_to_uniform(x, y, w, h) == pytest.approx(expected, abs=1e-12)


def test_grid_invalid_sides():
    with pytest.raises(ValueError):
        grid_mean_uniform_pair(0, 3)
    with pytest.raises(ValueError):
        grid_mean_cell_to_uniform(0, 0, 3, 2.5)


def test_nearest_poisson_unit():
    assert nearest_of_poisson_units_mean(1.0) == pytest.approx(0.626657, abs=5e-7)
    assert nearest_of_poisson_units_mean(4.0) == pytest.approx(0.626657 / 2, abs=5e-7)
    gamma = 2.5
    mean, _ = integrate.quad(lambda r: math.exp(-2 * gamma * r * r), 0, math.inf)
    assert nearest_of_poisson_units_mean(gamma) == pytest.approx(mean, rel=1e-10)
    with pytest.raises(ValueError):
        nearest_of_poisson_units_mean(0.0)


def test_nearest_poisson_unit_monte_carlo():
    rng = np.random.default_rng(12345)
    gamma, half = 3.0, 6.0  # square [-6, 6]^2, query point at the centre
    dists = []
    for _ in range(4000):
        n = rng.poisson(gamma * (2 * half) ** 2)
        pts = rng.uniform(-half, half, size=(n, 2))
        dists.append(np.abs(pts).sum(axis=1).min())
    expected = nearest_of_poisson_units_mean(gamma)
    stderr = np.std(dists) / math.sqrt(len(dists))
    assert abs(np.mean(dists) - expected) < 4 * stderr


# ---------------------------------------------------------------------------------------------
# Hypercube queueing model
# ---------------------------------------------------------------------------------------------


def test_hypercube_mit_two_unit_example():
    travel = [[2 / 3, 4 / 3], [4 / 3, 2 / 3]]
    res = solve_hypercube([1.0, 1.0], 2.0, [[0, 1], [1, 0]], travel=travel, queue="loss")
    np.testing.assert_allclose(res.probabilities, [2 / 5, 1 / 5, 1 / 5, 1 / 5], atol=1e-12)
    assert res.state_probability([]) == pytest.approx(2 / 5)
    assert res.state_probability([0, 1]) == pytest.approx(erlang_b(2, 1.0))
    assert res.loss_probability == pytest.approx(0.2)
    np.testing.assert_allclose(res.workload, [2 / 5, 2 / 5], atol=1e-12)
    np.testing.assert_allclose(res.dispatch_fractions, [[3 / 8, 1 / 8], [1 / 8, 3 / 8]])
    assert res.mean_travel == pytest.approx(5 / 6)
    np.testing.assert_allclose(res.mean_travel_per_atom, [5 / 6, 5 / 6])
    np.testing.assert_allclose(res.mean_travel_per_unit, [5 / 6, 5 / 6])
    assert res.fraction_interdistrict == pytest.approx(1 / 4)
    assert res.wait_probability == 0.0
    assert res.mean_wait == 0.0


def _mean_abs_uniform(lo: float, hi: float, p: float) -> float:
    """E|U - p| for U uniform on [lo, hi] (via the 1-D rectangle formula)."""
    return manhattan_mean_point_to_uniform(p - lo, 0.0, hi - lo, 1.0) - 0.5


def _larson_odoni_travel() -> np.ndarray:
    """Per-atom mean E-W travel of Larson & Odoni §5.3.3 (units at +0.75 and -0.25)."""
    homes = (0.75, -0.25)
    # Atom A = demand east of 0.25: mass 1/2 on [0.75, 1] and 1/7 on [0.25, 0.75].
    atom_a = [
        7 / 9 * _mean_abs_uniform(0.75, 1, x) + 2 / 9 * _mean_abs_uniform(0.25, 0.75, x)
        for x in homes
    ]
    atom_b = [_mean_abs_uniform(-1, 0.25, x) for x in homes]  # uniform west of 0.25
    return np.array([atom_a, atom_b]).T


def test_hypercube_larson_odoni_example():
    lam = [1.25 * 9 / 14, 1.25 * 5 / 14]
    assert lam == pytest.approx([0.803571, 0.446429], abs=5e-7)
    res = solve_hypercube(lam, 1.0, [[0, 1], [1, 0]], travel=_larson_odoni_travel())
    np.testing.assert_allclose(
        res.probabilities, [0.329897, 0.232368, 0.180003, 0.257732], atol=5e-7
    )
    assert res.loss_probability == pytest.approx(erlang_b(2, 1.25))
    np.testing.assert_allclose(res.workload, [0.49010, 0.43773], atol=1e-5)  # 5 d.p.
    assert res.mean_travel == pytest.approx(0.46246, abs=5e-6)


def _mmn_busy_distribution(n: int, a: float) -> np.ndarray:
    """M/M/n probabilities of k = 0..n-1 in system, with k >= n lumped at index n."""
    p = [a**k / math.factorial(k) for k in range(n)]
    p_n = a**n / math.factorial(n) / (1 - a / n)
    probs = np.array([*p, p_n])
    return probs / probs.sum()


@pytest.mark.parametrize("n_units", [1, 2, 3, 4])
def test_hypercube_loss_aggregates_to_erlang_loss(n_units):
    rng = np.random.default_rng(n_units)
    lam = rng.uniform(0.1, 1.0, size=5)
    prefs = [list(rng.permutation(n_units)) for _ in lam]
    res = solve_hypercube(lam, 0.8, prefs, queue="loss")
    a = lam.sum() / 0.8
    expected = np.array([a**k / math.factorial(k) for k in range(n_units + 1)])
    np.testing.assert_allclose(res.busy_count_distribution(), expected / expected.sum())
    assert res.loss_probability == pytest.approx(erlang_b(n_units, a))


@pytest.mark.parametrize("n_units", [1, 2, 3, 4])
def test_hypercube_infinite_aggregates_to_erlang_c(n_units):
    rng = np.random.default_rng(10 + n_units)
    lam = rng.uniform(0.1, 1.0, size=4)
    mu = 1.1 * lam.sum() / n_units  # utilisation about 0.91
    prefs = [list(rng.permutation(n_units)) for _ in lam]
    res = solve_hypercube(lam, [mu] * n_units, prefs, queue="infinite")
    a = lam.sum() / mu
    np.testing.assert_allclose(res.busy_count_distribution(), _mmn_busy_distribution(n_units, a))
    assert res.wait_probability == pytest.approx(erlang_c(n_units, a))
    assert res.probabilities[-1] == pytest.approx(erlang_c(n_units, a))
    assert res.mean_wait == pytest.approx(mmc_wait_mean(lam.sum(), mu, n_units))
    assert res.mean_queue_length == pytest.approx(mmc_queue_length_mean(lam.sum(), mu, n_units))
    assert res.workload.mean() == pytest.approx(lam.sum() / (n_units * mu))
    assert res.loss_probability == 0.0


def test_hypercube_infinite_queued_calls_spread_uniformly():
    # One atom, always preferring unit 0: unit 1 only serves overflow and queued calls.
    res = solve_hypercube([1.0], 1.0, [[0, 1]], travel=[[1.0], [3.0]], queue="infinite")
    p = res.probabilities
    f_unit1 = p[0b01] + p[0b11] / 2  # unit 0 busy, or queued and unit 1 frees first
    np.testing.assert_allclose(res.dispatch_fractions[:, 0], [1 - f_unit1, f_unit1])
    assert res.fraction_interdistrict == pytest.approx(f_unit1)
    assert res.mean_travel == pytest.approx(1.0 + 2.0 * f_unit1)


def test_hypercube_loss_with_subset_preferences():
    # Atom 0 may only use unit 0: its calls are lost while unit 0 is busy even if unit 1 is free.
    res = solve_hypercube([1.0, 1.0], [1.0, 2.0], [[0], [1, 0]], queue="loss")
    p = res.probabilities
    lost = (1.0 * (p[0b01] + p[0b11]) + 1.0 * p[0b11]) / 2.0
    assert res.loss_probability == pytest.approx(lost)
    assert res.dispatch_fractions[1, 0] == 0.0
    # Balance check for the empty state: arrivals out == completions in.
    assert 2.0 * p[0] == pytest.approx(1.0 * p[0b01] + 2.0 * p[0b10])


def test_hypercube_single_unit_is_mm11():
    res = solve_hypercube([0.3, 0.2], [2.0], [[0], [0]], travel=[[1.0, 2.0]])
    assert res.probabilities[1] == pytest.approx(0.2)  # a / (1 + a), a = 0.5 / 2
    assert res.mean_travel == pytest.approx(0.6 * 1.0 + 0.4 * 2.0)
    assert res.fraction_interdistrict == 0.0


def _random_config(seed: int) -> tuple[np.ndarray, np.ndarray, list[list[int]], np.ndarray, str]:
    rng = np.random.default_rng(seed)
    n_units = 1 + seed % 4
    n_atoms = int(rng.integers(1, 6))
    queue = "infinite" if seed % 2 else "loss"
    lam = rng.uniform(0.0, 1.0, size=n_atoms) + 0.01
    if queue == "infinite":
        mu = np.full(n_units, lam.sum() / (n_units * rng.uniform(0.2, 0.95)))
        prefs = [list(rng.permutation(n_units)) for _ in range(n_atoms)]
    else:
        mu = rng.uniform(0.2, 3.0, size=n_units)
        prefs = [
            list(rng.permutation(n_units)[: rng.integers(1, n_units + 1)]) for _ in range(n_atoms)
        ]
    travel = rng.uniform(0.1, 5.0, size=(n_units, n_atoms))
    return lam, mu, prefs, travel, queue


@pytest.mark.parametrize("seed", range(40))
def test_hypercube_random_configurations(seed):
    lam, mu, prefs, travel, queue = _random_config(seed)
    res = solve_hypercube(lam, mu, prefs, travel=travel, queue=queue)
    assert res.probabilities.shape == (2**mu.size,)
    assert np.all(res.probabilities >= 0)
    assert res.probabilities.sum() == pytest.approx(1.0)
    assert np.all((res.workload >= 0) & (res.workload <= 1))
    assert res.dispatch_fractions.sum() == pytest.approx(1.0)
    assert np.all(res.dispatch_fractions >= 0)
    assert 0 <= res.fraction_interdistrict <= 1
    assert travel.min() - 1e-12 <= res.mean_travel <= travel.max() + 1e-12
    # Flow conservation: a unit's busy fraction = its dispatch rate x mean service time.
    served_rate = lam.sum() * (1 - res.loss_probability)
    np.testing.assert_allclose(res.workload, served_rate * res.dispatch_fractions.sum(1) / mu)


def test_hypercube_model_class_matches_function():
    model = HypercubeModel(lam=[1.0, 1.0], mu=2.0, preference=[[0, 1], [1, 0]])
    assert model.n_units == 2
    np.testing.assert_allclose(model.solve().probabilities, [0.4, 0.2, 0.2, 0.2])
    assert model.solve().mean_travel is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mu": [1.0, 2.0], "queue": "infinite"}, "equal service rates"),
        ({"preference": [[0], [1, 0]], "queue": "infinite"}, "complete preference"),
        ({"lam": [2.0, 2.0], "queue": "infinite"}, "unstable"),
        ({"queue": "finite"}, "queue must be"),
        ({"preference": [[0, 2], [1, 0]]}, "preference list"),
        ({"preference": [[0, 0], [1, 0]]}, "preference list"),
        ({"preference": [[0, 1]]}, "one preference list per atom"),
        ({"travel": np.ones((2, 3))}, "travel must have shape"),
        ({"mu": [1.0, 0.0]}, "mu must be positive"),
        ({"lam": [-1.0, 1.0]}, "lam must be non-negative"),
        ({"lam": [0.0, 0.0]}, "total call rate"),
        ({"mu": [1.0] * 13}, "units"),
    ],
)
def test_hypercube_invalid_inputs(kwargs, message):
    args = {"lam": [1.0, 1.0], "mu": [1.5, 1.5], "preference": [[0, 1], [1, 0]]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        solve_hypercube(**args)


# ---------------------------------------------------------------------------------------------
# Gini coefficient
# ---------------------------------------------------------------------------------------------


def _gini_brute(x: np.ndarray, w: np.ndarray) -> float:
    diff = np.abs(x[:, None] - x[None, :])
    mean = (w * x).sum() / w.sum()
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() ** 2 * mean))


def test_gini_basic_values():
    assert gini([3.0, 3.0, 3.0]) == 0.0
    for n in (1, 2, 5, 10):
        assert gini([0.0] * (n - 1) + [7.0]) == pytest.approx((n - 1) / n)
    assert gini([1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.25)
    assert gini([0.0, 0.0]) == 0.0


def test_gini_weights():
    # Integer weights are equivalent to repeating values.
    assert gini([1.0, 5.0], weights=[3, 1]) == pytest.approx(gini([1.0, 1.0, 1.0, 5.0]))
    # Zero-weight entries are ignored.
    assert gini([1.0, 100.0, 2.0], weights=[1, 0, 1]) == pytest.approx(gini([1.0, 2.0]))
    assert gini([1.0, 2.0], weights=[0, 0]) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_gini_matches_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    x = rng.exponential(size=30)
    w = rng.uniform(0, 2, size=30)
    assert gini(x) == pytest.approx(_gini_brute(x, np.ones_like(x)), rel=1e-12)
    assert gini(x, w) == pytest.approx(_gini_brute(x, w), rel=1e-12)
    assert gini(5 * x, w) == pytest.approx(gini(x, w), rel=1e-12)  # scale invariant


def test_gini_invalid_inputs():
    with pytest.raises(ValueError):
        gini([])
    with pytest.raises(ValueError):
        gini([1.0, -1.0])
    with pytest.raises(ValueError):
        gini([1.0, 2.0], weights=[1.0])
    with pytest.raises(ValueError):
        gini([1.0, math.nan])
