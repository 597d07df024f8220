"""Invariants on small random scenarios (hypothesis): whatever the strategy and parameters,
shares stay in 0..1, times are ordered, every cleared incident was reported and attended,
nobody is dispatched to an unreported incident, and officers are conserved."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import build_model, collect
from sim.scenario import Scenario

STRATEGIES = ("centralized", "station", "community", "grid", "smart", "adaptive")
TIMES = ("t_occur", "t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear")

SETTINGS = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


ANY_OFFICERS = st.integers(0, 30)


@st.composite
def scenarios(draw, officers=ANY_OFFICERS) -> tuple[Scenario, int, int]:
    width = draw(st.integers(3, 10))
    height = draw(st.integers(3, 10))
    community = draw(st.integers(1, max(width, height)))
    overrides = {
        "city.width": width,
        "city.height": height,
        "city.community_cells": community,
        "city.precincts_x": draw(st.integers(1, min(2, -(-width // community)))),
        "city.precincts_y": draw(st.integers(1, min(2, -(-height // community)))),
        "city.population": draw(st.integers(0, 20_000)),
        "city.hotspot_cell_share": draw(st.sampled_from([0.0, 0.05, 0.3])),
        "police.officers": draw(officers),
        "police.auxiliary_share": draw(st.sampled_from([0.0, 0.2, 1.0])),
        "police.shifts_per_day": draw(st.integers(1, 3)),
        "police.rest_groups": draw(st.integers(0, 1)),
        "residents.agents": draw(st.integers(0, 500)),
        "residents.network_k": draw(st.sampled_from([0, 2, 6])),
        "residents.negativity": draw(st.floats(1, 20)),
        "residents.experience_rate": draw(st.floats(0, 1)),
        "outcomes.reporting_trust_elasticity": draw(st.floats(0, 10)),
        "hazard.deterrence": draw(st.booleans()),
        "hazard.near_repeat": draw(st.booleans()),
        "incidents.rate_per_1000_day": draw(st.floats(0, 30)),
        "incidents.classes.routine.report_prob": draw(st.floats(0, 1)),
        "strategy.name": draw(st.sampled_from(STRATEGIES)),
        "strategy.sink_fraction": draw(st.floats(0, 1)),
        "strategy.sink_per_quarter": draw(st.sampled_from([0.0, 0.5])),
        "strategy.community_share": draw(st.floats(0, 1)),
        "strategy.tech": draw(st.booleans()),
        "strategy.rotation_days": draw(st.integers(0, 2)),
        "strategy.eval_period_days": draw(st.integers(1, 2)),
        "dispatch.max_queue": 100_000,
    }
    seed = draw(st.integers(0, 2**31))
    days = draw(st.integers(2, 3))
    return Scenario().with_overrides(overrides), seed, days


def run_it(sc: Scenario, seed: int, days: int):
    model = build_model(sc, seed=seed, days=days)
    model.run_days(days)
    return model, collect(model)


def in_unit(values) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return bool(np.all((v >= 0) & (v <= 1)))


def check_shares(res) -> None:
    s = res.summary
    for key in ("reporting_rate", "clearance_rate", "utilization_mean", "satisfaction_mean",
                "trust_mean", "familiarity_mean"):
        v = s[key]
        assert math.isnan(v) or 0 <= v <= 1, (key, v)
    resid = res.extra["residents"]
    for col in ("satisfaction", "trust", "familiarity"):
        assert in_unit(resid[col]), col
    daily = res.daily
    for col in [c for c in daily.columns if c.startswith("utilization")] + [
            "reporting_rate", "clearance_rate"]:
        assert in_unit(daily[col]), col
    comm = res.communities
    for col in ("reporting_rate", "clearance_rate", "satisfaction", "trust", "familiarity",
                "cooperation"):
        if col in comm:
            assert in_unit(comm[col]), col


def check_incidents(inc: pd.DataFrame, end: float) -> None:
    t = inc[list(TIMES)].to_numpy()
    for a in range(len(TIMES)):
        for b in range(a + 1, len(TIMES)):
            both = ~np.isnan(t[:, a]) & ~np.isnan(t[:, b])
            assert np.all(t[both, a] <= t[both, b] + 1e-9), (TIMES[a], TIMES[b])
    # Stages happen in order: a later stage implies every earlier one.
    for a in range(1, len(TIMES) - 1):
        later = ~np.isnan(t[:, a + 1])
        assert not np.any(later & np.isnan(t[:, a])), TIMES[a]
    assert inc["t_occur"].notna().all()
    rep = inc["reported"]
    # Unreported incidents never reach the dispatcher.
    unrep = inc[~rep]
    for col in ("t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear"):
        assert unrep[col].isna().all(), col
    assert (unrep["officer_id"] == -1).all() and not unrep["cleared"].any()
    assert not unrep["lost"].any()
    # Every cleared incident was reported and attended, and its on-scene time is over.
    cl = inc[inc["cleared"]]
    assert cl["reported"].all()
    assert cl["t_arrive"].notna().all() and (cl["officer_id"] >= 0).all()
    assert (cl["t_clear"] <= end + 1e-9).all()
    # Attended incidents have an officer and a tier; others have none.
    att = inc["t_arrive"].notna()
    assert (inc.loc[att, "officer_id"] >= 0).all()
    assert (inc.loc[att, "officer_tier"] != "").all()
    assert (inc.loc[~inc["t_dispatch"].notna(), "officer_id"] == -1).all()
    # Response time decomposes and is at least the travel time.
    a = inc[att]
    assert (a["travel_time"] >= 0).all()
    assert (a["response_time"] >= a["travel_time"] - 1e-9).all()
    assert (a["dispatch_delay"] >= 0).all() and (a["queue_wait"] >= -1e-9).all()
    np.testing.assert_allclose(a["response_time"],
                               a["dispatch_delay"] + a["queue_wait"] + a["travel_time"],
                               atol=1e-6)
    # Lost calls are reported calls that never got an officer.
    lost = inc[inc["lost"]]
    assert lost["reported"].all() and lost["t_dispatch"].isna().all()


def check_force(model, res) -> None:
    n = model.config.police.officers
    assert model.force.n == n
    assert res.summary["officers"] == n
    officers = res.extra["officers"]
    assert len(officers) == n and officers["officer_id"].is_unique
    tiers = np.bincount(model.force.tier, minlength=3)
    counts = officers["tier"].value_counts()
    assert [int(counts.get(t, 0)) for t in ("hq", "station", "community")] == tiers.tolist()
    alloc = res.extra["allocations"]
    if n:
        init = alloc[alloc["reason"] == "initial"]
        assert sorted(init["officer_index"]) == list(range(n))
        assert set(alloc["officer_index"]) <= set(range(n))
        last = alloc.groupby("officer_index").tail(1).set_index("officer_index").sort_index()
        np.testing.assert_array_equal(last["to_tier"], officers["tier"])
        np.testing.assert_array_equal(last["to_community"], officers["community"])
    # Time accounting: every officer's state minutes add up to the run length.
    minutes = officers[[c for c in officers.columns if c.startswith("minutes_")]].sum(axis=1)
    np.testing.assert_allclose(minutes, model.now, rtol=1e-9, atol=1e-6)


@SETTINGS
@given(scenarios())
def test_invariants_hold_on_random_scenarios(case):
    sc, seed, days = case
    model, res = run_it(sc, seed, days)
    check_shares(res)
    check_incidents(res.incidents, model.now)
    check_force(model, res)
    s = res.summary
    assert s["incidents_true"] == len(res.incidents)
    assert s["incidents_reported"] == int(res.incidents["reported"].sum())
    assert s["incidents_attended"] + s["incidents_en_route"] + s["incidents_unanswered"] + \
        s["incidents_lost"] + s["calls_pending_end"] == s["incidents_reported"]
    assert len(res.extra["residents"]) == sc.residents.agents or sc.city.population == 0


@SETTINGS
@given(scenarios(officers=st.just(0)))
def test_no_officers_means_every_reported_call_unanswered(case):
    sc, seed, days = case
    model, res = run_it(sc, seed, days)
    s = res.summary
    inc = res.incidents
    assert s["officers"] == 0 and len(res.extra["officers"]) == 0
    assert s["incidents_attended"] == 0
    assert inc["t_dispatch"].isna().all() and not inc["cleared"].any()
    assert s["incidents_lost"] == 0
    assert s["incidents_unanswered"] + s["calls_pending_end"] == s["incidents_reported"]
    check_incidents(inc, model.now)
    check_shares(res)
