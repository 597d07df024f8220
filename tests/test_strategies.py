"""Strategies: conservation of officers through every re-posting, the sinking knobs, common
random numbers across strategies, the grid dispatch rule, and stylised facts across seeds
(paired by seed, one-sided paired t-tests at alpha 0.05)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import PLAIN_DISPATCH, SMALL, add_incident, free_everybody, make_model, tiny_scenario
from scipy import stats

from agents.enums import OfficerState, Priority, Tier
from sim.api import build_model, collect, run
from sim.scenario import Scenario
from sim.strategies import available_strategies
from sim.units import QUARTER_DAYS

ALPHA = 0.05
BUILTINS = ("centralized", "station", "community", "grid", "smart", "adaptive")


# A moderately small version of the reference city (16 communities, 4 precincts).
MEDIUM: dict[str, object] = {
    "city.width": 20,
    "city.height": 20,
    "city.community_cells": 5,
    "city.population": 40_000,
    "police.officers": 60,
    "residents.agents": 2_000,
}


def scenario(base: dict[str, object] | None = None, **overrides: object) -> Scenario:
    values = dict(SMALL if base is None else base)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Scenario().with_overrides(values)


def test_builtins_registered():
    known = available_strategies()
    assert set(BUILTINS) <= set(known)
    for name in BUILTINS:
        assert known[name].name == name


# -- unknown names ---------------------------------------------------------------------------
def test_unknown_strategy_name_is_a_value_error():
    sc = scenario(**{"strategy.name": "no_such_strategy"})  # the loader accepts any name
    with pytest.raises(ValueError, match=r"^strategy\.name") as err:
        build_model(sc, seed=1, days=1)
    assert "no_such_strategy" in str(err.value)
    assert "centralized" in str(err.value)  # the message lists the choices
    with pytest.raises(ValueError, match=r"^strategy\.name"):
        run(sc, seed=1, days=1)


# -- conservation ----------------------------------------------------------------------------
def check_force(model) -> None:
    """The force arrays describe n officers, each with one consistent posting."""
    f = model.force
    lay = model.layout
    n = model.config.police.officers
    assert f.n == n and len(model.officers) == n
    assert np.isin(f.tier, [int(t) for t in Tier]).all()
    assert sum(int((f.tier == t).sum()) for t in Tier) == n
    hq, st, cm = (f.tier == Tier.HQ), (f.tier == Tier.STATION), (f.tier == Tier.COMMUNITY)
    assert np.all(f.post_cell[hq] == lay.hq_cell) and np.all(f.area[hq] == 0)
    assert np.all(f.post_cell[st] == lay.station_cells[f.precinct[st]])
    assert np.all(f.area[st] == 1 + f.precinct[st]) and np.all(f.community[st] == -1)
    assert np.all(f.community[cm] >= 0) and np.all(f.community[cm] < lay.n_communities)
    assert np.all(f.post_cell[cm] == lay.community_post_cells[f.community[cm]])
    assert np.all(f.precinct[cm] == lay.precinct_of_community[f.community[cm]])
    assert np.all(f.area < len(model.patrol_areas))
    ids = [o.unique_id for o in model.officers]
    assert len(set(ids)) == n


def check_allocations(alloc: pd.DataFrame, officers: pd.DataFrame, n: int) -> None:
    """Replaying the allocations table from the initial postings gives the final force, and
    every move starts where the officer's previous posting ended."""
    init = alloc[alloc["reason"] == "initial"]
    assert sorted(init["officer_index"]) == list(range(n))
    assert (init["day"] == 0).all()
    assert set(alloc["officer_index"]) == set(range(n))
    assert alloc["officer_id"].isin(officers["officer_id"]).all()
    for i, rows in alloc.groupby("officer_index", sort=True):
        rows = rows.reset_index(drop=True)
        assert rows.loc[0, "reason"] == "initial"
        assert (rows.loc[1:, "reason"] != "initial").all()
        assert rows["day"].is_monotonic_increasing
        prev_tier = rows["to_tier"].shift()[1:]
        prev_comm = rows["to_community"].shift()[1:]
        assert (rows.loc[1:, "from_tier"] == prev_tier).all(), (i, rows)
        assert (rows.loc[1:, "from_community"] == prev_comm).all(), (i, rows)
        last = rows.iloc[-1]
        assert officers.loc[i, "tier"] == last["to_tier"]
        assert officers.loc[i, "community"] == last["to_community"]
        assert officers.loc[i, "precinct"] == last["to_precinct"]


@pytest.mark.parametrize("name", ["community", "grid", "adaptive"])
def test_officers_conserved_through_gradual_sinking_rotation_and_evaluation(name):
    days = 200
    sc = scenario(**{"strategy.name": name, "strategy.sink_fraction": 0.75,
                     "strategy.sink_per_quarter": 0.25, "strategy.rotation_days": 30,
                     "strategy.eval_period_days": 30})
    model = build_model(sc, seed=5, days=days)
    n = sc.police.officers
    n_hq0 = int(round(n * sc.police.share_hq))
    check_force(model)
    for day in range(1, days + 1):
        model.run_days(1)
        check_force(model)
        due = min(0.75, 0.25 * (day // QUARTER_DAYS + 1))
        assert int((model.force.tier == Tier.HQ).sum()) == n_hq0 - round(due * n_hq0), day
    res = collect(model)
    officers = res.extra["officers"]
    alloc = res.extra["allocations"]
    assert len(officers) == n and officers["officer_id"].is_unique
    counts = officers["tier"].value_counts()
    for t in Tier:
        assert counts.get(t.label, 0) == int((model.force.tier == t).sum())
    check_allocations(alloc, officers, n)
    reasons = set(alloc["reason"])
    assert {"initial", "schedule"} <= reasons
    if name in ("community", "adaptive"):
        assert "rotation" in reasons
    if name == "adaptive":
        assert "evaluation" in reasons
    # The schedule steps at the start of each quarter (90 days, sim.units.QUARTER_DAYS).
    sched_days = sorted(set(np.round(alloc.loc[alloc["reason"] == "schedule", "day"], 6)))
    assert sched_days == [90.0, 180.0]
    # Every attended incident was attended by one of these officers.
    attended = res.incidents["officer_id"][res.incidents["officer_id"] >= 0]
    assert attended.isin(officers["officer_id"]).all()
    assert res.summary["officers"] == n


def test_rotation_moves_officers_between_communities():
    sc = scenario(**{"strategy.name": "community", "strategy.rotation_days": 10,
                     "strategy.rotation_share": 0.5})
    model = build_model(sc, seed=2, days=30)
    before = np.bincount(model.force.community[model.force.tier == Tier.COMMUNITY],
                         minlength=model.layout.n_communities)
    model.run_days(30)
    res = collect(model)
    rot = res.extra["allocations"].query("reason == 'rotation'")
    assert len(rot) > 0
    assert (rot["from_tier"] == "community").all() and (rot["to_tier"] == "community").all()
    after = np.bincount(model.force.community[model.force.tier == Tier.COMMUNITY],
                        minlength=model.layout.n_communities)
    # A rotation is a cyclic swap: the number of officers per community does not change.
    np.testing.assert_array_equal(before, after)


# -- the sinking knobs -----------------------------------------------------------------------
def test_sink_fraction_monotone_and_nested():
    n_hq, sunk_sets = [], []
    fractions = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for frac in fractions:
        model = build_model(scenario(**{"strategy.name": "station",
                                        "strategy.sink_fraction": frac}), seed=4, days=1)
        f = model.force
        n_hq.append(int((f.tier == Tier.HQ).sum()))
        sunk_sets.append(set(np.flatnonzero((f.base_tier == Tier.HQ) & (f.tier != Tier.HQ))))
        assert int((f.tier == Tier.COMMUNITY).sum()) == 0
    n_hq0 = int(round(40 * 0.5))
    assert n_hq == [n_hq0 - round(fr * n_hq0) for fr in fractions]
    assert all(a >= b for a, b in itertools.pairwise(n_hq))
    # The same officers move first: a larger fraction moves them plus some more.
    for small_set, big_set in itertools.pairwise(sunk_sets):
        assert small_set <= big_set


def test_centralized_ignores_sink_fraction():
    model = build_model(scenario(**{"strategy.sink_fraction": 1.0}), seed=4, days=1)
    assert int((model.force.tier == Tier.HQ).sum()) == 20


@pytest.mark.parametrize("name", ["community", "grid", "adaptive"])
def test_community_share_sets_community_officers(name):
    counts = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        model = build_model(scenario(**{"strategy.name": name, "strategy.community_share": share,
                                        "strategy.sink_fraction": 0.5}), seed=4, days=1)
        f = model.force
        n_station_before = 20 + 10  # 20 station + 10 sunk HQ officers
        assert int((f.tier == Tier.COMMUNITY).sum()) == round(share * n_station_before)
        assert int((f.tier == Tier.HQ).sum()) == 10
        counts.append(int((f.tier == Tier.COMMUNITY).sum()))
    assert counts == sorted(counts)


def test_equipment_follows_switch():
    for follows in (True, False):
        model = build_model(scenario(**{"strategy.name": "community",
                                        "strategy.equipment_follows": follows}),
                            seed=4, days=1)
        f = model.force
        sunk = f.tier > f.base_tier
        assert sunk.any()
        if follows:
            assert f.vehicle[sunk].mean() > 0.5  # they keep their HQ/station cars
        else:
            assert not f.vehicle[sunk].any()


@pytest.mark.parametrize("name,tech,hops", [
    ("centralized", False, 2), ("station", False, 1), ("community", False, 1),
    ("grid", False, 1), ("adaptive", False, 1), ("smart", False, 0), ("centralized", True, 0),
    ("community", True, 0),
])
def test_chain_delay_matches_hops_and_handling(name, tech, hops):
    sc = scenario(**{"strategy.name": name, "strategy.tech": tech, "dispatch.delay_sigma": 0.0})
    res = run(sc, seed=3, days=2)
    d = sc.dispatch
    factor = sc.strategy.tech_handling_factor if (tech or name == "smart") else 1.0
    expected = d.call_handling_min * factor + hops * d.hop_delay_min
    delay = res.incidents.loc[res.incidents["reported"], "dispatch_delay"]
    np.testing.assert_allclose(delay, expected)


# -- common random numbers -------------------------------------------------------------------
PAIRED = {"hazard.deterrence": False, "hazard.near_repeat": False}


@pytest.mark.parametrize("elasticity", [0.0, 1.0])
def test_strategies_see_the_same_incident_stream(elasticity):
    key = ["t_occur", "x", "y", "priority", "in_progress", "victim"]
    tables = {}
    for name in BUILTINS:
        sc = scenario(**PAIRED, **{"strategy.name": name,
                                   "outcomes.reporting_trust_elasticity": elasticity})
        tables[name] = run(sc, seed=9, days=20).incidents
    ref = tables["centralized"]
    assert len(ref) > 500
    for name, inc in tables.items():
        assert len(inc) == len(ref), name
        pd.testing.assert_frame_equal(inc[key], ref[key], obj=name)
        if elasticity == 0:
            # Reporting does not depend on trust: the very same calls are made.
            pd.testing.assert_series_equal(inc["reported"], ref["reported"], obj=name)
            pd.testing.assert_series_equal(inc["t_report"], ref["t_report"], obj=name)
    if elasticity > 0:
        # Strategies move trust, so some reporting decisions differ (otherwise the
        # trust-reporting link would be dead).
        assert any(not inc["reported"].equals(ref["reported"]) for inc in tables.values())


# -- grid dispatch ---------------------------------------------------------------------------
def grid_model(**overrides):
    values = {**PLAIN_DISPATCH, "incidents.rate_per_1000_day": 0.0,
              "hazard.near_repeat": False, "hazard.deterrence": False,
              "police.officers": 12, "strategy.name": "grid"}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    model = make_model(tiny_scenario(values))
    free_everybody(model)
    model.force.sworn[:] = True
    return model


def grid_cells(model, officer: int) -> np.ndarray:
    s = model.strategy
    return np.flatnonzero(s.grid_of_cell == model.force.area[officer] - s.first_area)


def test_grid_officer_takes_routine_calls_in_own_grid_when_free():
    model = grid_model()
    f = model.force
    grid_officers = np.flatnonzero(f.tier == Tier.COMMUNITY)
    assert grid_officers.size >= 2
    checked = 0
    for g in grid_officers:
        for cell in grid_cells(model, g):
            row = add_incident(model, int(cell), Priority.ROUTINE)
            got = model.dispatcher.nearest_officer(row, int(cell))
            assert got == g, (g, int(cell), got)
            checked += 1
    assert checked > grid_officers.size


def test_grid_fallback_when_grid_officer_busy():
    for fallback in (True, False):
        model = grid_model(**{"strategy.grid_fallback": fallback})
        f = model.force
        g = int(np.flatnonzero(f.tier == Tier.COMMUNITY)[0])
        f.set_state(g, OfficerState.ON_SCENE, model.now)
        cell = int(grid_cells(model, g)[0])
        row = add_incident(model, cell, Priority.ROUTINE)
        got = model.dispatcher.nearest_officer(row, cell)
        if fallback:
            assert got is not None and f.tier[got] != Tier.COMMUNITY and f.vehicle[got]
        else:
            assert got is None


def test_grid_urgent_and_emergency_never_go_to_grid_officers():
    model = grid_model()
    f = model.force
    g = np.flatnonzero(f.tier == Tier.COMMUNITY)
    cell = int(grid_cells(model, int(g[0]))[0])
    for prio in (Priority.EMERGENCY, Priority.URGENT):
        got = model.dispatcher.nearest_officer(add_incident(model, cell, prio), cell)
        assert got is not None and f.tier[got] != Tier.COMMUNITY
    # With every other unit busy, the call waits rather than go to a free grid officer.
    others = np.flatnonzero(f.tier != Tier.COMMUNITY)
    f.set_states(others, int(OfficerState.ON_SCENE), model.now)
    for prio in (Priority.EMERGENCY, Priority.URGENT):
        assert model.dispatcher.nearest_officer(add_incident(model, cell, prio), cell) is None
    got = model.dispatcher.nearest_officer(add_incident(model, cell, Priority.ROUTINE), cell)
    assert got is not None and f.tier[got] == Tier.COMMUNITY


def test_grid_run_respects_tiers_and_grids():
    model = build_model(scenario(**{"strategy.name": "grid"}), seed=6, days=30)
    model.run_days(30)
    res = collect(model)
    inc = res.incidents[res.incidents["t_arrive"].notna()]
    f = model.force
    s = model.strategy
    by_grid_officer = inc["officer_tier"] == "community"
    assert by_grid_officer.any()
    assert not (by_grid_officer & (inc["priority"] != "routine")).any()
    index_of = {o.unique_id: o.index for o in model.officers}
    rows = inc[by_grid_officer]
    officer_grid = np.array([f.area[index_of[i]] - s.first_area for i in rows["officer_id"]])
    cells = rows["x"].to_numpy() * model.layout.height + rows["y"].to_numpy()
    np.testing.assert_array_equal(officer_grid, s.grid_of_cell[cells])


# -- stylised facts across seeds -------------------------------------------------------------
SEEDS = list(range(201, 207))


def summaries(name: str, days: int, seeds=SEEDS, base=None, **overrides) -> list[dict]:
    sc = scenario(MEDIUM if base is None else base, **{"strategy.name": name, **overrides})
    return [run(sc, seed=seed, days=days).summary for seed in seeds]


def paired_less(a: list[dict], b: list[dict], key: str) -> tuple[float, float]:
    """One-sided paired t-test that ``a[key] < b[key]``: returns (mean difference, p)."""
    x = np.array([s[key] for s in a])
    y = np.array([s[key] for s in b])
    t = stats.ttest_rel(x, y, alternative="less")
    return float(np.mean(x - y)), float(t.pvalue)


@pytest.fixture(scope="module")
def medium_runs() -> dict[str, list[dict]]:
    return {
        "centralized": summaries("centralized", 45),
        "station": summaries("station", 45),
        "community": summaries("community", 45),
        "smart": summaries("smart", 45),
        "community_tech": summaries("community", 45, **{"strategy.tech": True}),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["station", "community"])
def test_sinking_shortens_travel(medium_runs, name):
    diff, p = paired_less(medium_runs[name], medium_runs["centralized"], "travel_time_mean")
    print(f"travel time {name} - centralized: {diff:+.3f} min, p={p:.2g}")
    assert p < ALPHA and diff < 0


@pytest.mark.slow
@pytest.mark.parametrize("name,ref", [("smart", "centralized"), ("community_tech", "community"),
                                      ("station", "centralized")])
def test_shorter_chain_lowers_dispatch_delay(medium_runs, name, ref):
    diff, p = paired_less(medium_runs[name], medium_runs[ref], "dispatch_delay_mean")
    print(f"dispatch delay {name} - {ref}: {diff:+.3f} min, p={p:.2g}")
    assert p < ALPHA and diff < -1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["station", "community", "smart"])
def test_response_time_falls_with_sinking_or_tech(medium_runs, name):
    diff, p = paired_less(medium_runs[name], medium_runs["centralized"], "response_time_mean")
    print(f"response time {name} - centralized: {diff:+.3f} min, p={p:.2g}")
    assert p < ALPHA and diff < 0


def community_rt_spread(res, start_day: float) -> float:
    """Std across communities of the mean response time of calls answered after
    ``start_day`` (the first evaluation)."""
    inc = res.incidents
    late = inc[inc["t_arrive"] >= start_day * 1440.0]
    return float(late.groupby("community")["response_time"].mean().std())


@pytest.mark.slow
def test_adaptive_narrows_the_gap_between_communities():
    """Hypothesis: with evaluations every 30 days over 120 days, adaptive re-allocation lowers
    the spread (std) across communities of the mean response time after the first evaluation,
    compared with community policing without adaptation (paired by seed).

    16 seeds: with 8 (seeds 301-308) the effect was in this direction in both model versions
    tried, but the second time short of significance (-0.24 min, p = 0.12), so the design was
    enlarged once, to fresh seeds, before looking at them."""
    seeds = list(range(401, 417))
    spreads = {}
    for name in ("community", "adaptive"):
        sc = scenario(MEDIUM, **{"strategy.name": name, "strategy.eval_period_days": 30})
        spreads[name] = []
        for seed in seeds:
            res = run(sc, seed=seed, days=120)
            spreads[name].append(community_rt_spread(res, 30))
            if name == "adaptive":
                assert (res.extra["allocations"]["reason"] == "evaluation").any()
    a, c = np.array(spreads["adaptive"]), np.array(spreads["community"])
    t = stats.ttest_rel(a, c, alternative="less")
    print(f"community RT spread: adaptive {a.mean():.3f} vs community {c.mean():.3f} "
          f"(diff {np.mean(a - c):+.3f}, t={t.statistic:.2f}, p={t.pvalue:.3g})")
    assert t.pvalue < ALPHA, (
        f"adaptive re-allocation did not narrow the spread of community response times: "
        f"adaptive {a.mean():.3f} vs community {c.mean():.3f} min, p={t.pvalue:.3g}")
