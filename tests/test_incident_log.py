"""The incident log's id-based API: get / set / record / ids / column, before and after a spill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.incidents import ALL_COLS, IncidentLog, IncidentRecord, incidents_frame

TIERS = ("station", "community")


def batch(k: int, t0: float = 0.0) -> dict[str, np.ndarray]:
    """``k`` incidents one minute apart from ``t0``, in cells 0, 1, 2, ..."""
    return {
        "t_occur": t0 + np.arange(k, dtype=float),
        "cell": np.arange(k) % 4,
        "priority": np.arange(k) % 3,
        "community": np.arange(k) % 2,
        "reported": np.arange(k) % 2 == 0,
    }


def frame(log: IncidentLog, k: int) -> pd.DataFrame:
    x = y = np.arange(4)
    return incidents_frame(log, x, y, TIERS, k)


def filled(k: int = 10, **kw: object) -> IncidentLog:
    log = IncidentLog(capacity=4, **kw)  # type: ignore[arg-type]
    ids = log.append(**batch(k))
    np.testing.assert_array_equal(ids, np.arange(k))
    return log


def test_append_returns_consecutive_ids_and_grows() -> None:
    log = IncidentLog(capacity=16)
    a = log.append(**batch(10))
    b = log.append(**batch(20, t0=10.0))  # beyond the capacity: the log grows
    np.testing.assert_array_equal(a, np.arange(10))
    np.testing.assert_array_equal(b, np.arange(10, 30))
    assert log.n == log.size == 30 and log.first_id == 0
    np.testing.assert_array_equal(log.ids(), np.arange(30))
    np.testing.assert_array_equal(log.get("t_occur", b), 10.0 + np.arange(20))
    # Fields not given keep their fill.
    assert np.isnan(log.get("t_arrive", 3)) and log.get("officer_id", 3) == -1
    assert not log.get("cleared", 3)


def test_get_and_set_by_id_scalar_and_array() -> None:
    log = filled()
    assert int(log.get("cell", 5)) == 1
    log.set("t_arrive", 5, 42.0)
    assert log.get("t_arrive", 5) == 42.0
    ids = np.array([7, 2, 9])
    log.set("officer_id", ids, [70, 20, 90])
    np.testing.assert_array_equal(log.get("officer_id", ids), [70, 20, 90])
    log.set("lost", ids, True)  # broadcast
    assert log.get("lost", ids).all() and not log.get("lost", 0)


def test_record_is_a_read_only_view_with_python_scalars() -> None:
    log = filled()
    rec = log.record(4)
    assert isinstance(rec, IncidentRecord) and rec.id == 4
    assert rec.priority == 1 and isinstance(rec.priority, int)
    assert rec.t_occur == 4.0 and isinstance(rec.t_occur, float)
    assert rec.reported is True
    assert set(rec.as_dict()) == set(ALL_COLS)
    log.set("t_clear", 4, 99.0)
    assert rec.t_clear == 99.0  # a view: it follows the log
    with pytest.raises(AttributeError):
        rec.t_clear = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = rec.no_such_field
    with pytest.raises(KeyError):
        log.record(10)
    assert "IncidentRecord(4" in repr(rec)


def test_column_is_read_only_and_aligned_with_ids() -> None:
    log = filled()
    col = log.column("t_occur")
    assert not col.flags.writeable
    with pytest.raises(ValueError):
        col[0] = 1.0
    np.testing.assert_array_equal(col, log.get("t_occur", log.ids()))
    np.testing.assert_array_equal(log.column("cell", start=6), log.get("cell", log.ids(6)))
    assert log.first_id_at(3.5) == 4 and log.first_id_at(100.0) == log.n
    with pytest.raises(AttributeError):  # the storage is not reachable as attributes
        _ = log.priority


def test_ids_stay_valid_after_a_spill(tmp_path: Path) -> None:
    log = filled(100, spill_dir=tmp_path)
    log.set("t_arrive", np.arange(100), 1000.0 + np.arange(100))
    before = frame(log, log.size)
    log.spill(60, frame)
    assert log.first_id == 60 and log.size == 40 and log.n == 100
    assert len(log.parts()) == 1
    assert not log.holds(59) and log.holds(60) and log.holds(99) and not log.holds(100)
    np.testing.assert_array_equal(log.ids(), np.arange(60, 100))
    np.testing.assert_array_equal(log.ids(start=10), np.arange(60, 100))
    assert log.get("t_arrive", 75) == 1075.0
    np.testing.assert_array_equal(log.get("cell", np.array([60, 99])), [60 % 4, 99 % 4])
    log.set("cleared", 61, True)
    assert log.record(61).cleared is True
    before.loc[before["incident_id"] == 61, "cleared"] = True
    assert log.record(99).t_occur == 99.0
    with pytest.raises(KeyError):
        log.record(59)
    assert log.first_id_at(70.0) == 70 and log.first_id_at(0.0) == 60
    np.testing.assert_array_equal(log.column("t_occur", start=90), 90.0 + np.arange(10))
    # New incidents continue the ids; the part plus what is held is the whole table.
    more = log.append(**batch(5, t0=100.0))
    np.testing.assert_array_equal(more, np.arange(100, 105))
    assert log.get("t_occur", 104) == 104.0
    whole = pd.concat([pd.read_parquet(log.parts()[0]), frame(log, 40)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, before)
    np.testing.assert_array_equal(frame(log, log.size)["incident_id"], np.arange(60, 105))


def test_spill_without_dir_or_nothing_to_spill_is_a_no_op(tmp_path: Path) -> None:
    log = filled(20)
    log.spill(10, frame)  # no spill_dir
    assert log.first_id == 0 and log.size == 20
    log.spill_dir = tmp_path
    log.spill(0, frame)
    assert log.first_id == 0 and not log.parts()


def test_model_log_after_spill_reads_by_id() -> None:
    """In a run whose log spilled, open incidents and strategies still read the right ids."""
    from sim.api import build_model
    from sim.scenario import load_scenario

    sc = load_scenario(None, {"city.width": 12, "city.height": 12, "city.community_cells": 4,
                              "city.population": 20_000, "police.officers": 20,
                              "residents.agents": 500, "strategy.name": "community",
                              "strategy.eval_period_days": 5,
                              "run.log_rows": 400})
    model = build_model(sc, days=70)
    model.run_days(70)
    log = model.log
    assert log.parts() and log.first_id > 0
    ids = log.ids()
    np.testing.assert_array_equal(log.get("community", ids),
                                  model.layout.community[log.get("cell", ids)])
    for row, incident in model.dispatcher.open.items():
        assert log.holds(row)
        rec = log.record(row)
        assert rec.cell == incident.cell_index and rec.priority == int(incident.priority)


# -- nobody else reads the storage -----------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
RAW = frozenset(ALL_COLS) | {"base", "_base", "_cols"}
CALLERS = [*sorted(
    p for pkg in ("sim", "agents", "experiments", "viz") for p in (ROOT / pkg).rglob("*.py")
    if p != ROOT / "sim" / "incidents.py"
), ROOT / "docs" / "plugin_example.py"]


def raw_log_accesses(path: Path, root: Path = ROOT) -> list[str]:
    """``log.<field>`` / ``x.log.<field>`` / ``log.base`` expressions in ``path``."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in RAW:
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "log":
                found.append(f"{path.relative_to(root)}:{node.lineno} .{node.attr}")
    return found


def test_no_caller_reads_the_log_storage() -> None:
    assert any(p.name == "dispatch.py" for p in CALLERS)
    bad = [hit for p in CALLERS for hit in raw_log_accesses(p)]
    assert not bad, "use log.get / log.set / log.record / log.column instead:\n" + "\n".join(bad)


def test_the_raw_access_checker_finds_them(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f(m, log, r):\n    m.log.t_clear[r - m.log.base] = 1\n"
                     "    return log.cell[r], log.get('cell', r)\n", encoding="utf-8")
    hits = raw_log_accesses(probe, root=tmp_path)
    assert sorted(h.split()[-1] for h in hits) == [".base", ".cell", ".t_clear"]

