"""The parameter panel, scenario files and run folders of the browser app (no browser).

The panel's model (:mod:`viz.panel`) is checked against the schema itself: every parameter of
``Scenario().params()`` is reachable, strategy parameters follow ``users_of``, the search
filters, and a bad value gives one line. Uploads (:mod:`viz.upload`), the live CSV export
(:mod:`viz.export`) and run folders in the Results view (:mod:`viz.run_folder`) too; pages are
rendered with ``solara.render``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import ipyvuetify as v
import pandas as pd
import pytest
import solara

from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.strategies import available_strategies
from sim.strategies.registry import users_of
from viz.controls import controls_from_preset
from viz.export import TABLES, live_tables, table_csv
from viz.panel import (
    QUICK,
    apply,
    edits_after,
    grouped,
    has_data_files,
    matches,
    panel_fields,
    parse_params,
    parts_of,
    shown_fields,
    shown_text,
)
from viz.results import RESULTS_ENV, scan_results
from viz.run_folder import is_run_folder, list_runs, read_table_head
from viz.scenario_file import take_upload
from viz.session import Session
from viz.upload import MAX_UPLOAD_BYTES, read_upload

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = sorted(available_strategies())


def alerts(rc) -> list[str]:
    return [c for w in rc.find(v.Alert).widgets for c in w.children if isinstance(c, str)]


def texts(rc) -> str:
    parts = [w.template for w in rc.find(v.VuetifyTemplate).widgets
             if isinstance(w.template, str)]
    parts += [c for w in rc.find(v.Html).widgets for c in w.children if isinstance(c, str)]
    parts += [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
              if w.unsafe_innerHTML]
    return " ".join(parts)


def wrapper_of(rc, name: str) -> v.Html:
    """The element around parameter ``name``'s control (title and description)."""
    return next(w for w in rc.find(v.Html).widgets
                if (w.attributes or {}).get("data-param") == name)


# -- the panel's model --------------------------------------------------------------------------
def test_every_schema_parameter_has_a_field_in_schema_order() -> None:
    fields = panel_fields()
    assert [f.name for f in fields] == [name for name, _, _ in Scenario().params()]
    assert [p for p in grouped(fields)] == parts_of()
    kinds = {f.name: f.kind for f in fields}
    assert kinds["police.officers"] == "int" and kinds["police.share_hq"] == "float"
    assert kinds["dispatch.travel"] == "bool" and kinds["data.mode"] == "choice"
    assert kinds["run.name"] == "text" and kinds["incidents.class_order"] == "list"
    for f in fields:
        info = dict((n, i) for n, _, i in Scenario().params())[f.name]
        assert (f.unit, f.why, f.lo, f.hi, f.choices) == (info.unit, info.why, info.lo,
                                                          info.hi, info.choices)
        assert f.name in f.hint and f.why in f.hint
        if f.unit not in ("", "-"):
            assert f.unit in f.hint


def test_every_parameter_is_reachable() -> None:
    """Shown for some strategy (with a data file), or set by a quick control."""
    fields = panel_fields(load_scenario("replay_synthetic"))
    reachable = set(QUICK)
    for name in STRATEGIES:
        reachable |= {f.name for f in shown_fields(fields, [name], data=True)}
    assert reachable == {name for name, _, _ in Scenario().params()}
    assert set(QUICK) <= {f.name for f in fields}


def test_strategy_parameters_follow_users_of() -> None:
    fields = panel_fields()
    for name in STRATEGIES:
        shown = {f.name for f in shown_fields(fields, [name], data=False)}
        for f in fields:
            if f.part == "strategy" and f.name != "strategy.name":
                assert (f.name in shown) == (name in users_of(f.key)), (name, f.name)
    grid_only = [f.name for f in fields if f.users == ("grid",)]
    assert "strategy.grid_classes" in grid_only
    assert "strategy.grid_classes" not in {f.name for f in shown_fields(fields, ["station"],
                                                                         False)}
    both = {f.name for f in shown_fields(fields, ["station", "grid"], False)}
    assert "strategy.grid_classes" in both  # compare mode: the union of A and B


def test_data_parameters_only_with_a_data_file() -> None:
    assert not has_data_files(load_scenario("default"))
    assert has_data_files(load_scenario("replay_synthetic"))
    fields = panel_fields()
    assert not [f for f in shown_fields(fields, ["centralized"], False) if f.part == "data"]
    data = [f for f in shown_fields(fields, ["centralized"], True) if f.part == "data"]
    assert {f.name for f in data} == {n for n, _, _ in Scenario().params()
                                      if n.startswith("data.")}


def test_search_filters_by_name_or_justification() -> None:
    fields = panel_fields()
    hits = shown_fields(fields, ["centralized"], False, "police.share_hq")
    assert [f.name for f in hits] == ["police.share_hq"]
    why = next(f for f in fields if f.name == "city.width").why
    word = max(why.split(), key=len).strip(".,;:()")
    assert "city.width" in {f.name for f in shown_fields(fields, ["centralized"], False, word)}
    assert all(matches(f, "POLICE.") for f in shown_fields(fields, ["grid"], False, "police."))
    assert shown_fields(fields, ["centralized"], False, "no such parameter xyz") == []
    assert len(shown_fields(fields, ["centralized"], False, "  ")) == len(
        shown_fields(fields, ["centralized"], False))


def test_entries_are_parsed_and_applied(tmp_path: Path) -> None:
    base = load_scenario("default")
    fields = panel_fields(base)
    entries = {"city.width": "30", "police.share_hq": "0.6", "police.share_station": "0.4",
               "dispatch.travel": False, "incidents.on_scene_distribution": "exponential",
               "incidents.classes.routine.codes": "3, 4", "run.name": "mine"}
    sc = apply(base, tuple(entries.items()), tmp_path)
    assert sc.city.width == 30 and sc.police.share_hq == 0.6 and not sc.dispatch.travel
    assert sc.incidents.on_scene_distribution == "exponential"
    assert sc.incidents.classes["routine"].codes == ("3", "4") and sc.run.name == "mine"
    assert apply(base, (), tmp_path) == base
    field = next(f for f in fields if f.name == "city.width")
    assert edits_after({}, field, "30") == {"city.width": "30"}
    assert edits_after({"city.width": "30"}, field, shown_text(field)) == {}


@pytest.mark.parametrize(("entry", "match"), [
    (("city.width", "abc"), "city.width: expected a number, got 'abc'"),
    (("city.width", "2.5"), "city.width: expected a whole number"),
    (("city.width", "0"), "city.width: must be >= 1, got 0"),
    (("police.share_hq", "nan"), "police.share_hq: must be a finite number"),
    (("police.share_hq", "0.9"), "police.share_hq: tier shares must add up to 1"),
    (("dispatch.travel", "yes"), "dispatch.travel: expected on or off"),
    (("incidents.on_scene_distribution", "gamma"), "must be one of lognormal, exponential"),
    (("no.such", "1"), "no.such: unknown parameter"),
    (("city.width", "9" * 20_000), "city.width: longer than 10,000 characters"),
    (("data.calls_file", "/etc/passwd"), "data.calls_file: refused"),
    (("data.streets_graphml", "../outside.graphml"), "data.streets_graphml: refused"),
])
def test_a_bad_entry_gives_one_line(tmp_path: Path, entry: tuple, match: str) -> None:
    with pytest.raises(ScenarioError, match=match) as info:
        apply(load_scenario("default"), (entry,), tmp_path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 600


def test_data_paths_inside_the_root_are_resolved(tmp_path: Path) -> None:
    fields = panel_fields()
    out = parse_params({"data.calls_file": "calls.csv"}, fields, tmp_path)
    assert out == {"data.calls_file": str(tmp_path.resolve() / "calls.csv")}
    assert parse_params({"data.calls_file": ""}, fields, tmp_path) == {"data.calls_file": ""}


def test_controls_apply_panel_entries_and_refuse_bad_ones(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    c = dataclasses.replace(controls_from_preset("default", seed=5),
                            params=(("city.width", "30"), ("police.officers", "7")))
    sc = c.scenario()
    assert sc.city.width == 30 and sc.police.officers == c.officers  # the quick control wins
    bad = dataclasses.replace(c, params=(("hazard.near_repeat_eta", "-1"),))
    s = Session()
    with pytest.raises(ScenarioError, match=r"^hazard\.near_repeat_eta: must be >= 0"):
        s.reset(bad)
    assert not s.sims
    with pytest.raises(ScenarioError, match="Parameters"):
        dataclasses.replace(c, params="city.width=3").scenario()


# -- the panel in the page ----------------------------------------------------------------------
def test_page_panel_groups_search_and_apply(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    from viz.app import Page

    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    _box, rc = solara.render(Page(), handle_error=False)
    try:
        headers = [w.children[0] for w in rc.find(v.ExpansionPanelHeader).widgets]
        assert [h.split(" ")[0] for h in headers] == [p for p in parts_of() if p != "data"]
        assert not rc.find(v.TextField, label="city.width")  # groups are closed
        assert all(w.attributes.get("aria-label") for w in rc.find(v.Slider).widgets)
        rc.find(v.ExpansionPanels).widget.v_model = [1]  # open "city"
        width = rc.find(v.TextField, label="city.width").widget
        assert width.type == "number" and width.attributes["min"] == 1
        assert width.attributes["aria-label"] == "city.width"
        assert width.attributes["aria-describedby"] == "gr-param-city-width"
        hint = next(f for f in panel_fields() if f.name == "city.width").hint
        wrapper = wrapper_of(rc, "city.width")
        assert wrapper.tag == "div" and wrapper.attributes["title"] == hint  # the tooltip
        described = wrapper.children[-1]  # read by screen readers (aria-describedby)
        assert described.attributes == {"id": "gr-param-city-width"}
        assert described.children == [hint] and described.class_ == "grassroots-sr-only"

        search = rc.find(v.TextField, label="Search parameters").widget
        search.v_model = "near_repeat"
        groups = [w.children[0] for w in rc.find(v.Html, class_="grassroots-param-group")
                  .widgets]
        assert groups == ["hazard"]
        labels = {w.label for w in rc.find(v.TextField).widgets} | {
            w.label for w in rc.find(v.Checkbox).widgets}
        assert {"hazard.near_repeat", "hazard.near_repeat_eta"} <= labels
        assert "city.width" not in labels
        eta = rc.find(v.TextField, label="hazard.near_repeat_eta").widget
        eta.v_model = "-1"
        eta.fire_event("keyup.enter", None)
        rc.find(v.Btn, children=["Apply"]).widget.click()
        assert any(a.startswith("hazard.near_repeat_eta: must be >= 0") for a in alerts(rc))
        eta = rc.find(v.TextField, label="hazard.near_repeat_eta").widget
        eta.v_model = "0.5"
        eta.fire_event("keyup.enter", None)
        rc.find(v.Btn, children=["Apply"]).widget.click()
        assert not any("near_repeat" in a for a in alerts(rc))
        assert "Controls changed: press Reset to apply them." not in alerts(rc)  # applied

        search.v_model = "grid_classes"  # a grid-only parameter: hidden for centralized
        assert not rc.find(v.TextField, label="strategy.grid_classes")
        rc.find(v.Select, label="Strategy").widget.v_model = "grid"
        assert rc.find(v.TextField, label="strategy.grid_classes").widget
        search = rc.find(v.TextField, label="Search parameters").widget
        search.v_model = "officers"  # a quick control's parameter is listed, not offered
        line = wrapper_of(rc, "police.officers").children[0].children[0]
        assert line.startswith("police.officers = 120 (set with the Officers control")
        assert not rc.find(v.TextField, label="police.officers")
    finally:
        rc.close()


# -- uploads ------------------------------------------------------------------------------------
def test_upload_a_good_scenario(tmp_path: Path) -> None:
    text = load_scenario("community").with_overrides({"police.officers": 77}).to_toml()
    sc = read_upload("mine.toml", text.encode(), tmp_path)
    assert sc.police.officers == 77 and sc.strategy.name == "community"
    assert take_upload({"name": "x.toml", "size": len(text)}, lambda: text.encode(),
                       tmp_path) == sc


@pytest.mark.parametrize(("data", "match"), [
    (b"[run\nname = 1", "bad.toml: not valid TOML"),
    (b"\xff\xfe\x00garbage", "bad.toml: not"),
    (b"[police]\nofficers = -3\n", "bad.toml: police.officers: must be >= 0"),
    (b"[nope]\nx = 1\n", "bad.toml: nope: unknown section"),
    (b"[data]\ncalls_file = '/etc/passwd'\n", "bad.toml: data.calls_file: refused"),
    (b"[data]\ncalls_file = '../../secret.csv'\n", "bad.toml: data.calls_file: refused"),
    (b"[data]\nstreets_graphml = '/etc/hosts'\n", "bad.toml: data.streets_graphml: refused"),
    (b"[data]\ncalls_file = 3\n", "bad.toml: data.calls_file: expected a file name"),
])
def test_a_bad_upload_gives_one_line(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(ScenarioError, match=match) as info:
        read_upload("dir/bad.toml", data, tmp_path)
    text = str(info.value)
    assert "\n" not in text and "grassroots-upload-" not in text  # no temporary path


def test_an_upload_too_big_is_not_read(tmp_path: Path) -> None:
    big = b"# " + b"x" * MAX_UPLOAD_BYTES
    with pytest.raises(ScenarioError, match=r"big\.toml: larger than 1,000 kB"):
        read_upload("big.toml", big, tmp_path)

    def never() -> bytes:
        raise AssertionError("read although too big")

    with pytest.raises(ScenarioError, match="larger than"):
        take_upload({"name": "big.toml", "size": MAX_UPLOAD_BYTES + 1}, never, tmp_path)


def test_an_upload_may_name_data_files_inside_the_root(tmp_path: Path) -> None:
    data = ROOT / "scenarios" / "data"
    shutil.copy(data / "synthetic_calls.csv", tmp_path / "calls.csv")
    text = (ROOT / "scenarios" / "replay_synthetic.toml").read_text()
    text = text.replace("data/synthetic_calls.csv", "calls.csv").replace(
        'streets_graphml = "data/synthetic_streets.graphml"', "")
    sc = read_upload("replay.toml", text.encode(), tmp_path)
    assert sc.data.calls_file == str(tmp_path.resolve() / "calls.csv")
    assert has_data_files(sc)
    (tmp_path / "link.csv").symlink_to(data / "synthetic_calls.csv")  # a link leading out
    with pytest.raises(ScenarioError, match=r"data\.calls_file: refused"):
        read_upload("replay.toml", text.replace("calls.csv", "link.csv").encode(), tmp_path)


# -- export -------------------------------------------------------------------------------------
def test_live_tables_export_as_csv() -> None:
    s = Session()
    s.reset(controls_from_preset("default", seed=3))
    s.step(30)
    sim = s.sims[0]
    tables = live_tables(sim)
    assert set(tables) == set(TABLES)
    inc = tables["incidents"]
    assert len(inc) > 0 and (inc["t_occur"] <= sim.model.now).all()
    assert not (inc[["t_report", "t_arrive", "t_clear"]] > sim.model.now).any().any()
    assert len(tables["daily"]) == 2
    assert len(tables["communities"]) == sim.model.layout.n_communities
    daily = pd.read_csv(io.BytesIO(table_csv(sim, "daily")))
    assert list(daily.columns) == list(tables["daily"].columns)
    assert daily["incidents_true"].sum() == len(inc)
    s.step(1)  # the run goes on after an export
    assert s.hours == 31
    with pytest.raises(KeyError):
        table_csv(sim, "../etc/passwd")


# -- run folders in the Results view ----------------------------------------------------------
@pytest.fixture(scope="module")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results root holding one `grassroots run --out` folder (``runs/day2``)."""
    root = tmp_path_factory.mktemp("results")
    out = root / "runs" / "day2"
    out.parent.mkdir()
    exe = Path(sys.executable).with_name("grassroots")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sim"]
    proc = subprocess.run([*cmd, "run", "default", "--days", "2", "--out", str(out)],
                          cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return root.resolve()


def test_run_folders_are_found_and_read(run_root: Path) -> None:
    assert list_runs(run_root) == ["runs/day2"]
    assert is_run_folder(run_root / "runs" / "day2", run_root)
    found = scan_results("runs/day2", run_root)
    assert found.error is None and found.kind == "run"
    summary = json.loads((run_root / "runs" / "day2" / "summary.json").read_text())
    assert found.summary == summary and found.summary["days"] == 2
    assert tomllib.loads(found.scenario)["run"]["days"] == 2
    tables = {t.name: t for t in found.tables}
    assert {"incidents", "daily", "communities"} <= set(tables)
    assert tables["incidents"].rows == summary["incidents_true"]
    assert tables["daily"].rows == 2 and "response_time_mean" in tables["daily"].columns
    head = read_table_head(run_root / "runs" / "day2" / "daily.parquet", run_root)
    assert len(head) == 2


def test_results_view_opens_a_run_folder(run_root: Path, tmp_path: Path) -> None:
    from viz.results_view import ResultsView

    (tmp_path / "outside").mkdir()
    (run_root / "runs" / "link-out").symlink_to(tmp_path / "outside")
    _box, rc = solara.render(ResultsView(run_root), handle_error=False)
    try:
        assert rc.find(v.Select, label="Run folder").widget.items == ["runs/day2"]
        assert not alerts(rc), alerts(rc)  # opened first: no store to prefer
        page = texts(rc)
        assert "Run summary" in page and "grassroots-run-summary" in page
        assert "response_time_mean" in page and "incidents.parquet" in page
        assert "no PNG" not in page
        assert rc.find(v.Select, label="Table").widget.items[0] == "allocations"
        rc.find(v.Select, label="Table").widget.v_model = "daily"
        assert "First 2 rows of daily.parquet" in texts(rc)
        rc.find(v.Select, label="Run folder").widget.v_model = "/etc"  # not listed: ignored
        assert "Run summary" in texts(rc)
    finally:
        rc.close()
        (run_root / "runs" / "link-out").unlink()


def test_the_upload_input_refuses_a_big_file_unread(tmp_path: Path) -> None:
    """The page's upload input: a file declared too big is refused before it is read."""
    import time

    from viz.scenario_file import ScenarioFileInput, ScenarioUpload

    got = []
    _box, rc = solara.render(ScenarioUpload(tmp_path, lambda sc, name: got.append(name)),
                             handle_error=False)
    try:
        widget = rc.find(ScenarioFileInput).widget
        assert widget.label == "Upload scenario (TOML)" and ".toml" in widget.accept
        widget.file_info = [{"name": "huge.toml", "size": 50 * MAX_UPLOAD_BYTES}]
        deadline = time.monotonic() + 10
        while not alerts(rc):
            assert time.monotonic() < deadline, "no message"
            time.sleep(0.05)
        assert alerts(rc) == ["huge.toml: larger than 1,000 kB; not a scenario file"]
        assert got == []
    finally:
        rc.close()
