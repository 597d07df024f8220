"""The indicator registry is the one list of what the summary, daily and community tables hold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.report import DEFAULT_INDICATORS
from experiments.spec import SpecError, load_spec
from experiments.sweep import check_outputs
from sim import indicators as registry
from sim.api import run
from sim.metrics import TIERS
from sim.scenario import PRIORITIES, load_scenario
from tests.conftest import run_days, tiny_scenario
from viz import state

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_run():
    """The default scenario for five days (what the registry was listed from)."""
    return run(load_scenario("default"), days=5)


def test_summary_keys_are_the_registry_in_order(default_run):
    expected = [i.name for i in registry.SUMMARY
                if "(recorded calls only)" not in i.description]
    assert list(default_run.summary) == expected


def test_daily_and_community_columns_are_the_registry_in_order(default_run):
    assert list(default_run.daily.columns) == list(registry.names("daily"))
    assert list(default_run.communities.columns) == list(registry.names("community"))


def test_a_tiny_run_writes_only_registered_names():
    result = run_days(tiny_scenario(), days=2)
    assert set(result.summary) <= set(registry.names("summary"))
    assert set(result.daily.columns) <= set(registry.names("daily"))
    assert set(result.communities.columns) <= set(registry.names("community"))


def test_recorded_calls_keys_are_registered(tmp_path):
    rows = [{"timestamp": f"2025-01-01T{h % 24:02d}:00:00", "x": 50.0 + 90 * (h % 8),
             "y": 150.0 + 60 * (h % 5), "priority": "urgent"} for h in range(20)]
    rows.append({"timestamp": "not a time", "x": 10, "y": 10, "priority": "urgent"})
    path = tmp_path / "calls.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    sc = load_scenario(None, {"city.width": 8, "city.height": 8, "city.community_cells": 4,
                              "city.cell_size_m": 100.0, "police.officers": 8,
                              "residents.agents": 50, "data.calls_file": str(path)})
    summary = run(sc, days=1).summary
    calls = {k for k in summary if k.startswith("calls_") and k != "calls_pending_end"}
    assert {"calls_read", "calls_used", "calls_dropped",
            "calls_dropped_unparseable_time"} <= calls
    assert calls <= set(registry.names("summary"))


def test_every_indicator_is_declared_fully_and_once_per_table():
    for table in registry.TABLES:
        names = [i.name for i in registry.INDICATORS if i.table == table]
        assert len(names) == len(set(names)), table
    for ind in registry.INDICATORS:
        assert ind.unit and ind.description.endswith("."), ind.name
        assert ind.table in registry.TABLES and ind.better in ("lower", "higher", None)
    for p in PRIORITIES:
        assert registry.get(f"response_time_mean_{p}").unit == "min"
    for t in TIERS:
        assert registry.get(f"utilization_{t}", "daily").unit == "share"
    with pytest.raises(KeyError):
        registry.get("response_time_meen")


def test_indicator_is_frozen():
    ind = registry.get("response_time_mean")
    with pytest.raises(AttributeError):
        ind.unit = "h"  # type: ignore[misc]
    assert ind.axis == "Response time, mean (min)" and ind.better == "lower"


def test_report_and_app_name_only_registered_indicators():
    assert set(DEFAULT_INDICATORS) <= set(registry.names("summary"))
    live_only = {"on_duty", "committed", "waiting", "active"}
    for row in state.INDICATORS:
        if row.key in live_only:
            assert row.registered is None and row.own_label and row.own_unit
        else:
            assert row.registered is not None, row.key
            assert row.label == row.registered.title
    assert state.TIERS is TIERS


def test_app_live_stats_use_registry_names():
    sim = state.Sim(state.Controls(officers=20, incident_rate=1.0))
    sim.step(6)
    for row in state.INDICATORS:
        assert row.key in sim.stats
    assert "rt_mean" not in sim.stats and "utilisation" not in sim.stats


def _spec(**extra):
    return load_spec({"name": "t", "replications": 1, "days": 1,
                      "factors": {"police.officers": [10]}, **extra})


def test_sweep_output_check_uses_the_registry():
    check_outputs(_spec(outputs=["response_time_mean", "calls_read"], daily=["utilization_hq"]))
    with pytest.raises(SpecError, match=r"outputs: unknown indicator 'rt_mean' \(known: "):
        check_outputs(_spec(outputs=["rt_mean"]))
    with pytest.raises(SpecError, match=r"daily: unknown daily column 'utilisation' \(known: "):
        check_outputs(_spec(daily=["utilisation"]))


def test_odd_indicator_table_is_generated_from_the_registry():
    text = (ROOT / "docs" / "ODD.md").read_text()
    block = text.split("<!-- indicators:begin -->\n", 1)[1].split("<!-- indicators:end -->",
                                                                  1)[0]
    assert block == registry.markdown_table(), "run: python docs/update_params.py"
