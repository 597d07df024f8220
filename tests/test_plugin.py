"""The worked plug-in example (docs/plugin_example.py): imported by path, registered, run
through the public API, from a scenario file, and discovered through an entry point."""

from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from agents.enums import OfficerState, Tier
from sim.api import build_model, collect, run
from sim.scenario import Scenario, load_scenario
from sim.strategies import Strategy, available_strategies, register_strategy
from sim.strategies import registry as registry_module

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "plugin_example.py"
NAME = "hotspot_teams"

SMALL = {
    "city.width": 16,
    "city.height": 16,
    "city.community_cells": 4,
    "city.population": 20_000,
    "police.officers": 40,
    "residents.agents": 1_000,
}


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the strategy registry, so the plug-in does not leak into other
    tests."""
    registry_module.available_strategies()  # the built-ins are in the registry we copy
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))
    return registry_module._REGISTRY


def import_example(module_name: str = "grassroots_plugin_example"):
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def plugin(registry):
    module = import_example()
    assert register_strategy(module.HotspotTeams) is module.HotspotTeams
    return module.HotspotTeams


def small(**overrides) -> Scenario:
    return Scenario().with_overrides({**SMALL, "strategy.name": NAME, **overrides})


def test_registered_and_listed(plugin):
    assert issubclass(plugin, Strategy)
    assert plugin.name == NAME and plugin.description
    known = available_strategies()
    assert known[NAME] is plugin
    assert {"centralized", "station", "community"} <= set(known)


def test_not_known_without_registration(registry):
    registry.pop(NAME, None)
    with pytest.raises(ValueError, match=r"^strategy\.name"):
        build_model(small(), seed=1, days=1)


def test_runs_through_the_api(plugin):
    res = run(small(), seed=3, days=10)
    s = res.summary
    assert s["strategy"] == NAME
    assert s["officers"] == 40 and len(res.extra["officers"]) == 40
    assert s["incidents_attended"] > 0
    assert 0 <= s["reporting_rate"] <= 1
    # Station sinking: half of the 20 HQ officers went to the stations.
    tiers = res.extra["officers"]["tier"].value_counts()
    assert tiers["hq"] == 10 and tiers["station"] == 30 and "community" not in tiers


def test_teams_patrol_only_their_hot_spots(plugin):
    model = build_model(small(), seed=4, days=3)
    strat = model.strategy
    assert isinstance(strat, plugin)
    f = model.force
    team = np.flatnonzero(strat.is_team(model, np.arange(f.n)))
    station = np.flatnonzero(f.tier == Tier.STATION)
    assert team.size == round(strat.team_share * station.size)
    assert np.all(f.tier[team] == Tier.STATION)
    lay = model.layout
    for p in range(lay.n_precincts):
        cells = model.patrol_areas[strat.first_area + p]
        assert np.all(lay.precinct[cells] == p)
        # The hot spots are the precinct's highest-risk cells.
        rest = np.setdiff1d(np.flatnonzero(lay.precinct == p), cells)
        assert lay.risk[cells].min() >= lay.risk[rest].max()
    seen_patrol = 0
    for hour in range(1, 72):
        model.run_until(hour)
        patrolling = team[f.state[team] == OfficerState.PATROL]
        for i in patrolling.tolist():
            assert f.pos[i] in model.patrol_areas[int(f.area[i])], (hour, i)
        seen_patrol += patrolling.size
    assert seen_patrol > 0
    # Team officers answered calls only from their own precinct.
    inc = collect(model).incidents
    index_of = {o.unique_id: o.index for o in model.officers}
    by_team = inc[inc["officer_id"].map(lambda u: index_of.get(u, -1)).isin(team)]
    officer_precinct = f.precinct[[index_of[u] for u in by_team["officer_id"]]]
    np.testing.assert_array_equal(officer_precinct, by_team["precinct"])


def test_hot_spots_are_re_ranked_without_reposting(plugin):
    model = build_model(small(), seed=5, days=30)
    strat = model.strategy
    before = [model.patrol_areas[strat.first_area + p].copy()
              for p in range(model.layout.n_precincts)]
    model.run_days(30)
    res = collect(model)
    after = [model.patrol_areas[strat.first_area + p] for p in range(model.layout.n_precincts)]
    assert [a.size for a in after] == [b.size for b in before]
    assert any(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))
    assert (res.extra["allocations"]["reason"] == "initial").all()
    # The patrol CDF still draws only from each hot-spot area.
    rng = np.random.default_rng(0)
    for p, cells in enumerate(after):
        draws = model.patrol.draw(np.full(500, strat.first_area + p), rng.random(500))
        assert np.isin(draws, cells).all()


def test_scenario_file_names_the_plugin(plugin, tmp_path):
    path = tmp_path / "hotspot.toml"
    path.write_text(
        '[run]\nname = "hotspot"\ndays = 2\n\n[strategy]\nname = "hotspot_teams"\n'
        "sink_fraction = 1.0\n"
    )
    sc = load_scenario(path, [f"{k}={v}" for k, v in SMALL.items()])
    assert sc.strategy.name == NAME
    res = run(sc, seed=2)
    assert res.summary["strategy"] == NAME and res.summary["days"] == 2
    assert (res.extra["officers"]["tier"] == "station").all()  # everybody sank


def test_entry_point_discovery(registry, monkeypatch):
    """A package declaring ``[project.entry-points."grassroots.strategies"]`` is found by
    name without any import in the user's code."""
    registry.pop(NAME, None)
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    monkeypatch.delitem(sys.modules, "plugin_example", raising=False)
    ep = EntryPoint(name=NAME, value="plugin_example:HotspotTeams",
                    group=registry_module.ENTRY_POINT_GROUP)

    def fake_entry_points(group=None):
        return [ep] if group == registry_module.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    known = available_strategies()
    assert NAME in known and known[NAME].__name__ == "HotspotTeams"
    res = run(small(), seed=1, days=2)
    assert res.summary["strategy"] == NAME
    monkeypatch.delitem(sys.modules, "plugin_example", raising=False)
