"""Real data in: calls files (replay and fit), bad files, GraphML streets, calibration."""

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from sim.api import build_model, run
from sim.calls import DataError, load_calls
from sim.datafile import DataWarning
from sim.scenario import load_scenario

SMALL = {"city.width": 8, "city.height": 8, "city.community_cells": 4, "city.cell_size_m": 100.0,
         "police.officers": 8, "residents.agents": 200}


def write_calls(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def scenario_with(path: Path, **extra):
    return load_scenario(None, {**SMALL, "data.calls_file": str(path), **extra})


def good_rows(n=20):
    return [{"timestamp": f"2025-01-01T{h % 24:02d}:{(7 * h) % 60:02d}:00",
             "x": 50.0 + 90 * (h % 8), "y": 150.0 + 60 * (h % 5),
             "priority": ["emergency", "urgent", "routine", "1"][h % 4]}
            for h in range(n)]


def test_calls_map_onto_cells_and_bad_rows_are_counted(tmp_path):
    bad = [{"timestamp": "not a time", "x": 10, "y": 10, "priority": "urgent"},
           {"timestamp": "2025-01-01T05:00:00", "x": "", "y": 10, "priority": "urgent"},
           {"timestamp": "2025-01-01T05:00:00", "x": 5000, "y": 10, "priority": "urgent"},
           {"timestamp": "2025-01-01T05:00:00", "x": 10, "y": 10, "priority": "whatever"}]
    rows = [*good_rows(12), *bad]
    sc = scenario_with(write_calls(tmp_path / "c.csv", rows))
    calls = load_calls(sc.data, sc.city)
    assert calls.rows_read == 16 and calls.minute.size == 12
    assert calls.dropped == {"unparseable time": 1, "missing location": 1,
                             "outside the city": 1, "unknown priority": 1}
    first = good_rows(1)[0]
    assert calls.cell[0] == int(first["x"] // 100) * 8 + int(first["y"] // 100)
    assert "4 dropped" in calls.describe()


@pytest.mark.parametrize("drop", ["timestamp", "x", "priority"])
def test_missing_column_is_a_clear_error(tmp_path, drop):
    rows = [{k: v for k, v in r.items() if k != drop} for r in good_rows(3)]
    sc = scenario_with(write_calls(tmp_path / "c.csv", rows))
    with pytest.raises(DataError, match=f"column '{drop}' not found"):
        load_calls(sc.data, sc.city)


def test_missing_file_and_all_rows_bad(tmp_path):
    sc = scenario_with(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no such file"):
        load_calls(sc.data, sc.city)
    bad = [{"timestamp": "x", "x": 1, "y": 1, "priority": "urgent"}]
    sc = scenario_with(write_calls(tmp_path / "b.csv", bad))
    with pytest.raises(DataError, match="no usable rows"):
        load_calls(sc.data, sc.city)


def test_cli_reports_bad_calls_file_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from experiments.cli import app

    bad = tmp_path / "c.csv"
    bad.write_text("when,x,y,priority\n2025-01-01,1,1,urgent\n")
    res = CliRunner().invoke(app, ["run", "default", "--days", "1", "--set",
                                   f"data.calls_file={str(bad)!r}".replace("'", '"')])
    assert res.exit_code == 2
    assert "column 'timestamp' not found" in res.output
    assert "Traceback" not in res.output


def test_replay_makes_the_calls_the_incident_stream(tmp_path):
    sc = scenario_with(write_calls(tmp_path / "c.csv", good_rows(40)))
    calls = load_calls(sc.data, sc.city)
    result = run(sc, days=2)
    inc = result.incidents
    assert len(inc) == calls.minute.size
    assert inc["reported"].all()
    np.testing.assert_allclose(inc["t_occur"], calls.minute)
    np.testing.assert_allclose(inc["t_report"], calls.minute)
    assert (inc["x"] * 8 + inc["y"]).tolist() == calls.cell.tolist()
    # strategies answer exactly the same recorded demand
    other = run(sc.with_overrides({"strategy.name": "community"}), days=2).incidents
    pd.testing.assert_series_equal(inc["t_occur"], other["t_occur"])


def test_fit_recovers_profiles_of_the_shipped_data():
    sc = load_scenario("fit_synthetic")
    model = build_model(sc, days=1)
    fit = model.fit
    hourly = np.asarray(fit["hourly"])
    assert hourly.argmax() in (19, 20, 21) and hourly.argmin() in (6, 7, 8, 9)
    weekly = np.asarray(fit["weekly"])
    assert weekly[4] > 1.05 and weekly[5] > 1.05  # Friday and Saturday busier
    mix_recorded = np.asarray(fit["priority_mix"]) * np.array([0.9, 0.6, 0.4])
    mix_recorded /= mix_recorded.sum()
    np.testing.assert_allclose(mix_recorded, [0.15, 0.35, 0.5], atol=0.02)
    risk = np.sort(model.layout.risk)[::-1]
    assert risk[: int(0.1 * risk.size)].sum() > 0.3  # hot spots recovered


def test_shipped_replay_scenario_runs_on_graphml_streets():
    sc = load_scenario("replay_synthetic")
    with pytest.warns(DataWarning, match="after the 1-day horizon"):
        model = build_model(sc, days=1)
    from sim.streets import GraphTravelField

    assert isinstance(model.travel, GraphTravelField)
    model.run_days(1)
    assert model.log.n > 100


def test_graphml_travel_follows_the_network(tmp_path):
    g = nx.Graph()
    # a path 0-1-2 along x with a long detour: cells snap to nodes; distance = path length
    for k in range(4):
        g.add_node(str(k), x=50.0 + 100 * k, y=50.0)
    for k in range(3):
        g.add_edge(str(k), str(k + 1), length=100.0)
    g.add_edge("0", "3", length=1000.0, speed_kph=30.0)
    path = tmp_path / "s.graphml"
    nx.write_graphml(g, path)
    sc = load_scenario(None, {"city.width": 4, "city.height": 1, "city.community_cells": 1,
                              "city.cell_size_m": 100.0, "police.officers": 2,
                              "city.precincts_y": 1,
                              "residents.agents": 10, "data.streets_graphml": str(path)})
    model = build_model(sc, days=1)
    d = model.travel.from_cell(0)
    np.testing.assert_allclose(d, [0, 100, 200, 300])
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml>")
    with pytest.raises(ValueError, match=r"data\.streets_graphml"):
        build_model(sc.with_overrides({"data.streets_graphml": str(bad)}), days=1)


@pytest.mark.slow
def test_calibration_report_compares_counts():
    from experiments.calibrate import calibrate

    cal = calibrate(load_scenario("fit_synthetic"), days=20)
    assert 0.8 < cal.stats["count ratio (sim/obs)"] < 1.2
    assert cal.stats["community correlation"] > 0.8
    assert cal.stats["priority mix max abs diff"] < 0.03
    assert "observed" in cal.markdown()
