"""The browser app exposes nothing: only the results root is read, bad input gives messages.

Paths are checked by :func:`viz.state.resolve_in_root` and :func:`viz.state.list_stores`;
controls by :meth:`viz.state.Controls.validate`; the pages are rendered with ``solara.render``
(no browser) and every refusal must be a message in the page, never an exception.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import ipyvuetify as v
import ipywidgets as widgets
import pandas as pd
import pytest
import solara
from typer.testing import CliRunner

from sim.scenario import ScenarioError
from viz import server
from viz.state import (
    MANIFEST,
    RESULTS_ENV,
    Controls,
    OutsideResultsError,
    Session,
    controls_from_preset,
    list_stores,
    resolve_in_root,
    results_root,
    scan_results,
)

PNG = b"\x89PNG\r\n\x1a\n"
SECRET = "top secret, outside the results root"


def write_store(folder: Path, rows: int = 2) -> Path:
    """A small sweep store: manifest, one runs part, a report with a figure."""
    from matplotlib.figure import Figure

    (folder / "runs").mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"format": 1, "name": folder.name}))
    pd.DataFrame({"strategy": [f"s{i}" for i in range(rows)], "rt": [9.0] * rows}).to_parquet(
        folder / "runs" / "part-0000.parquet")
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    (folder / "figures").mkdir()
    fig.savefig(folder / "figures" / "rt.png")
    (folder / "report.md").write_text(f"# Report of {folder.name}\n\n![rt](figures/rt.png)\n")
    return folder


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A results root with stores, a plain folder and links out; and a folder outside it.

    Inside ``root``: ``alpha`` and ``nested/beta`` (stores), ``plain`` (no manifest),
    ``etc`` -> /etc, ``escape`` -> the outside store, ``alias`` -> ``alpha`` and, inside
    ``alpha``, ``leak.md`` -> a file outside.
    """
    root = tmp_path / "results"
    outside = write_store(tmp_path / "outside")
    (outside / "secret.md").write_text(SECRET)
    write_store(root / "alpha")
    write_store(root / "nested" / "beta", rows=3)
    (root / "plain").mkdir()
    (root / "plain" / "notes.md").write_text("plain notes")
    (root / "etc").symlink_to("/etc")
    (root / "escape").symlink_to(outside)
    (root / "alias").symlink_to(root / "alpha")
    (root / "alpha" / "leak.md").symlink_to(outside / "secret.md")
    return root.resolve(), outside.resolve()


# -- paths ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["/etc", "../..", "..", "etc", "escape", "escape/runs",
                                  "alpha/../../outside", "/", "etc/passwd"])
def test_paths_outside_the_root_are_refused(layout: tuple[Path, Path], text: str) -> None:
    root, _ = layout
    with pytest.raises(OutsideResultsError, match="outside the results folder"):
        resolve_in_root(text, root)
    found = scan_results(text, root)
    assert "outside the results folder" in found.error
    assert not found.figures and not found.documents and found.runs is None


@pytest.mark.parametrize(("text", "why"), [("alpha\x00/x", "NUL"), ("a" * 300, "too long"),
                                           ("x/" * 600, "too long"), ("al\npha", "control"),
                                           ("\udcff", "not a valid path")])
def test_invalid_names_are_refused(layout: tuple[Path, Path], text: str, why: str) -> None:
    root, _ = layout
    with pytest.raises(OutsideResultsError, match=why):
        resolve_in_root(text, root)
    assert "results folder" in scan_results(text, root).error


def test_symlink_loop_is_refused(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    with pytest.raises(OutsideResultsError):
        resolve_in_root("loop1", root)
    assert "loop1" not in list_stores(root)


def test_paths_inside_the_root_resolve(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    assert resolve_in_root("alpha", root) == root / "alpha"
    assert resolve_in_root(str(root / "nested" / "beta"), root) == root / "nested" / "beta"
    assert resolve_in_root("nested/../alpha", root) == root / "alpha"
    assert resolve_in_root("alias", root) == root / "alpha"  # a link that stays inside


def test_listing_shows_only_stores_inside_the_root(layout: tuple[Path, Path]) -> None:
    root, outside = layout
    stores = list_stores(root)
    assert stores == ["alias", "alpha", "nested/beta"]
    assert not any(s.startswith(("etc", "escape", "plain")) for s in stores)
    assert all((root / s).resolve().is_relative_to(root) for s in stores)
    assert list_stores(outside.parent / "nothing-here") == []
    assert list_stores(root / "alpha") == ["."]  # a root that is itself a store


def test_a_store_inside_the_root_opens(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    found = scan_results("nested/beta", root)
    assert found.error is None
    assert found.path == root / "nested" / "beta"
    assert [str(p) for p in found.figures] == ["figures/rt.png"]
    assert len(found.runs) == 3 and found.n_parts == 1
    alpha = scan_results("alpha", root)
    assert [str(p) for p in alpha.documents] == ["report.md"]  # leak.md points outside
    assert scan_results("plain", root).documents == [Path("notes.md")]
    assert "no such folder" in scan_results("missing", root).error


def test_missing_root_is_reported_not_created(tmp_path: Path) -> None:
    root = tmp_path / "no-results"
    found = scan_results("alpha", root)
    assert "does not exist" in found.error
    assert list_stores(root) == []
    assert not root.exists()


def test_corrupt_and_missing_parts_are_messages(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "alpha" / "runs" / "part-0001.parquet").write_bytes(b"PAR1 not parquet at all")
    found = scan_results("alpha", root)
    assert "cannot read the part files" in found.error
    assert found.runs is None and found.figures  # the figures are still shown
    (root / "alpha" / "runs" / "part-0002.parquet").symlink_to(root / "gone.parquet")
    assert "cannot read" in scan_results("alpha", root).error


def test_results_root_comes_from_the_environment(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "x" / ".." / "r"))
    assert results_root() == (tmp_path / "r").resolve()
    monkeypatch.delenv(RESULTS_ENV)
    monkeypatch.chdir(tmp_path)
    assert results_root() == (tmp_path / "results").resolve()


# -- the results view -------------------------------------------------------------------------
def alerts(rc) -> list[str]:
    """Texts of every alert (info, warning, error) in the page."""
    out = []
    for w in rc.find(v.Alert).widgets:
        out += [c for c in w.children if isinstance(c, str)]
    return out


def texts(rc) -> str:
    """Every Markdown and plain text of the page, joined."""
    parts = [w.template for w in rc.find(v.VuetifyTemplate).widgets
             if isinstance(w.template, str)]
    parts += [c for w in rc.find(v.Html).widgets for c in w.children if isinstance(c, str)]
    return " ".join(parts)


def open_folder(rc, text: str) -> None:
    rc.find(v.TextField, label="Sweep folder (inside the results folder)").widget.v_model = text
    rc.find(v.Btn, children=["Open"]).widget.click()


def test_results_view_lists_and_opens_only_inside(layout: tuple[Path, Path]) -> None:
    from viz.components import ResultsView

    root, _ = layout
    _box, rc = solara.render(ResultsView(root), handle_error=False)
    try:
        assert rc.find(v.Select, label="Sweep store").widget.items == [
            "alias", "alpha", "nested/beta"]
        assert "Report of alpha" in texts(rc)  # the first store is opened
        assert all(bytes(w.value).startswith(PNG) for w in rc.find(widgets.Image).widgets)
        rc.find(v.Select, label="Sweep store").widget.v_model = "nested/beta"
        assert "Report of beta" in texts(rc)
        assert "3 rows from 1 part files" in texts(rc)
        for text in ("/etc", "../..", "etc", "escape", "alpha\x00", "b" * 5000):
            open_folder(rc, text)
            assert any("results folder" in a for a in alerts(rc)), text
            assert not rc.find(widgets.Image).widgets, text
            assert SECRET not in texts(rc) and "root:" not in texts(rc), text
        open_folder(rc, "alpha")
        assert "Report of alpha" in texts(rc) and SECRET not in texts(rc)
        # a value no store has (a client can send anything): nothing is opened
        rc.find(v.Select, label="Sweep store").widget.v_model = "/etc"
        assert "Report of alpha" in texts(rc)
    finally:
        rc.close()


def test_results_view_without_a_root(tmp_path: Path) -> None:
    from viz.components import ResultsView

    root = tmp_path / "nowhere"
    _box, rc = solara.render(ResultsView(root), handle_error=False)
    try:
        assert any("does not exist" in a for a in alerts(rc))
        assert not root.exists()
    finally:
        rc.close()


def test_results_view_shows_a_corrupt_store(layout: tuple[Path, Path]) -> None:
    from viz.components import ResultsView

    root, _ = layout
    (root / "alpha" / "runs" / "part-0000.parquet").write_bytes(b"garbage")
    (root / "alpha" / "figures" / "rt.png").write_bytes(b"not a png")
    _box, rc = solara.render(ResultsView(root, "alpha"), handle_error=False)
    try:
        assert any("cannot read the part files" in a for a in alerts(rc))
    finally:
        rc.close()


# -- controls ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_controls() -> Controls:
    return controls_from_preset("default", seed=3)


@pytest.mark.parametrize(("change", "match"), [
    ({"preset": "/etc/passwd"}, "unknown preset"),
    ({"preset": "../README"}, "unknown preset"),
    ({"preset": None}, "unknown preset"),
    ({"strategy": "nope"}, "unknown strategy"),
    ({"strategy": 3}, "unknown strategy"),
    ({"officers": -1}, "Officers"),
    ({"officers": 10**7}, "Officers"),
    ({"officers": "many"}, "must be a number"),
    ({"officers": 12.5}, "whole number"),
    ({"incident_rate": float("nan")}, "finite"),
    ({"incident_rate": float("inf")}, "finite"),
    ({"incident_rate": 1e6}, "Incident rate"),
    ({"incident_rate": None}, "must be a number"),
    ({"seed": -5}, "Seed"),
    ({"seed": 2**80}, "Seed"),
    ({"seed": True}, "must be a number"),
    ({"sink_fraction": 2.0}, "Sink fraction"),
    ({"sink_fraction": "x"}, "Sink fraction"),
])
def test_invalid_controls_raise_scenario_errors(base_controls: Controls, change: dict,
                                                match: str) -> None:
    from viz.state import strategy_params

    if "sink_fraction" in change and "sink_fraction" not in strategy_params():
        pytest.skip("the schema has no strategy.sink_fraction")
    c = dataclasses.replace(base_controls, **change)
    with pytest.raises(ScenarioError, match=match):
        c.scenario()
    s = Session()
    with pytest.raises(ScenarioError):
        s.reset(c)
    assert not s.sims  # nothing changed


def test_controls_from_preset_refuses_paths() -> None:
    with pytest.raises(ScenarioError, match="unknown preset"):
        controls_from_preset("/etc/passwd")
    with pytest.raises(ScenarioError, match="Seed"):
        controls_from_preset("default", seed=-1)


def test_page_shows_invalid_controls_and_errors(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture,
                                                tmp_path: Path) -> None:
    """Bad values as a client could send them: messages in the page, no exception, no
    traceback in the log; a failing model step and the Results view root too."""
    from viz.app import Page

    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "root"))
    write_store(tmp_path / "root" / "mine")
    (tmp_path / "root" / "up").symlink_to(tmp_path)
    caplog.set_level(logging.WARNING)
    _box, rc = solara.render(Page(), handle_error=False)
    try:
        def error_shown(text: str) -> bool:
            return any(text in a for a in alerts(rc))

        def reset() -> None:
            rc.find(v.Btn, children=["Reset"]).widget.click()

        def type_seed(text: str) -> None:
            field = rc.find(v.TextField, label="Seed").widget
            field.v_model = text
            field.fire_event("keyup.enter", None)  # InputInt applies on Enter or focus out

        type_seed("-5")
        reset()
        assert error_shown("Seed: must be between 0")
        type_seed("7")
        reset()
        assert not any("Seed" in a for a in alerts(rc))
        rc.find(v.Select, label="Strategy").widget.v_model = "no-such-strategy"
        reset()
        assert error_shown("unknown strategy 'no-such-strategy'")
        rc.find(v.Select, label="Strategy").widget.v_model = "centralized"
        officers = next(w for w in rc.find(v.Slider).widgets
                        if (w.attributes or {}).get("aria-label") == "Officers")
        officers.v_model = 10**7
        reset()
        assert error_shown("Officers: must be between 0 and 5,000")
        officers.v_model = 100
        rc.find(v.Select, label="Scenario preset").widget.v_model = "/etc/passwd"
        assert error_shown("unknown preset '/etc/passwd'")
        reset()  # the preset stays the one applied before
        assert not alerts(rc) or not any("preset" in a for a in alerts(rc))
        rc.find(v.Select, label="Map background").widget.v_model = "no such layer"
        assert "traceback" not in caplog.text.lower()

        # a model that fails while stepping: a message, the page keeps working
        session_step = Session.step

        def broken(self: Session, hours: int = 1) -> int:
            raise RuntimeError("model exploded")

        monkeypatch.setattr(Session, "step", broken)
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert error_shown("RuntimeError: model exploded")
        monkeypatch.setattr(Session, "step", session_step)
        reset()
        assert not error_shown("model exploded")

        # the Results view reads the configured root only
        for w in rc.find(v.BtnToggle).widgets:
            if w.children[0].children == ["Simulation"]:
                w.v_model = 1
        assert str((tmp_path / "root").resolve()) in texts(rc)
        assert rc.find(v.Select, label="Sweep store").widget.items == ["mine"]
        open_folder(rc, "up")
        assert any("outside the results folder" in a for a in alerts(rc))
    finally:
        rc.close()


def test_page_shows_a_view_that_fails_to_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    import viz.components
    from viz.app import Page

    def broken(session: Session) -> str:
        raise KeyError("no such indicator")

    monkeypatch.setattr(viz.components, "summary_html", broken)
    _box, rc = solara.render(Page(), handle_error=False)
    try:
        assert any("This view could not be drawn: KeyError" in a for a in alerts(rc))
        assert rc.find(v.Btn, children=["Step"]).widget  # the controls still work
        monkeypatch.undo()
        rc.find(v.Btn, children=["Retry"]).widget.click()
        assert not alerts(rc)
        assert rc.find(widgets.Image).widgets  # the map is back
    finally:
        rc.close()


# -- serving ----------------------------------------------------------------------------------
def test_serve_hands_the_resolved_root_to_the_app(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    probe = [sys.executable, "-c", f"import os; print(os.environ[{RESULTS_ENV!r}])"]
    monkeypatch.setattr(server, "solara_command", lambda *a, **k: probe)
    monkeypatch.chdir(tmp_path)
    assert server.serve("127.0.0.1", 1, results="sub/../res") == 0
    out, err = capfd.readouterr()
    assert out.strip() == str((tmp_path / "res").resolve())
    assert "does not exist" in err and not (tmp_path / "res").exists()
    env = server.app_environment(None, base={})
    assert env == {RESULTS_ENV: str((tmp_path / "results").resolve())}


def test_cli_viz_passes_the_results_root(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    from experiments.cli import app

    calls = []
    monkeypatch.setattr(server, "serve",
                        lambda host, port, results=None: calls.append(results) or 0)
    result = CliRunner().invoke(app, ["viz", "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert calls == [tmp_path]
    assert "--results" in CliRunner().invoke(app, ["viz", "--help"]).output
