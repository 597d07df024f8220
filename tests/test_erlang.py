"""Validation against queueing theory: with the frills switched off, dispatch is M/M/c.

Zero chain delay, zero travel, exponential on-scene times with one mean for all priorities,
every officer always on duty and never at a desk, every incident reported, a flat daily cycle
and no feedback from the police to the incidents: calls arrive as a Poisson process with
rate ``rate_per_1000_day * population / 1000`` per day and are served by ``c = officers``
identical servers. The mean wait in queue must then be Erlang C's

    Wq = C(c, a) / (c mu - lambda),   a = lambda / mu,

whatever the (non-preemptive) priority order, and with the priority order, class k waits
``C(c, a) / (c mu) / ((1 - s_{k-1}) (1 - s_k))`` (Cobham 1954), s_k being the load of the
classes served before or with k. Simulated means are compared with batch-means confidence
intervals (99.9 %, 20 batches after one day of warm-up), and a run too short to tell makes
the test fail rather than pass by luck. Checked on 15 further seeds per setting: one of the
45 runs missed one interval (a routine-class mean), in line with the design.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import all_priorities
from scipy import stats

from sim.api import run
from sim.scenario import PRIORITIES, Scenario

# Each simulated setting takes a few seconds (run once per module, shared by its tests).
# Fifteen interval checks are made (3 settings x 5); at 99.9 % each, the chance that one of
# them fails although the model is right is about 1.5 %.
BATCHES = 20
T_CRIT = float(stats.t.ppf(0.9995, BATCHES - 1))


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a`` (Erlang B recursion)."""
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def test_own_erlang_c_matches_known_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(5, 4.0) == pytest.approx(0.554113, abs=1e-6)
    # Direct sum formula.
    c, a = 4, 2.7
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(tail / (head + tail), rel=1e-12)


def mmc_scenario(c: int, rho: float, service_min: float, population: int = 10_000) -> Scenario:
    calls_per_day = c * rho / service_min * 1440.0
    values = {
        "city.width": 4, "city.height": 4, "city.community_cells": 2,
        "city.precincts_x": 1, "city.precincts_y": 1, "city.population": population,
        "residents.agents": 0, "hazard.deterrence": False, "hazard.near_repeat": False,
        "outcomes.reporting_trust_elasticity": 0.0,
        "incidents.rate_per_1000_day": calls_per_day / population * 1000.0,
        "incidents.daily_amplitude": 0.0,
        "incidents.on_scene_distribution": "exponential",
        "incidents.report_delay_in_progress_min": 0.0,
        "incidents.report_delay_discovered_min": 0.0,
        "dispatch.call_handling_min": 0.0, "dispatch.hops": 0, "dispatch.hop_delay_min": 0.0,
        "dispatch.delay_sigma": 0.0, "dispatch.travel": False, "dispatch.return_to_post": False,
        "police.officers": c, "police.auxiliary_share": 0.0, "police.hq_civilian_share": 0.0,
        "police.admin_share_hq": 0.0,
        "police.admin_share_station": 0.0, "police.admin_share_community": 0.0,
        "police.shifts_per_day": 1, "police.rest_groups": 0,
        **all_priorities(on_scene_mean_min=service_min, report_prob=1.0, sworn_only=False),
    }
    return Scenario().with_overrides(values)


def batch_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and 99.9 % half-width from ``BATCHES`` consecutive batch means."""
    means = np.array([b.mean() for b in np.array_split(values, BATCHES)])
    return float(values.mean()), T_CRIT * float(means.std(ddof=1)) / math.sqrt(BATCHES)


CASES = [
    # (c, rho, on-scene mean in minutes, days, seed)
    (1, 0.5, 10.0, 300, 1),
    (3, 0.67, 10.0, 200, 2),
    (5, 0.8, 10.0, 120, 3),
]


@pytest.fixture(scope="module", params=CASES, ids=[f"c{c}-rho{r}" for c, r, *_ in CASES])
def mmc_run(request):
    c, rho, service, days, seed = request.param
    sc = mmc_scenario(c, rho, service)
    res = run(sc, seed=seed, days=days)
    return c, rho, service, days, res


def waits_after_warmup(res) -> tuple[np.ndarray, object]:
    inc = res.incidents
    served = inc[inc["t_dispatch"].notna() & (inc["t_ready"] >= 1440.0)]
    served = served.sort_values("t_ready", kind="stable")
    return served["queue_wait"].to_numpy(), served


@pytest.mark.slow
def test_calls_are_a_poisson_stream(mmc_run):
    c, rho, service, days, res = mmc_run
    inc = res.incidents
    expected = c * rho / service * 1440.0 * days
    assert abs(len(inc) - expected) < 4 * math.sqrt(expected)
    assert inc["reported"].all()
    assert (inc["t_ready"] == inc["t_occur"]).all()  # no reporting or chain delay
    gaps = np.diff(np.sort(inc["t_ready"].to_numpy()))
    assert gaps.mean() == pytest.approx(service / (c * rho), rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)  # exponential: CV = 1


@pytest.mark.slow
def test_service_is_exponential_with_the_configured_mean(mmc_run):
    _c, _rho, service, _days, res = mmc_run
    on_scene = res.incidents["on_scene"].dropna().to_numpy()
    se = service / math.sqrt(on_scene.size)
    assert abs(on_scene.mean() - service) < 4 * se
    assert on_scene.std() / on_scene.mean() == pytest.approx(1.0, abs=0.05)
    assert (res.incidents["travel_time"].dropna() == 0).all()


@pytest.mark.slow
def test_mean_wait_matches_erlang_c(mmc_run):
    c, rho, service, _days, res = mmc_run
    waits, _ = waits_after_warmup(res)
    a = c * rho
    theory = erlang_c(c, a) * service / (c - a)
    mean, half = batch_ci(waits)
    assert half < 0.3 * theory, "run too short to test anything"
    assert abs(mean - theory) <= half, f"Wq {mean:.3f} +- {half:.3f}, Erlang C {theory:.3f}"


@pytest.mark.slow
def test_probability_of_waiting_matches_erlang_c(mmc_run):
    c, rho, _service, _days, res = mmc_run
    waits, _ = waits_after_warmup(res)
    theory = erlang_c(c, c * rho)
    mean, half = batch_ci((waits > 1e-9).astype(float))
    assert half < 0.1
    assert abs(mean - theory) <= half, f"P(wait) {mean:.4f} +- {half:.4f}, C(c,a) {theory:.4f}"


@pytest.mark.slow
def test_waits_by_priority_match_cobham(mmc_run):
    c, rho, service, _days, res = mmc_run
    waits, served = waits_after_warmup(res)
    shares = np.array([res.scenario.incidents.classes[p].share for p in PRIORITIES])
    sigma = np.concatenate([[0.0], np.cumsum(shares * rho)])
    base = erlang_c(c, c * rho) * service / c
    prio = served["priority"].astype(str).to_numpy()
    means = []
    for k, name in enumerate(PRIORITIES):
        theory = base / ((1 - sigma[k]) * (1 - sigma[k + 1]))
        mean, half = batch_ci(waits[prio == name])
        means.append(mean)
        assert abs(mean - theory) <= half, f"{name}: {mean:.3f} +- {half:.3f} vs {theory:.3f}"
    assert means[0] < means[1] < means[2]


@pytest.mark.slow
def test_utilisation_is_the_offered_load_per_officer(mmc_run):
    _c, rho, _service, _days, res = mmc_run
    assert res.summary["utilization_mean"] == pytest.approx(rho, abs=0.03)
    assert res.summary["queue_wait_mean"] == pytest.approx(
        res.incidents["queue_wait"].mean(), rel=1e-12)
    assert res.summary["incidents_lost"] == 0
