"""Demand from real records: classes, recorded times, background demand, horizon, geo cities."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import build_model, run
from sim.calls import DataError, load_calls
from sim.city import CityLayout
from sim.datafile import DataWarning
from sim.geo import Frame
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"city.width": 8, "city.height": 8, "city.community_cells": 4, "city.cell_size_m": 100.0,
         "police.officers": 20, "residents.agents": 200, "hazard.deterrence": False}
FIVE = """
[incidents]
class_order = ["emergency", "urgent", "traffic", "routine", "admin"]
[incidents.classes.emergency]
share = 0.1
[incidents.classes.urgent]
share = 0.2
[incidents.classes.traffic]
share = 0.2
codes = ["3"]
[incidents.classes.routine]
share = 0.4
codes = ["4"]
[incidents.classes.admin]
share = 0.1
codes = ["5"]
"""


def write(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def call(day: int, hour: int = 10, code: object = "1", **extra: object) -> dict:
    """One call at (150 m, 250 m): cell (1, 2) of the small city."""
    when = pd.Timestamp("2025-01-01") + pd.Timedelta(days=day, hours=hour)
    return {"timestamp": when.isoformat(), "x": 150, "y": 250, "priority": code, **extra}


def scenario(path: Path, **extra: object):
    return load_scenario(None, {**SMALL, "data.calls_file": str(path), **extra})


# -- classes --------------------------------------------------------------------------------
def test_five_classes_map_codes_one_to_five(tmp_path):
    path = write(tmp_path / "c.csv", [call(0, h, code=h % 5 + 1) for h in range(10)])
    toml = tmp_path / "five.toml"
    toml.write_text(f'{FIVE}\n[data]\ncalls_file = "{path.name}"\n', encoding="utf-8")
    sc = load_scenario(str(toml), SMALL)
    calls = load_calls(sc.data, sc.city, sc.incidents)
    # codes 1, 2 are the default codes of emergency and urgent; 3, 4, 5 are given above
    np.testing.assert_array_equal(calls.priority, [h % 5 for h in range(10)])
    result = run(sc, days=1)
    assert list(result.incidents["priority"].cat.categories) == list(sc.incidents.names)
    assert result.incidents["priority"].value_counts().to_dict() == dict.fromkeys(
        sc.incidents.names, 2)
    assert "response_time_mean_admin" in result.summary


def test_unknown_codes_are_dropped_or_given_the_unknown_class(tmp_path):
    path = write(tmp_path / "c.csv", [call(0, 1, "1"), call(0, 2, "9"), call(0, 3, "X"),
                                      call(0, 4, "3")])
    sc = scenario(path)
    dropped = load_calls(sc.data, sc.city, sc.incidents)
    assert dropped.minute.size == 2 and dropped.dropped["unknown priority"] == 2
    with pytest.warns(DataWarning, match=r"^data.calls_file: 2 of 4 rows dropped \(unknown "
                      r"priority: 2\)$"):
        assert run(sc, days=1).summary["calls_dropped_unknown_priority"] == 2
    mapped_sc = scenario(path, **{"data.unknown_class": "routine"})
    mapped = load_calls(mapped_sc.data, mapped_sc.city, mapped_sc.incidents)
    np.testing.assert_array_equal(mapped.priority, [0, 2, 2, 2])
    assert mapped.dropped["unknown priority"] == 0
    summary = run(mapped_sc, days=1).summary
    assert summary["calls_unknown_class"] == 2 and summary["calls_used"] == 4


def test_unknown_class_must_be_a_class(tmp_path):
    sc = scenario(write(tmp_path / "c.csv", [call(0)]), **{"data.unknown_class": "nope"})
    with pytest.raises(DataError, match=r"^data.unknown_class: 'nope' is not an incident class"):
        load_calls(sc.data, sc.city, sc.incidents)


# -- recorded times -------------------------------------------------------------------------
def recorded_run(tmp_path: Path, days: int = 3):
    rows = [call(0, handling=7.0, scene=33.0, travel=4.0), call(1, handling="", scene="",
                                                                  travel=""),
            call(2, handling="abc", scene=-5, travel=1e9)]
    sc = scenario(write(tmp_path / "c.csv", rows), **{
        "data.col_handling": "handling", "data.col_on_scene": "scene",
        "data.col_travel": "travel"})
    with pytest.warns(DataWarning) as told:
        model = build_model(sc, days=days)
    assert sorted(str(w.message).split(":")[0] for w in told) == [
        "data.col_handling", "data.col_on_scene", "data.col_travel"]
    assert str(told[0].message) == (
        "data.col_handling: 1 of 3 calls have a handling time that is not usable (not a "
        "number or time, negative, or above data.max_recorded_min = 1440 min), read as missing")
    model.run_days(days)
    from sim.api import collect

    return model, collect(model)


def test_recorded_handling_and_on_scene_are_used_exactly(tmp_path):
    _, result = recorded_run(tmp_path)
    first = result.incidents.iloc[0]
    assert first["t_dispatch"] == first["t_occur"] + 7.0  # an officer was free
    assert first["t_clear"] == first["t_arrive"] + 33.0
    assert first["rec_handling"] == 7.0 and first["rec_on_scene"] == 33.0
    assert first["rec_travel"] == 4.0
    assert first["rec_response"] == 11.0  # handling + travel when no response column


def test_missing_and_bad_recorded_times_fall_back_to_the_model(tmp_path):
    model, result = recorded_run(tmp_path)
    inc = result.incidents
    for k in (1, 2):  # blank, then bad ("abc", negative, absurd): the model's own draws
        row = inc.iloc[k]
        assert np.isnan(row["rec_handling"]) and np.isnan(row["rec_on_scene"])
        z = model.log.get("z_chain", np.array([k]))
        chain = model.dispatcher.chain_delay(np.array([0]), z)[0]
        assert row["dispatch_delay"] == pytest.approx(chain, rel=1e-12)
        scene = model.process.on_scene_minutes(0, float(model.log.get("z_scene", k)))
        assert row["on_scene"] == pytest.approx(scene, rel=1e-12)
    s = result.summary
    assert (s["calls_rec_handling"], s["calls_rec_handling_bad"]) == (1, 1)
    assert (s["calls_rec_on_scene"], s["calls_rec_on_scene_bad"]) == (1, 1)
    assert (s["calls_rec_travel"], s["calls_rec_travel_bad"]) == (1, 1)


def test_times_are_derived_from_timestamp_columns(tmp_path):
    def stamp(day: int, minute: float) -> str:
        return (pd.Timestamp(f"2025-01-{1 + day:02d}T10:00:00")
                + pd.Timedelta(minutes=minute)).isoformat()

    rows = [call(0, dispatched=stamp(0, 2.5), arrived=stamp(0, 10.0), cleared=stamp(0, 40.0)),
            call(1, dispatched=stamp(1, -1.0), arrived="", cleared=stamp(1, 30.0)),
            call(2, dispatched="garbage", arrived=stamp(2, 3000.0), cleared=stamp(2, 3001.0))]
    sc = scenario(write(tmp_path / "c.csv", rows), **{
        "data.col_dispatched": "dispatched", "data.col_arrived": "arrived",
        "data.col_cleared": "cleared"})
    calls = load_calls(sc.data, sc.city, sc.incidents)
    rec = {k: calls.recorded[k].tolist() for k in calls.recorded}
    nan = float("nan")
    np.testing.assert_allclose(rec["handling"], [2.5, nan, nan])  # negative, unparseable
    np.testing.assert_allclose(rec["travel"], [7.5, nan, nan])  # no arrival; bad dispatch
    np.testing.assert_allclose(rec["on_scene"], [30.0, nan, 1.0])
    np.testing.assert_allclose(rec["response"], [10.0, nan, nan])  # 3000 min > one day
    assert calls.bad["handling"].tolist() == [False, True, True]
    assert calls.bad["travel"].tolist() == [False, False, True]
    assert calls.bad["response"].tolist() == [False, False, True]
    np.testing.assert_allclose(calls.response, rec["response"])


def test_a_timestamp_column_with_other_offsets_than_the_calls_is_one_line(tmp_path):
    rows = [call(0, dispatched="2025-01-01T10:05:00+01:00")]
    sc = scenario(write(tmp_path / "c.csv", rows), **{"data.col_dispatched": "dispatched"})
    with pytest.raises(DataError, match=r"^data.col_dispatched: .*UTC offset"):
        load_calls(sc.data, sc.city, sc.incidents)


def test_a_duration_column_without_any_usable_value_is_an_error(tmp_path):
    sc = scenario(write(tmp_path / "c.csv", [call(0, scene=-1), call(1, scene="")]),
                  **{"data.col_on_scene": "scene"})
    with pytest.raises(DataError, match=r"^data.col_on_scene: .*no usable on_scene time"):
        load_calls(sc.data, sc.city, sc.incidents)


# -- background demand ----------------------------------------------------------------------
def background_scenario(tmp_path: Path, kind: str, days: int = 60):
    rows = [call(d, h, code) for d in range(days)
            for h, code in ((3, "1"), (9, "2"), (15, "1"), (21, "2"))]
    return scenario(write(tmp_path / "c.csv", rows), **{"data.background": kind})


def test_synthetic_background_adds_the_missing_class_at_its_rate(tmp_path):
    sc = background_scenario(tmp_path, "synthetic")
    result = run(sc, days=60)
    inc = result.incidents
    background = inc[inc["source"] == "background"]
    assert set(background["priority"]) == {"routine"}  # the class the data lack
    model = build_model(sc, days=60)
    share = sc.incidents.classes["routine"].share
    expected = 60 * sc.incidents.rate_per_1000_day * model.layout.population.sum() / 1000 * share
    assert model.process.background.daily_mean * 60 == pytest.approx(expected)
    assert abs(len(background) - expected) < 4 * np.sqrt(expected)
    # indicators count both: every incident of either source is in the tables
    assert result.summary["incidents_true"] == len(inc) == 240 + len(background)
    assert result.summary["calls_used"] == 240


def test_background_leaves_the_recorded_calls_untouched(tmp_path):
    sc = background_scenario(tmp_path, "synthetic", days=5)
    plain = run(sc.with_overrides({"data.background": "none"}), days=5).incidents
    mixed = run(sc, days=5).incidents
    recorded = mixed[mixed["source"] == "recorded"].reset_index(drop=True)
    assert "source" not in plain.columns
    for col in ("t_occur", "t_report", "x", "y", "priority", "in_progress", "reported"):
        pd.testing.assert_series_equal(recorded[col], plain[col], check_names=False)
    assert mixed["t_occur"].is_monotonic_increasing


def test_fitted_background_is_scaled_to_the_recorded_classes(tmp_path):
    sc = background_scenario(tmp_path, "fit", days=2)
    model = build_model(sc, days=2)
    cls = sc.incidents.classes
    true_per_day = 2 / cls["emergency"].report_prob + 2 / cls["urgent"].report_prob
    level = true_per_day * cls["routine"].share / (cls["emergency"].share + cls["urgent"].share)
    assert model.process.background.daily_mean == pytest.approx(level)
    np.testing.assert_allclose(model.process.background.priority_p, [0, 0, 1])


def test_background_classes_and_their_errors(tmp_path):
    sc = background_scenario(tmp_path, "synthetic", days=1)
    listed = build_model(sc.with_overrides({"data.background_classes": "urgent, routine"}),
                         days=1)
    np.testing.assert_allclose(listed.process.background.priority_p[0], 0)
    with pytest.raises(DataError, match=r"^data.background_classes: 'theft' is not"):
        build_model(sc.with_overrides({"data.background_classes": "theft"}), days=1)
    with pytest.raises(DataError, match=r"^data.background: "):
        build_model(sc.with_overrides({"data.mode": "fit"}), days=1)


# -- horizon --------------------------------------------------------------------------------
def test_calls_outside_the_horizon_are_counted_and_told(tmp_path):
    path = write(tmp_path / "c.csv", [call(d) for d in (0, 1, 2, 5, 10)])
    sc = scenario(path, **{"data.start": "2025-01-02T00:00:00"})
    with pytest.warns(DataWarning) as told:
        result = run(sc, days=3)
    assert [str(w.message) for w in told] == [
        "data.start: 1 of 5 calls lie before 2025-01-02 00:00:00 and are not used",
        "data.calls_file: 2 of 5 calls lie after the 3-day horizon and are not simulated "
        "(run.days = 10 would cover them)"]
    s = result.summary
    assert (s["calls_read"], s["calls_used"], s["calls_before_start"],
            s["calls_after_horizon"], s["calls_dropped"]) == (5, 2, 1, 2, 0)
    assert len(result.incidents) == 2


def test_cli_prints_the_horizon_warning(tmp_path):
    path = write(tmp_path / "c.csv", [call(d) for d in (0, 4)])
    toml = tmp_path / "s.toml"
    toml.write_text(f'[data]\ncalls_file = "{path.name}"\n[city]\nwidth = 8\nheight = 8\n'
                    'community_cells = 4\ncell_size_m = 100.0\n[police]\nofficers = 8\n'
                    '[residents]\nagents = 100\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONWARNINGS")}
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(toml), "--days", "1",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert ("warning: data.calls_file: 1 of 2 calls lie after the 1-day horizon and are not "
            "simulated (run.days = 5 would cover them)") in proc.stderr.splitlines()


# -- a real city's frame and mask -----------------------------------------------------------
def geo_layout() -> CityLayout:
    """A 4 x 3 grid of 100 m cells in UTM 30N from (500000, 4000000); cell (3, 2) masked."""
    import dataclasses

    from sim.city import build_layout
    from sim.rng import make_streams

    sc = load_scenario(None, {"city.width": 4, "city.height": 3, "city.community_cells": 1,
                              "city.cell_size_m": 100.0})
    layout = build_layout(sc.city, make_streams(1).city)
    mask = np.ones(12, dtype=bool)
    mask[3 * 3 + 2] = False
    return dataclasses.replace(layout, mask=mask,
                               frame=Frame("EPSG:32630", 500_000.0, 4_000_000.0, 100.0, 4, 3))


def test_calls_in_a_geo_city_are_projected_and_masked_cells_are_outside(tmp_path):
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("EPSG:32630", "EPSG:4326", always_xy=True)
    points = [(500_050.0, 4_000_150.0), (500_250.0, 4_000_050.0),  # cells (0, 1), (2, 0)
              (500_350.0, 4_000_250.0),  # cell (3, 2): masked
              (499_900.0, 4_000_050.0)]  # west of the grid
    rows = []
    for k, (x, y) in enumerate(points):
        lon, lat = to_lonlat.transform(x, y)
        rows.append({"timestamp": f"2025-01-01T0{k}:00:00", "lon": lon, "lat": lat,
                     "priority": "urgent"})
    sc = load_scenario(None, {"data.calls_file": str(write(tmp_path / "c.csv", rows)),
                              "data.coords": "lonlat"})
    calls = load_calls(sc.data, geo_layout(), sc.incidents)
    assert calls.cell.tolist() == [0 * 3 + 1, 2 * 3 + 0]
    assert calls.dropped["outside the city"] == 2
    projected = [{"timestamp": "2025-01-01T00:00:00", "x": 500_150.0, "y": 4_000_250.0,
                  "priority": "urgent"}]
    sc_xy = load_scenario(None, {"data.calls_file": str(write(tmp_path / "p.csv", projected))})
    assert load_calls(sc_xy.data, geo_layout(), sc_xy.incidents).cell.tolist() == [1 * 3 + 2]
    bad = sc_xy.with_overrides({"data.crs": "EPSG:nonsense"})
    with pytest.raises(DataError, match=r"^data.crs: 'EPSG:nonsense' is not a usable CRS"):
        load_calls(bad.data, geo_layout(), bad.incidents)


def test_a_fit_keeps_no_risk_in_masked_cells(tmp_path):
    from sim.replay import fit_process

    layout = geo_layout()
    rows = [{"timestamp": "2025-01-01T01:00:00", "x": 500_150.0, "y": 4_000_250.0,
             "priority": "urgent"}]
    sc = load_scenario(None, {"data.calls_file": str(write(tmp_path / "c.csv", rows))})
    calls = load_calls(sc.data, layout, sc.incidents)
    fit = fit_process(calls, 12, 4, 3, sc.data, np.ones(3), mask=layout.mask)
    assert fit["risk"][3 * 3 + 2] == 0 and fit["risk"].sum() == pytest.approx(1.0)
    assert fit["risk"][1 * 3 + 2] == fit["risk"].max()
    np.testing.assert_allclose(fit["class_per_day"], [0, 1, 0])


def test_streamed_log_keeps_the_source_and_recorded_columns(tmp_path):
    sc = background_scenario(tmp_path, "synthetic", days=40).with_overrides(
        {"run.log_rows": 300})
    rows = [call(d, h, code, scene=20.0) for d in range(40)
            for h, code in ((3, "1"), (9, "2"), (15, "1"), (21, "2"))]
    sc = sc.with_overrides({"data.calls_file": str(write(tmp_path / "s.csv", rows)),
                            "data.col_on_scene": "scene"})
    model = build_model(sc, days=40)
    model.run_days(40)
    from sim.api import collect

    inc = collect(model).incidents
    assert model.log.parts(), "the log should have streamed rows to disk"
    assert inc["source"].notna().all() and (inc["source"] == "recorded").sum() == 160
    recorded = inc[inc["source"] == "recorded"]
    assert (recorded["rec_on_scene"] == 20.0).all()
    assert inc.loc[inc["source"] == "background", "rec_on_scene"].isna().all()
