"""The sinking-plan optimiser: the plan strategy, the spec, the search, the front, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.optimize import OptimizeError, OptimizeStore, pareto_front, search
from experiments.optimize_report import paired, winners
from experiments.optimize_spec import SpecError, load_optimize_spec
from sim.api import build_model
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"city.width": 16, "city.height": 16, "city.community_cells": 8, "city.precincts_x": 2,
         "city.precincts_y": 1, "police.officers": 40, "residents.agents": 200,
         "incidents.rate_per_1000_day": 1.5}


def _tiny(**over: object) -> dict:
    spec = {"name": "tiny", "base": "default", "days": 2, "replications": 2, "plans": 8,
            "population": 4, "set": dict(SMALL),
            "variables": {"station_min": 1, "station_max": 12, "community_max": 1, "min_hq": 4},
            "check": {"replications": 2, "plans": 2, "strategies": ["centralized", "station"]}}
    spec.update(over)
    return spec


def _plan_model(stations: str, communities: str = "", **extra: object):
    sc = Scenario().with_overrides({**SMALL, "strategy.name": "plan",
                                    "strategy.plan_stations": stations,
                                    "strategy.plan_communities": communities, **extra})
    return build_model(sc, days=1)


# -- the plan strategy --------------------------------------------------------------------------
def test_plan_posts_exact_counts() -> None:
    m = _plan_model("7,5", "1,0,2,0")
    f = m.force
    assert np.bincount(f.precinct[f.tier == 1], minlength=2).tolist() == [7, 5]
    assert np.bincount(f.community[f.tier == 2], minlength=4).tolist() == [1, 0, 2, 0]
    assert int((f.tier == 0).sum()) == 40 - 15
    assert m.strategy.describe()["plan_stations"] == "7,5"


def test_plan_keeps_station_officers_in_place() -> None:
    """Officers already at a station stay there while the plan still needs them."""
    base = _plan_model("", "")  # empty plan: the configured station staffing, no posts
    f0 = base.force
    planned = _plan_model(",".join(str(int(c)) for c in
                                   np.bincount(f0.precinct[f0.tier == 1], minlength=2)))
    assert np.array_equal(planned.force.tier, f0.tier)
    assert np.array_equal(planned.force.post_cell, f0.post_cell)


@pytest.mark.parametrize(("stations", "communities", "message"), [
    ("7", "", r"strategy\.plan_stations: needs 2 comma-separated counts"),
    ("7,x", "", r"strategy\.plan_stations: entry 2 is 'x'"),
    ("7,-1", "", r"strategy\.plan_stations: entry 2"),
    ("7,5", "1,1", r"strategy\.plan_communities: needs 4"),
    ("30,30", "", r"strategy\.plan_stations: the plan posts 60 officers below HQ, but only"),
])
def test_plan_errors_name_the_field(stations: str, communities: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _plan_model(stations, communities)


# -- the spec -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    ({"colour": 1}, r"^colour: unknown key"),
    ({"objectives": ["no_such"]}, r"^objectives: 'no_such' is not a summary indicator"),
    ({"objectives": ["incidents_true"]}, r"^objectives: 'incidents_true' has no better"),
    ({"variables": {"station_min": 5, "station_max": 2}}, r"^variables\.station_max: must be"),
    ({"variables": {"tech": 1}}, r"^variables\.tech: expected true or false"),
    ({"population": 2}, r"^population: must be >= 4"),
    ({"check": {"strategies": ["nope"]}}, r"^check\.strategies"),
    ({"check": {"seed": 7}, "seed": 7}, r"^check\.seed: must differ"),
])
def test_spec_errors_are_one_line(change: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        load_optimize_spec(_tiny(**change))
    assert "\n" not in str(info.value)


def test_quick_shrinks_the_budget() -> None:
    spec = load_optimize_spec(ROOT / "experiments" / "optimize_default.toml", quick=True)
    assert spec.name == "optimize_default-quick"
    assert spec.plans < 100 and spec.check.replications == 4


# -- the front ------------------------------------------------------------------------------------
def test_pareto_front_keeps_only_non_dominated_feasible_plans() -> None:
    spec = load_optimize_spec(_tiny(objectives=["response_time_mean", "satisfaction_mean"]))
    trials = pd.DataFrame({
        "plan": ["a", "b", "c", "d", "e"], "station_0": [1, 2, 3, 4, 5],
        "response_time_mean": [5.0, 6.0, 4.0, 4.0, 7.0],
        "satisfaction_mean": [0.6, 0.7, 0.5, 0.8, 0.9],
        "feasible": [True, True, True, False, True]})
    # d dominates everything but is infeasible; a is dominated by nothing feasible? c is
    # faster, b and e are more satisfying: a stays; nothing dominates b, c or e either.
    assert sorted(pareto_front(trials, spec)["plan"]) == ["a", "b", "c", "e"]
    trials.loc[0, "response_time_mean"] = 6.5  # now b dominates a
    assert sorted(pareto_front(trials, spec)["plan"]) == ["b", "c", "e"]


def test_winners_need_every_strategy_beaten_and_nothing_worse() -> None:
    spec = load_optimize_spec(_tiny(objectives=["response_time_mean", "satisfaction_mean"]))
    rng = np.random.default_rng(1)
    rows = []
    for key, rt, sat in (("p", 5.0, 0.60), ("q", 5.0, 0.40), ("centralized", 9.0, 0.6),
                         ("station", 6.0, 0.6)):
        for r in range(8):
            rows.append({"key": key, "rep": r, "response_time_mean": rt + rng.normal(0, .1),
                         "satisfaction_mean": sat + rng.normal(0, .01)})
    pairs = paired(pd.DataFrame(rows), spec, ["p", "q"])
    assert winners(pairs, spec) == ["p"]  # q is faster but less satisfying


# -- the search -----------------------------------------------------------------------------------
def test_search_is_deterministic_resumable_and_worker_independent(tmp_path: Path) -> None:
    spec = load_optimize_spec(_tiny())
    a = search(spec, OptimizeStore.open(tmp_path / "a", spec, False, False), workers=1)
    b = search(spec, OptimizeStore.open(tmp_path / "b", spec, False, False), workers=2)
    cols = [c for c in a.columns if c != "system_attrs"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert len(a) == 8 and a["generation"].tolist() == [0] * 4 + [1] * 4
    # Stop after one generation, then resume: the same plans as the uninterrupted search.
    half = load_optimize_spec(_tiny(plans=4))
    store = OptimizeStore.open(tmp_path / "c", half, False, False)
    search(half, store, workers=1)
    assert store.finished() == [0]
    resumed = search(spec, OptimizeStore.open(tmp_path / "c", spec, True, False), workers=1)
    pd.testing.assert_frame_equal(resumed[cols], a[cols])


def test_store_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    spec = load_optimize_spec(_tiny())
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OptimizeError, match=r"^--out: .* was not written by grassroots"):
        OptimizeStore.open(tmp_path / "mine", spec, False, True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    OptimizeStore.open(tmp_path / "s", spec, False, False)
    with pytest.raises(OptimizeError, match=r"use --resume to continue it or --force"):
        OptimizeStore.open(tmp_path / "s", spec, False, False)
    other = load_optimize_spec(_tiny(seed=99))
    with pytest.raises(OptimizeError, match=r"^--resume: .* holds a different search"):
        OptimizeStore.open(tmp_path / "s", other, True, False)


@pytest.mark.timeout(600)
def test_cli_writes_front_plans_and_report_that_reproduce(tmp_path: Path) -> None:
    spec_file = tmp_path / "tiny.toml"
    import tomli_w

    spec_file.write_text(tomli_w.dumps(_tiny()))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "optimize", str(spec_file), "--out",
           str(out), "--workers", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    front = pd.read_parquet(out / "front.parquet")
    assert len(front) >= 1 and "response_time_mean" in front.columns
    assert (out / "report.md").read_text().count("## Verdict") == 1
    assert (out / "figures" / "front.png").stat().st_size > 0
    check = pd.read_parquet(out / "check.parquet")
    assert set(check["key"]) >= {"centralized", "station"}
    # A plan file reproduces the search's replications exactly.
    row = front.iloc[0]
    values = []
    for rep in range(2):
        run = subprocess.run([sys.executable, "-m", "experiments.cli", "run",
                              str(out / row["plan_file"]), "--spawn-key", str(rep), "--out",
                              str(tmp_path / f"r{rep}")], capture_output=True, text=True,
                             cwd=ROOT, timeout=300)
        assert run.returncode == 0, run.stderr
        values.append(json.loads((tmp_path / f"r{rep}" / "summary.json").read_text())
                      ["response_time_mean"])
    assert np.mean(values) == pytest.approx(row["response_time_mean"], rel=0, abs=1e-12)
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert again.returncode == 2 and again.stderr.startswith("error: --out: ")
    assert again.stderr.count("\n") == 1


def test_plan_shifts_fix_each_officer_to_a_weighted_shift() -> None:
    m = _plan_model("7,5", "", **{"strategy.plan_shifts": "1,2,1"})
    f = m.force
    assert np.bincount(f.fixed_shift, minlength=3).tolist() == [10, 20, 10]
    groups = m.config.police.shifts_per_day + m.config.police.rest_groups
    for hour in range(0, 24 * groups, 4):
        on = f.on_duty_at(hour)
        assert (f.fixed_shift[on] == (hour % 24) * 3 // 24).all()  # only that hour's shift
    # Every officer works shifts_per_day days of every shifts_per_day + rest_groups days.
    days = np.array([f.on_duty_at(24 * d + 8 * f.fixed_shift) for d in range(groups)])
    worked = np.array([[days[d][i] for d in range(groups)] for i in range(f.n)])
    assert (worked.sum(axis=1) == m.config.police.shifts_per_day).all()
    with pytest.raises(ValueError, match=r"^strategy\.plan_shifts: needs 3"):
        _plan_model("7,5", "", **{"strategy.plan_shifts": "1,2"})


def test_shift_variables_reach_the_plan() -> None:
    from experiments.optimize import CityShape, distributions, hq_officers, plan_overrides

    spec = load_optimize_spec(_tiny(variables={"shifts": True, "community_max": 0}))
    shape = CityShape(("0", "1"), ("0", "1", "2", "3"), 40)
    dists = distributions(shape, spec)
    assert sorted(dists) == ["shift_0", "shift_1", "shift_2", "station_0", "station_1"]
    params = {"station_0": 5, "station_1": 6, "shift_0": 1, "shift_1": 4, "shift_2": 2}
    assert plan_overrides(params, shape)["strategy.plan_shifts"] == "1,4,2"
    assert hq_officers(params, shape) == 29
