"""A long run's incident table streams: never assembled for the tables, the outputs or the API.

A run with a small ``run.log_rows`` spills its old incidents to Parquet parts; its tables must
be those of the same run keeping every incident in memory, computed without assembling the
incident table, while the log holds no more than the bound.
"""

from __future__ import annotations

import gc
import math

import numpy as np
import pandas as pd
import pytest

import sim.incident_table as incident_table
from sim.api import build_model, collect, run, write_outputs
from sim.demand import LOOK_BACK_DAYS
from sim.incident_table import IncidentTable
from sim.scenario import load_scenario
from sim.units import MIN_PER_DAY

DAYS = 90
ROWS = 400
SMALL = {"city.width": 12, "city.height": 12, "city.community_cells": 4,
         "city.population": 20_000, "police.officers": 20, "residents.agents": 500,
         "strategy.name": "adaptive", "strategy.eval_period_days": 5}


def scenario(rows: int):
    return load_scenario(None, {**SMALL, "run.log_rows": rows})


@pytest.fixture(scope="module")
def pair():
    """The same run keeping every incident (0) and spilling beyond ``ROWS`` incidents."""
    return run(scenario(0), seed=3, days=DAYS), run(scenario(ROWS), seed=3, days=DAYS)


def same_summary(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        if isinstance(a[k], float) and math.isnan(a[k]):
            assert isinstance(b[k], float) and math.isnan(b[k]), k
        else:
            assert a[k] == b[k] and type(a[k]) is type(b[k]), k


def test_spilled_and_kept_runs_give_identical_tables(pair):
    kept, spilled = pair
    assert not kept.incident_table.spilled
    assert len(spilled.incident_table.parts()) > 3
    pd.testing.assert_frame_equal(kept.daily, spilled.daily, check_exact=True)
    pd.testing.assert_frame_equal(kept.communities, spilled.communities, check_exact=True)
    same_summary(kept.summary, spilled.summary)
    pd.testing.assert_frame_equal(kept.incident_table.to_pandas(),
                                  spilled.incident_table.to_pandas(), check_exact=True)
    assert len(spilled.incident_table) == spilled.summary["incidents_true"]
    assert spilled.incident_table.columns == list(kept.incidents.columns)
    pd.testing.assert_series_equal(spilled.incident_table.column("response_time"),
                                   kept.incidents["response_time"], check_exact=True)


def test_tables_equal_plain_pandas_on_the_whole_table(pair):
    """The streamed reductions give what pandas gives on the assembled table."""
    _, res = pair
    inc = res.incident_table.to_pandas()
    arrived = inc[inc["t_arrive"].notna()]
    by_day = arrived.groupby((arrived["t_arrive"] // MIN_PER_DAY).astype("int64"))
    idx = pd.RangeIndex(len(res.daily), name="day")
    np.testing.assert_array_equal(res.daily["response_time_mean"],
                                  by_day["response_time"].mean().reindex(idx))
    np.testing.assert_array_equal(res.daily["response_time_p90"],
                                  by_day["response_time"].quantile(0.9).reindex(idx))
    occ = inc.groupby((inc["t_occur"] // MIN_PER_DAY).astype("int64")).size()
    np.testing.assert_array_equal(res.daily["incidents_true"], occ.reindex(idx, fill_value=0))
    by_comm = arrived.groupby("community")["response_time"]
    cidx = pd.RangeIndex(len(res.communities))
    np.testing.assert_array_equal(res.communities["response_time_p90"],
                                  by_comm.quantile(0.9).reindex(cidx))
    closed = inc[inc["t_clear"].notna()].groupby("community")["cleared"].mean()
    np.testing.assert_array_equal(res.communities["clearance_rate"], closed.reindex(cidx))
    s = res.summary
    rt = arrived["response_time"]
    assert s["response_time_mean"] == rt.mean() and s["response_time_p90"] == rt.quantile(0.9)
    assert s["response_time_median"] == rt.median()
    rep = inc[inc["reported"]]
    assert s["dispatch_delay_mean"] == rep["dispatch_delay"].dropna().mean()
    assert s["queue_wait_mean"] == inc.loc[inc["t_dispatch"].notna(), "queue_wait"].mean()
    assert s["on_scene_mean"] == inc.loc[inc["t_clear"].notna(), "on_scene"].mean()
    assert s["response_time_mean_emergency"] == rt[arrived["priority"] == "emergency"].mean()


def test_collect_reads_part_by_part_and_never_assembles(monkeypatch):
    model = build_model(scenario(ROWS), seed=4, days=DAYS)
    model.run_days(DAYS)
    seen: list[int] = []
    batches = IncidentTable.batches

    def recording(self, columns=None):
        for frame in batches(self, columns):
            seen.append(len(frame))
            yield frame

    def refuse(*args, **kwargs):
        raise AssertionError("the incident table was assembled")

    real_concat = pd.concat

    def concat(objs, *args, **kwargs):
        objs = list(objs)
        if any("incident_id" in getattr(o, "columns", ()) for o in objs):
            raise AssertionError("incident batches were concatenated")
        return real_concat(objs, *args, **kwargs)

    monkeypatch.setattr(IncidentTable, "batches", recording)
    monkeypatch.setattr(IncidentTable, "to_pandas", refuse)
    monkeypatch.setattr(incident_table.pd, "concat", concat)
    res = collect(model)
    assert len(seen) == len(model.log.parts()) + 1 > 3
    assert sum(seen) == res.summary["incidents_true"] == model.log.n
    busiest = int(res.daily["incidents_true"].max())
    # no batch holds more than the log ever did: the bound, or the days always kept
    assert max(seen) <= max(ROWS, (LOOK_BACK_DAYS + 2) * busiest) < sum(seen) / 2


def test_the_log_stays_below_its_bound_in_a_long_run():
    model = build_model(scenario(ROWS), seed=5, days=DAYS)
    largest = 0
    for _ in range(DAYS):
        model.run_days(1)
        largest = max(largest, model.log.size)
    busiest = int(np.bincount((model.log.column("t_occur") // MIN_PER_DAY).astype(int)).max())
    assert model.log.n > 4 * ROWS
    assert largest <= max(ROWS, (LOOK_BACK_DAYS + 2) * busiest) < model.log.n / 2


def test_outputs_are_written_part_by_part(pair, tmp_path, monkeypatch):
    kept, spilled = pair
    expected = spilled.incident_table.to_pandas()

    def refuse(*args, **kwargs):
        raise AssertionError("the incident table was assembled")

    monkeypatch.setattr(IncidentTable, "to_pandas", refuse)
    write_outputs(spilled, tmp_path / "spilled")
    write_outputs(kept, tmp_path / "kept")
    monkeypatch.undo()
    back = pd.read_parquet(tmp_path / "spilled" / "incidents.parquet")
    pd.testing.assert_frame_equal(back, expected, check_exact=True)
    pd.testing.assert_frame_equal(
        back, pd.read_parquet(tmp_path / "kept" / "incidents.parquet"), check_exact=True)
    for name in ("daily", "communities"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spilled" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "kept" / f"{name}.parquet"))


def test_the_dataframe_is_assembled_once_and_kept(pair):
    kept, spilled = pair
    assert kept.incidents is kept.incident_table.to_pandas()  # no parts: no copy at all
    first = spilled.incidents
    assert spilled.incidents is first and isinstance(first, pd.DataFrame)
    assert spilled.tables()["incidents"] is first


def test_parts_outlive_the_model_and_go_with_the_last_table():
    res = run(scenario(ROWS), seed=6, days=60)
    gc.collect()  # the model is gone; its parts are still needed by the result
    parts = res.incident_table.parts()
    assert parts and all(p.is_file() for p in parts)
    assert len(res.incidents) == res.summary["incidents_true"]
    folder = parts[0].parent
    del res
    gc.collect()
    assert not folder.exists()


def test_a_file_someone_else_put_in_the_spill_folder_is_kept():
    res = run(scenario(ROWS), seed=6, days=40)
    folder = res.incident_table.parts()[0].parent
    theirs = folder / "notes.txt"
    theirs.write_text("mine")
    del res
    gc.collect()
    try:
        assert theirs.read_text() == "mine"
        assert not list(folder.glob("incidents-*.parquet"))  # ours are gone
    finally:
        theirs.unlink()
        folder.rmdir()


def test_a_table_taken_mid_run_is_unchanged_by_later_spills():
    model = build_model(scenario(ROWS), seed=7, days=DAYS)
    model.run_days(30)
    early = collect(model)
    n_early, frame_early = len(early.incident_table), early.incident_table.to_pandas()
    model.run_days(DAYS - 30)
    later = collect(model)
    assert len(later.incident_table.parts()) > len(early.incident_table.parts())
    assert len(early.incident_table) == n_early
    pd.testing.assert_frame_equal(early.incident_table.to_pandas(), frame_early)


def test_group_statistics_by_blocks_equal_one_group_by(monkeypatch):
    """Daily and community statistics are computed a block of groups at a time: same values."""
    import sim.metrics as metrics

    model = build_model(scenario(ROWS), seed=8, days=DAYS)
    model.run_days(DAYS)
    whole = collect(model)
    monkeypatch.setattr(metrics, "BLOCK_ROWS", 40)  # a few days or communities per block
    blocks = collect(model)
    pd.testing.assert_frame_equal(whole.daily, blocks.daily, check_exact=True)
    pd.testing.assert_frame_equal(whole.communities, blocks.communities, check_exact=True)
    same_summary(whole.summary, blocks.summary)


def test_the_response_time_histogram_reads_part_by_part(pair):
    from experiments.sweep import rt_histogram

    kept, spilled = pair
    pd.testing.assert_frame_equal(rt_histogram(spilled.incident_table),
                                  rt_histogram(kept.incidents), check_exact=True)
    assert rt_histogram(kept.incidents)["count"].sum() > 0
