"""Hostile data files: every failure of the calls and GraphML loaders is one short line.

Each case writes a bad file (or sets a bad ``[data]`` value) and asserts a DataError whose
message is a single line, starts with the ``[data]`` field to fix and is short; a random CSV
either loads or fails that way; the CLI prints ``error: data....`` and exits 2.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.calls
from sim.api import build_model, run
from sim.calls import Calls, DataError, load_calls, shorten
from sim.scenario import load_scenario
from sim.streets import load_graphml

SMALL = {"city.width": 8, "city.height": 8, "city.community_cells": 4, "city.cell_size_m": 100.0,
         "police.officers": 8, "residents.agents": 200}
HEADER = "timestamp,x,y,priority\n"


def scenario(**data):
    return load_scenario(None, {**SMALL, **{f"data.{k}": v for k, v in data.items()}})


def check_message(msg: str, field: str) -> str:
    assert "\n" not in msg and "\r" not in msg, msg
    assert msg.startswith(f"data.{field}: "), msg
    assert len(msg) < 300, msg
    assert "Traceback" not in msg and "\x00" not in msg
    return msg


def calls_error(field: str, path: Path | str, **data) -> str:
    sc = scenario(calls_file=str(path), **data)
    with pytest.raises(DataError) as info:
        load_calls(sc.data, sc.city)
    return check_message(str(info.value), field)


def write_csv(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(line + "\n" for line in lines))
    return path


def good_lines(n: int = 6, suffix: str = "") -> list[str]:
    return [f"2025-01-01T{h:02d}:10:00{suffix},{50 + 100 * (h % 8)},150,urgent" for h in range(n)]


# -- shorten --------------------------------------------------------------------------------
def test_shorten_keeps_values_short_and_on_one_line():
    assert shorten("abc") == "'abc'"
    long = "x" * 10_000_000 + "\n/tail.csv"
    out = shorten(long)
    assert len(out) <= 84 and "\n" not in out and out.endswith("tail.csv'")
    assert "\\x00" in shorten("a\x00b")


# -- time zones -----------------------------------------------------------------------------
def test_mixed_offsets_are_converted_to_the_offset_of_the_earliest_call(tmp_path):
    lines = ["2025-03-30T00:30:00+01:00,50,150,urgent",   # earliest: +01:00
             "2025-03-30T05:00:00+02:00,150,150,urgent",  # = 04:00 at +01:00
             "2025-03-30T01:00:00-05:00,250,150,urgent"]  # = 07:00 at +01:00
    sc = scenario(calls_file=str(write_csv(tmp_path / "c.csv", lines)))
    calls = load_calls(sc.data, sc.city)
    np.testing.assert_allclose(calls.minute, [30, 240, 420])
    assert str(calls.start) == "2025-03-30 00:00:00+01:00"
    # with an offset in data.start, that offset (and that minute 0) is used
    sc = sc.with_overrides({"data.start": "2025-03-29T23:00:00Z"})
    np.testing.assert_allclose(load_calls(sc.data, sc.city).minute, [30, 240, 420])


def test_one_offset_everywhere_is_used_as_written(tmp_path):
    sc = scenario(calls_file=str(write_csv(tmp_path / "c.csv", good_lines(3, "+08:00"))))
    calls = load_calls(sc.data, sc.city)
    np.testing.assert_allclose(calls.minute, [10, 70, 130])


def test_times_with_and_without_offsets_are_refused(tmp_path):
    lines = [*good_lines(3), *good_lines(2, "+01:00"), *good_lines(1, "-05:00")]
    msg = calls_error("col_time", write_csv(tmp_path / "c.csv", lines))
    assert "with a UTC offset (3" in msg and "without (3" in msg


@pytest.mark.parametrize(("start", "suffix", "expect"), [
    ("2025-01-01T00:00:00+01:00", "", "has a UTC offset but"),
    ("2025-01-01T00:00:00", "+01:00", "has no UTC offset but"),
])
def test_start_and_times_must_agree_on_offsets(tmp_path, start, suffix, expect):
    path = write_csv(tmp_path / "c.csv", good_lines(3, suffix))
    assert expect in calls_error("start", path, start=start)


# -- data.start -----------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["yesterday", "today", "2024-13-45", "NaT", "1/2/3/4",
                                   "x" * 10_000_000, "2025-01-01\n05:00"])
def test_bad_start_is_one_line(tmp_path, start):
    path = write_csv(tmp_path / "c.csv", good_lines())
    calls_error("start", path, start=start)


def test_start_after_the_last_call_is_refused(tmp_path):
    path = write_csv(tmp_path / "c.csv", good_lines())
    msg = calls_error("start", path, start="2026-01-01")
    assert "is after the last call" in msg
    sc = scenario(calls_file=str(path), start="2026-01-01")
    with pytest.raises(ValueError, match=r"^data\.start: .* after the last call"):
        run(sc, days=1)


def test_start_far_before_the_calls_is_refused(tmp_path):
    path = write_csv(tmp_path / "c.csv", good_lines())
    assert "more than the limit" in calls_error("start", path, start="0001-01-01")
    lines = [*good_lines(), "1900-01-01T00:00:00,50,150,urgent"]
    assert "span" in calls_error("col_time", write_csv(tmp_path / "d.csv", lines))


def test_start_in_the_time_format_is_accepted(tmp_path):
    lines = [f"01/01/2025 {h:02d}:10,{50 + 100 * h},150,urgent" for h in range(3)]
    sc = scenario(calls_file=str(write_csv(tmp_path / "c.csv", lines)),
                  time_format="%d/%m/%Y %H:%M", start="01/01/2025 01:00")
    np.testing.assert_allclose(load_calls(sc.data, sc.city).minute, [10, 70])


# -- data.time_format -----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["%Q", "%", "%Y-%m-%d%Y", "%" * 5000])
def test_bad_time_format_is_one_line(tmp_path, fmt):
    calls_error("time_format", write_csv(tmp_path / "c.csv", good_lines()), time_format=fmt)


def test_time_format_matching_no_row_is_an_error_not_an_empty_run(tmp_path):
    path = write_csv(tmp_path / "c.csv", good_lines())
    msg = calls_error("time_format", path, time_format="%d/%m/%Y")
    assert "matches none of the 6 times" in msg
    lines = [f"{v},50,150,urgent" for v in ("yesterday", "1e400", "", "2025-02-30")]
    assert "is an ISO 8601 time" in calls_error("col_time", write_csv(tmp_path / "d.csv", lines))


# -- calls files ----------------------------------------------------------------------------
def test_missing_folder_empty_and_bad_names(tmp_path):
    assert "no such file" in calls_error("calls_file", tmp_path / "nope.csv")
    assert "is a folder" in calls_error("calls_file", tmp_path)
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "is empty" in calls_error("calls_file", tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_bytes(b"\n\n\n")
    assert "no header" in calls_error("calls_file", tmp_path / "blank.csv")
    assert "too long" in calls_error("calls_file", str(tmp_path / ("a" * 5000 + ".csv")))
    assert "NUL" in calls_error("calls_file", str(tmp_path / "a\x00b.csv"))
    assert "regular file" in calls_error("calls_file", "/dev/zero")


def test_unreadable_file(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "c.csv", good_lines())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    assert "Permission denied" in calls_error("calls_file", path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_for_real(tmp_path):
    path = write_csv(tmp_path / "c.csv", good_lines())
    path.chmod(0)
    calls_error("calls_file", path)


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 20,                      # binary junk with NULs
    b"\xff\xfe\x8c\x9d" * 500,                   # not UTF-8
    "timestamp,x,y,priority\n\xe9\n".encode("latin-1"),
    b'timestamp,x,y,priority\n"2025-01-01,1,1,urgent\n',  # unterminated quote
    b"timestamp,x,y,priority\n2025-01-01,1,1,urgent,1,2,3\n2025-01-01,1,1,urgent\n",
    b"PAR1" + b"\x00" * 100,
])
def test_not_csv(tmp_path, content):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_calls(scenario(calls_file=str(path)).data, scenario().city)
    msg = str(info.value)
    assert msg.startswith(("data.calls_file: ", "data.col_time: ")), msg
    assert "\n" not in msg and len(msg) < 300


def test_corrupt_parquet(tmp_path):
    good = tmp_path / "good.parquet"
    pd.DataFrame({"timestamp": ["2025-01-01T01:00:00"], "x": [50.0], "y": [50.0],
                  "priority": ["urgent"]}).to_parquet(good)
    data = good.read_bytes()
    cases = {"junk": os.urandom(2000), "truncated": data[: len(data) // 2] + data[-8:],
             "no footer": data[:-8], "text": b"timestamp,x,y\n1,2,3\n"}
    for name, content in cases.items():
        path = tmp_path / f"{name}.parquet"
        path.write_bytes(content)
        assert "Parquet" in calls_error("calls_file", path), name


def test_parquet_with_typed_columns_loads(tmp_path):
    path = tmp_path / "c.parquet"
    pd.DataFrame({"timestamp": pd.to_datetime(["2025-01-01T01:00:00", "2025-01-01T02:00:00"]),
                  "x": [50.0, np.inf], "y": [50, 60], "priority": [1, 2],
                  "response": pd.array([4, None], dtype="Int64")}).to_parquet(path)
    sc = scenario(calls_file=str(path), col_response="response")
    calls = load_calls(sc.data, sc.city)
    assert calls.minute.size == 1 and calls.dropped["missing location"] == 1
    assert calls.response.tolist() == [4.0]


def test_duplicate_parquet_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(["2025-01-01T01:00"]), pa.array([50.0]), pa.array([60.0]), pa.array([50.0]),
         pa.array(["urgent"])], names=["timestamp", "x", "x", "y", "priority"])
    pq.write_table(table, tmp_path / "c.parquet")
    assert "appears 2 times" in calls_error("col_x", tmp_path / "c.parquet")


@pytest.mark.parametrize(("drop", "field"), [("timestamp", "col_time"), ("x", "col_x"),
                                             ("y", "col_y"), ("priority", "col_priority")])
def test_missing_columns_name_the_field(tmp_path, drop, field):
    cols = [c for c in ("timestamp", "x", "y", "priority") if c != drop]
    path = tmp_path / "c.csv"
    path.write_text(",".join(cols) + "\n" + ",".join(["1"] * len(cols)) + "\n")
    assert f"column '{drop}' not found" in calls_error(field, path)


def test_missing_lonlat_and_response_columns(tmp_path):
    path = write_csv(tmp_path / "c.csv", good_lines())
    calls_error("col_lon", path, coords="lonlat")
    calls_error("col_response", path, col_response="response_min")
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"column_{k}" for k in range(5000)) + "\n")
    assert len(calls_error("col_time", wide)) < 300


def test_overflowing_and_non_finite_numbers_are_dropped_and_counted(tmp_path):
    lines = [*good_lines(3),
             "2025-01-01T05:00:00,1e400,150,urgent",
             f"2025-01-01T05:00:00,{'9' * 5000},150,urgent",
             "2025-01-01T05:00:00,nan,150,urgent",
             "2025-01-01T05:00:00,-inf,150,urgent",
             "2025-01-01T05:00:00,1e308,1e308,urgent",
             "2025-01-01T05:00:00,-1e308,150,urgent"]
    sc = scenario(calls_file=str(write_csv(tmp_path / "c.csv", lines)))
    calls = load_calls(sc.data, sc.city)
    assert calls.minute.size == 3
    assert calls.dropped["missing location"] == 4 and calls.dropped["outside the city"] == 2
    # the same in degrees, without the good rows: every call is outside the city
    calls_error("origin_lon", write_csv(tmp_path / "d.csv", lines[3:]), coords="lonlat",
                col_lon="x", col_lat="y")


def test_bad_response_times_are_missing_not_fatal(tmp_path):
    header = "timestamp,x,y,priority,response\n"
    vals = ["4.5", "1e400", "9" * 400, "-3", "nan", "abc", ""]
    lines = [f"2025-01-01T0{k}:00:00,50,150,urgent,{v}" for k, v in enumerate(vals)]
    sc = scenario(calls_file=str(write_csv(tmp_path / "c.csv", lines, header)),
                  col_response="response")
    calls = load_calls(sc.data, sc.city)
    assert calls.minute.size == 7 and calls.response_missing == 6
    assert calls.response[0] == 4.5 and np.isnan(calls.response[1:]).all()
    assert "without a usable response time" in calls.describe()
    bad = [f"2025-01-01T0{k}:00:00,50,150,urgent,{v}" for k, v in enumerate(vals[1:])]
    path = write_csv(tmp_path / "d.csv", bad, header)
    assert "no usable response time" in calls_error("col_response", path,
                                                    col_response="response")


@pytest.mark.parametrize(("lines", "field"), [
    (["2025-01-01T01:00:00,,,urgent", "2025-01-01T01:00:00,a,b,urgent"], "col_x"),
    (["2025-01-01T01:00:00,5000,5000,urgent"], "origin_x"),
    (["2025-01-01T01:00:00,50,50,whatever"], "col_priority"),
])
def test_no_usable_rows_names_the_step(tmp_path, lines, field):
    assert "no usable rows" in calls_error(field, write_csv(tmp_path / "c.csv", lines))


def test_header_without_rows(tmp_path):
    assert "no calls" in calls_error("calls_file", write_csv(tmp_path / "c.csv", []))


def test_more_calls_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.calls, "MAX_CALLS", 10)
    monkeypatch.setattr(sim.calls, "CSV_CHUNK_ROWS", 4)
    path = write_csv(tmp_path / "c.csv", good_lines(12))
    assert "more than the limit of 10" in calls_error("calls_file", path)
    pq = tmp_path / "c.parquet"
    pd.read_csv(path).to_parquet(pq)
    assert calls_error("calls_file", pq).startswith(
        "data.calls_file: 12 calls is more than the limit of 10")
    ok = write_csv(tmp_path / "ok.csv", good_lines(10))  # read in 3 chunks, same result
    calls = load_calls(scenario(calls_file=str(ok)).data, scenario().city)
    assert calls.minute.size == 10 and np.all(np.diff(calls.minute) > 0)


# -- random CSVs ----------------------------------------------------------------------------
COLUMNS = ["timestamp", "x", "y", "priority", "response"]
junk = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "9" * 30, "-0", "NaT", "None",
                     "2025-13-45", "9999-12-31", "0001-01-01T00:00", "1e-400", "0x1F"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)
ZONES = ["", "+01:00", "-05:00", "Z", "+0800"]


def times(zone: str) -> st.SearchStrategy[str]:
    """ISO times, all with ``zone`` or (``zone == "mixed"``) with any offset or none."""
    zones = st.sampled_from(ZONES) if zone == "mixed" else st.just(zone)
    return st.builds(lambda d, h, m, tz: f"2025-01-{d:02d}T{h:02d}:{m:02d}:00{tz}",
                     st.integers(1, 28), st.integers(0, 23), st.integers(0, 59), zones)


good = {"x": st.floats(-100, 900).map(str), "y": st.floats(-100, 900).map(str),
        "priority": st.sampled_from(["emergency", "urgent", "routine", "1", "2", "3", "4"]),
        "response": st.floats(-5, 60).map(str)}


@st.composite
def csv_files(draw) -> tuple[list[str], list[list[str]]]:
    """A header (mostly the right columns) and rows of mostly plausible, sometimes junk, cells."""
    header = draw(st.permutations(COLUMNS)) if draw(st.integers(0, 4)) else \
        draw(st.lists(st.sampled_from([*COLUMNS, "other", ""]), min_size=1, max_size=6))
    column = {**good, "timestamp": times(draw(st.sampled_from([*ZONES, "mixed"])))}
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(junk if draw(st.integers(0, 5)) == 0 else column.get(c, junk))
               for c in header]
        if draw(st.integers(0, 19)) == 0:  # ragged
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(junk, max_size=2))
        rows.append(row)
    return header, rows


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=csv_files(),
       data=st.fixed_dictionaries({}, optional={
           "start": st.sampled_from(["2025-01-01", "2025-01-05T00:00:00+01:00", "x",
                                     "2025-01-03 12:00"]),
           "time_format": st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Q"]),
           "col_response": st.just("response")}))
def test_random_csv_loads_or_fails_in_one_line(table, data):
    header, rows = table
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")
        sc = scenario(calls_file=str(path), **data)
        try:
            calls = load_calls(sc.data, sc.city)
        except ValueError as exc:
            msg = str(exc)
            assert "\n" not in msg and "\r" not in msg and len(msg) < 300, msg
            assert msg.startswith("data."), msg
        else:
            assert isinstance(calls, Calls) and calls.minute.size > 0
            assert np.all(calls.minute >= 0) and np.all(np.diff(calls.minute) >= 0)
            assert np.all((calls.cell >= 0) & (calls.cell < 64))


# -- GraphML --------------------------------------------------------------------------------
def street_scenario(path: Path | str, **data):
    return load_scenario(None, {"city.width": 4, "city.height": 1, "city.community_cells": 1,
                                "city.cell_size_m": 100.0, "police.officers": 2,
                                "city.precincts_y": 1, "residents.agents": 10,
                                "data.streets_graphml": str(path),
                                **{f"data.{k}": v for k, v in data.items()}})


def streets_error(field: str, path: Path | str, **data) -> str:
    sc = street_scenario(path, **data)
    with pytest.raises(DataError) as info:
        load_graphml(sc.data, sc.city)
    return check_message(str(info.value), field)


def line_graph(tmp_path: Path, node=None, edge=None, name="s.graphml") -> Path:
    g = nx.Graph()
    for k in range(4):
        g.add_node(str(k), x=50.0 + 100 * k, y=50.0)
    for k in range(3):
        g.add_edge(str(k), str(k + 1), length=100.0)
    if node:
        g.nodes["1"].update(node)
    if edge:
        g.edges["1", "2"].update(edge)
    path = tmp_path / name
    nx.write_graphml(g, path)
    return path


def test_good_graph_still_loads(tmp_path):
    sc = street_scenario(line_graph(tmp_path, edge={"speed_kph": 0.0}))
    np.testing.assert_allclose(load_graphml(sc.data, sc.city).from_cell(0)[:2], [0, 100])


@pytest.mark.parametrize(("node", "expect"), [
    ({"x": float("nan")}, "'x' = nan"), ({"y": float("inf")}, "'y' = inf"),
    ({"x": "east"}, "non-numeric 'x'"), ({"x": 1e308}, None)])
def test_bad_node_coordinates(tmp_path, node, expect):
    path = line_graph(tmp_path, node=node)
    if expect is None:  # finite but huge: projected fine, the rest of the nodes are in town
        sc = street_scenario(path)
        load_graphml(sc.data, sc.city)
        msg = streets_error("streets_graphml", path, coords="lonlat")
        assert "too far from the origin" in msg
        return
    assert expect in streets_error("streets_graphml", path)


def test_missing_node_coordinates(tmp_path):
    g = nx.Graph()
    g.add_node("a", x=50.0, y=50.0)
    g.add_node("b", x=150.0)
    g.add_edge("a", "b")
    nx.write_graphml(g, tmp_path / "s.graphml")
    assert "has no 'y'" in streets_error("streets_graphml", tmp_path / "s.graphml")


@pytest.mark.parametrize(("edge", "field"), [
    ({"length": -5.0}, "streets_graphml"), ({"length": float("nan")}, "streets_graphml"),
    ({"length": float("inf")}, "streets_graphml"), ({"length": "long"}, "streets_graphml"),
    ({"length": 1e308, "speed_kph": 1e-9}, "streets_graphml"),
    ({"speed_kph": -30.0}, "street_speed_attr"), ({"speed_kph": float("nan")},
                                                 "street_speed_attr"),
    ({"speed_kph": "fast"}, "street_speed_attr")])
def test_bad_edges(tmp_path, edge, field):
    streets_error(field, line_graph(tmp_path, edge=edge))


@pytest.mark.parametrize("content", [
    b"<graphml>", b"", os.urandom(300), b"<html/>", b"not xml at all",
    b'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
    b'<key id="d0" for="node" attr.name="x" attr.type="complex"/><graph '
    b'edgedefault="undirected"><node id="a"><data key="d0">1</data></node></graph></graphml>',
    b'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph '
    b'edgedefault="undirected"><node id="a"><data key="d9">1</data></node></graph></graphml>',
])
def test_not_graphml(tmp_path, content):
    path = tmp_path / "s.graphml"
    path.write_bytes(content)
    streets_error("streets_graphml", path)


def test_empty_graph_bad_names_and_far_away_nodes(tmp_path):
    empty = tmp_path / "e.graphml"
    nx.write_graphml(nx.Graph(), empty)
    assert "no nodes" in streets_error("streets_graphml", empty)
    assert "too long" in streets_error("streets_graphml", str(tmp_path / ("s" * 5000)))
    assert "NUL" in streets_error("streets_graphml", "s\x00.graphml")
    assert "no such file" in streets_error("streets_graphml", tmp_path / "nope.graphml")
    assert "folder" in streets_error("streets_graphml", tmp_path)
    far = nx.Graph()
    far.add_edge("a", "b")
    for n, x in (("a", 1e6), ("b", 1e6 + 100)):
        far.nodes[n].update(x=x, y=5e5)
    nx.write_graphml(far, tmp_path / "far.graphml")
    assert "no street node lies in the" in streets_error("streets_graphml",
                                                         tmp_path / "far.graphml")


def test_disconnected_network_keeps_the_largest_part_with_one_warning(tmp_path):
    from sim.datafile import DataWarning

    g = nx.Graph()
    for k in range(4):
        g.add_node(str(k), x=50.0 + 100 * k, y=50.0)
    g.add_edge("0", "1")
    nx.write_graphml(g, tmp_path / "s.graphml")
    with pytest.warns(DataWarning, match="kept the largest connected part") as info:
        model = build_model(street_scenario(tmp_path / "s.graphml"), days=1)
    message = str(info[0].message)
    assert message.startswith("data.streets_graphml: ") and "\n" not in message
    model.run_days(1)


# -- the command line -----------------------------------------------------------------------
def test_cli_prints_one_error_line_and_exits_2(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text(HEADER + "2025-01-01T01:00:00+01:00,50,50,urgent\n"
                   "2025-01-01T02:00:00,50,50,urgent\n")
    scen = tmp_path / "scen.toml"
    scen.write_text('[data]\ncalls_file = "c.csv"\n')
    exe = Path(sys.executable).with_name("grassroots")
    res = subprocess.run([str(exe), "run", str(scen), "--days", "1"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: data.col_time: "), res.stderr
    assert "Traceback" not in res.stderr
