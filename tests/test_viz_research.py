"""The app for research work (issue 17): history in time, spilled totals, idle controls,
the compare note, the map as modelled, SolaraViz components, exports. No browser."""

from __future__ import annotations

import collections
import dataclasses
import io

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
import solara
from conftest import TINY, make_model, tiny_scenario

from sim.scenario import load_scenario
from viz.charts import chart_series, diff_series
from viz.compare_note import compare_note
from viz.controls import Controls, controls_from_preset
from viz.export import TABLES, live_tables, table_bytes
from viz.figures import charts_png, map_file_png
from viz.live import HISTORY_KEYS, live_stats, resident_mean
from viz.map import (
    DEFAULT_OVERLAYS,
    OUTSIDE_RGBA,
    OVERLAYS,
    MapRenderer,
    community_centres,
    community_labels,
    km_ticks,
    nice_length,
)
from viz.relevance import idle_controls, idle_for
from viz.run import Sim
from viz.session import Session

PNG = b"\x89PNG\r\n\x1a\n"
SMALL_CITY = (("city.width", "8"), ("city.height", "8"), ("city.community_cells", "4"),
              ("city.population", "8000"), ("residents.agents", "300"))


def small(strategy: str = "centralized", *more: tuple[str, object], officers: int = 12,
          seed: int = 5) -> Controls:
    """Controls of an 8 x 8 city with a few officers (a fraction of a second per day)."""
    return dataclasses.replace(controls_from_preset("default", seed=seed), strategy=strategy,
                               officers=officers, params=SMALL_CITY + tuple(more))


# -- 1. the history is in time ------------------------------------------------------------------
def test_history_keys_are_unique() -> None:
    repeated = [k for k, n in collections.Counter(HISTORY_KEYS).items() if n > 1]
    assert not repeated, f"recorded twice an hour: {repeated}"


def test_charts_show_each_day_its_own_value_and_b_minus_a_ends_at_the_table() -> None:
    session = Session()
    session.reset(small("centralized"), "community")
    seen = {}
    for day in range(1, 11):
        session.step(24)
        seen[day] = {i: (resident_mean(s.model, "satisfaction"), resident_mean(s.model, "trust"))
                     for i, s in enumerate(session.sims)}
    a = session.sims[0]
    assert len(a.history["hours"]) == 241 and all(len(v) == 241 for v in a.history.values())
    public = next(c for c in chart_series(a) if c["key"] == "public")
    x = np.asarray(public["x"])
    for day in (5, 10):
        k = int(np.flatnonzero(x == day)[0])
        assert public["series"]["satisfaction"][k] == seen[day][0][0]
        assert public["series"]["trust"][k] == seen[day][0][1]
    assert seen[5][0][0] != seen[10][0][0]  # the defect drew day 5's value at day 10
    d_public = next(c for c in diff_series(session) if c["key"] == "d_public")
    table = {ind.key: diff for ind, _, _, diff in session.differences()}
    assert d_public["series"]["satisfaction"][-1] == pytest.approx(table["satisfaction_mean"])
    assert d_public["series"]["trust"][-1] == pytest.approx(table["trust_mean"])
    assert d_public["x"][-1] == 10.0


# -- 2. running totals: incremental, and after a spill ---------------------------------------
def _close(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _brute_force(model, window: float = 1440.0) -> dict[str, float]:
    """The indicators from every incident in memory, scanned whole (the definition)."""
    c, now = model.log.column, model.now
    arrived = c("t_arrive") <= now
    rt = (c("t_arrive") - c("t_report"))[arrived]
    closed = c("t_clear") <= now
    w_arr = arrived & (c("t_arrive") > now - window)
    w_rt = (c("t_arrive") - c("t_report"))[w_arr]
    w_closed = closed & (c("t_clear") > now - window)
    nan = float("nan")
    return {"incidents_true": float((c("t_occur") <= now).sum()),
            "incidents_reported": float((c("reported") & (c("t_report") <= now)).sum()),
            "response_time_mean": rt.mean() if rt.size else nan,
            "response_time_p90": np.quantile(rt, 0.9) if rt.size else nan,
            "clearance_rate": c("cleared")[closed].mean() if closed.any() else nan,
            "w_response_time_mean": w_rt.mean() if w_rt.size else nan,
            "w_response_time_p90": np.quantile(w_rt, 0.9) if w_rt.size else nan,
            "w_clearance_rate": c("cleared")[w_closed].mean() if w_closed.any() else nan}


def test_running_totals_match_a_full_scan_every_hour() -> None:
    from viz.live import totals_for

    m = make_model(tiny_scenario({"run.days": 8}), seed=4)
    totals = totals_for(m)
    for _ in range(7 * 24):
        m.step()
        got = live_stats(m, totals=totals)
        for key, want in _brute_force(m).items():
            assert _close(got[key], want), (m.time, key, got[key], want)
    assert 0 < totals.frozen < m.log.n  # most incidents folded, the open ones scanned


def test_union_quantile_is_numpy_quantile() -> None:
    from viz.totals import union_quantile

    rng = np.random.default_rng(1)
    for n_a, n_b in ((0, 5), (7, 0), (50, 3), (3, 50), (1000, 17)):
        a, b = np.sort(rng.exponential(10, n_a)), rng.exponential(10, n_b)
        for q in (0.0, 0.5, 0.9, 1.0):
            assert union_quantile(a, b, q) == pytest.approx(np.quantile(np.r_[a, b], q))
    assert np.isnan(union_quantile(np.zeros(0), np.zeros(0), 0.9))


def test_running_totals_count_the_incidents_streamed_to_disk() -> None:
    days = ("run.days", "40")
    kept = Sim(small("community", days, ("run.log_rows", "0")))
    spilled = Sim(small("community", days, ("run.log_rows", "60")))
    for sim in (kept, spilled):
        sim.step(36 * 24 + 7)
    log = spilled.model.log
    assert log.parts() and log.first_id > 0, "the run did not spill"
    assert kept.model.log.first_id == 0
    for key, value in kept.stats.items():
        assert _close(spilled.stats[key], value), (key, spilled.stats[key], value)
    np.testing.assert_allclose(spilled.community_values("response"),
                               kept.community_values("response"), rtol=1e-12)
    # totals computed afresh read the part files: the same again
    fresh = live_stats(spilled.model)
    assert all(_close(fresh[k], v) for k, v in kept.stats.items())
    in_memory = int((log.column("t_occur") <= spilled.model.now).sum())
    assert in_memory < spilled.stats["incidents_true"]  # what live_stats counted before
    pd.testing.assert_frame_equal(live_tables(kept)["daily"], live_tables(spilled)["daily"])


# -- 3. controls that would do nothing ----------------------------------------------------------
@pytest.mark.parametrize(("strategy", "idle"), [
    ("centralized", {"sink_fraction"}), ("station", set()), ("community", set()),
    ("smart", {"sink_fraction", "tech"}), ("plan", {"sink_fraction"}), ("grid", set()),
])
def test_idle_controls_by_strategy(strategy: str, idle: set[str]) -> None:
    sc = load_scenario("default").with_overrides({"strategy.name": strategy})
    reasons = idle_controls(sc)
    assert set(reasons) == idle
    assert all(strategy in text and "\n" not in text for text in reasons.values())


@pytest.mark.parametrize(("preset", "word"), [("replay_synthetic", "replay"),
                                              ("fit_synthetic", "fit")])
def test_incident_rate_is_idle_with_recorded_calls(preset: str, word: str) -> None:
    sc = load_scenario(preset).with_overrides({"strategy.name": "station"})
    reasons = idle_controls(sc)
    assert set(reasons) == {"incident_rate"}
    assert word in reasons["incident_rate"]


def test_an_idle_control_really_changes_nothing() -> None:
    def tables(strategy: str, sink: float) -> pd.DataFrame:
        c = dataclasses.replace(small(strategy), sink_fraction=sink)
        sim = Sim(c)
        sim.step(30)
        return live_tables(sim)["incidents"]

    pd.testing.assert_frame_equal(tables("centralized", 0.1), tables("centralized", 0.9))
    assert not tables("station", 0.1).equals(tables("station", 0.9))
    assert "sink_fraction" in idle_controls(small("centralized").scenario())


def test_idle_in_compare_mode_only_when_idle_for_both() -> None:
    base = load_scenario("default")
    assert set(idle_for(base, ("centralized", "smart"))) == {"sink_fraction"}
    assert idle_for(base, ("centralized", "station")) == {}
    assert idle_for(base, ("no such strategy",)) == {}


# -- 4. compare mode says why the streams drift --------------------------------------------------
def test_compare_note_names_the_mechanisms_and_the_counts() -> None:
    session = Session()
    session.reset(small("centralized"), "community")
    session.step(48)
    a, b = (int(s.stats["incidents_true"]) for s in session.sims)
    text = compare_note(session)
    assert "deterrence" in text and "near-repeat" in text
    assert f"A {a:,}, B {b:,}" in text and f"{b - a:+,}" in text

    off = (("hazard.deterrence", False), ("hazard.near_repeat", False))
    session.reset(small("centralized", *off), "community")
    session.step(48)
    a, b = (int(s.stats["incidents_true"]) for s in session.sims)
    assert a == b
    assert compare_note(session).startswith("Same incident stream: ")
    session.set_compare(None)
    assert compare_note(session) == ""


# -- 5. the map as the city is modelled ---------------------------------------------------------
def test_km_axes_and_scale() -> None:
    assert nice_length(5.0) == 1.0 and nice_length(20.0) == 5.0 and nice_length(0.4) == 0.1
    ticks, labels = km_ticks(10, 500.0)  # 10 cells of 500 m: 0 to 5 km
    assert labels == ["0", "1", "2", "3", "4", "5"]
    np.testing.assert_allclose(ticks, [-0.5, 1.5, 3.5, 5.5, 7.5, 9.5])


def test_community_centres_and_ids() -> None:
    lay = make_model(tiny_scenario()).layout  # 6 x 5 cells, communities of 3 x 3 (last 3 x 2)
    centres = community_centres(lay)
    x, y = lay.xy(np.arange(lay.n_cells))
    for c in range(lay.n_communities):
        cells = lay.community == c
        assert centres[c] == pytest.approx([x[cells].mean(), y[cells].mean()])
    assert community_labels(lay) == [str(i) for i in range(lay.n_communities)]
    renderer = MapRenderer(lay)
    texts = [t.get_text() for t in renderer.overlays["ids"]]
    assert texts == community_labels(lay)


def _pixel(renderer: MapRenderer, x: float, y: float) -> np.ndarray:
    """RGBA (0-1) of the rendered map at cell coordinates ``(x, y)``."""
    fig = renderer.fig
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    px, py = renderer.ax.transData.transform((x, y))
    return buf[int(buf.shape[0] - py), int(px)] / 255.0


def test_map_draws_outside_cells_streets_and_switchable_layers() -> None:
    m = make_model(tiny_scenario())
    lay = m.layout
    lay.mask = np.ones(lay.n_cells, dtype=bool)
    lay.mask[lay.height * 5 + 4] = False  # cell (5, 4) lies outside the city

    class Streets:
        def segments(self) -> np.ndarray:
            return np.array([[[0.0, 0.0], [3.0, 0.0]], [[3.0, 0.0], [3.0, 4.0]]])

    m.travel = Streets()
    from viz.map import street_segments

    renderer = MapRenderer(lay, street_segments(m))
    renderer.set_layer("risk", lay.risk * 100, 0.0, float(lay.risk.max() * 100))
    renderer.set_overlays(())
    assert renderer.outside_cells == 1
    np.testing.assert_allclose(_pixel(renderer, 5.0, 4.0)[:3], OUTSIDE_RGBA[:3], atol=0.02)
    assert renderer.street_count == 2
    streets = renderer.overlays["streets"][0]
    assert not streets.get_visible()
    renderer.set_overlays(["streets", "beats"])
    assert streets.get_visible() and renderer.beat_lines.get_visible()
    assert not any(t.get_visible() for t in renderer.overlays["ids"])
    assert set(DEFAULT_OVERLAYS) <= set(OVERLAYS)


def test_officers_above_posts_and_rings_with_black_edges() -> None:
    m = make_model(tiny_scenario())
    renderer = MapRenderer(m.layout)
    renderer.set_agents(m)
    posts = [c for c in renderer.ax.collections if c not in renderer.overlays["officers"]
             and c not in renderer.overlays["incidents"] and c.get_offsets().shape[0]
             and not hasattr(c, "get_segments")]
    assert posts and max(c.get_zorder() for c in posts) < min(
        c.get_zorder() for c in renderer.officers.values())
    hq = m.layout.hq_cell
    at_hq = np.flatnonzero(m.force.pos == hq)
    assert at_hq.size  # officers start at HQ: they are drawn on top of the star
    edge, ring = renderer.active_edge, renderer.active
    assert edge.get_zorder() < ring.get_zorder()
    assert edge.get_linewidths()[0] > ring.get_linewidths()[0]
    np.testing.assert_allclose(edge.get_edgecolors()[0], [0, 0, 0, 1])
    np.testing.assert_allclose(renderer.waiting.get_edgecolors()[0], [0, 0, 0, 1])


def test_masked_cells_have_no_layer_values() -> None:
    from viz.layers import layer_values

    m = make_model(tiny_scenario())
    m.layout.mask = np.ones(m.layout.n_cells, dtype=bool)
    m.layout.mask[0] = False
    for layer in ("risk", "population"):
        values = layer_values(m, layer)
        assert np.isnan(values[0]) and np.isfinite(values[1:]).all()


# -- 6. SolaraViz components --------------------------------------------------------------------
def test_solaraviz_page_with_the_components_steps_and_redraws() -> None:
    import ipyvuetify as v
    from mesa.visualization import SolaraViz

    from sim.model import PoliceModel
    from viz.mesa_components import IndicatorTable, make_city_map, make_daily_chart

    model = PoliceModel(rng=3, **TINY)

    @solara.component
    def Page() -> None:  # noqa: N802
        with solara.AppLayout():
            SolaraViz(model, components=[make_city_map("risk"),
                                         make_daily_chart("response_time_mean"),
                                         IndicatorTable],
                      model_params={"rng": 3, **TINY})

    _box, rc = solara.render(Page(), handle_error=False)
    try:
        images = rc.find(widgets.Image)
        before = bytes(images.widget.value)
        assert before.startswith(PNG)
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert model.steps == 1
        rc.find(widgets.Image).assert_single()
        assert bytes(rc.find(widgets.Image).widget.value) != before
        rc.find(children=["grassroots · day 0, 01:00"]).assert_single()
        rc.find(solara.widgets.VegaLite).assert_single()
    finally:
        rc.close()


def test_daily_chart_reads_the_datacollector() -> None:
    from sim.model import PoliceModel
    from viz.mesa_components import daily_chart, indicator_rows, make_city_map

    model = PoliceModel(rng=3, **TINY)
    for _ in range(24 * 2 + 1):
        model.step()
    chart = daily_chart(model, ["response_time_mean", "incidents_true"])
    frame = model.datacollector.get_model_vars_dataframe()
    np.testing.assert_array_equal(chart["series"]["incidents_true"],
                                  frame["incidents_true"].to_numpy(float))
    assert chart["unit"] == "mixed units"
    with pytest.raises(ValueError, match=r"^names: not collected daily: nope"):
        daily_chart(model, ["nope"])
    with pytest.raises(ValueError, match=r"^layer: unknown map layer"):
        make_city_map("nope")
    rows = {label: value for label, value, _ in indicator_rows(model)}
    assert rows["Incidents (true)"] == f"{int(live_stats(model)['incidents_true']):,}"


# -- 8. exports -----------------------------------------------------------------------------------
def test_tables_export_as_parquet_and_csv() -> None:
    sim = Sim(small("community"))
    sim.step(30)
    frames = live_tables(sim)
    for name in TABLES:
        back = pd.read_parquet(io.BytesIO(table_bytes(sim, name, "parquet")))
        pd.testing.assert_frame_equal(back, frames[name], check_dtype=False)
        csv = pd.read_csv(io.BytesIO(table_bytes(sim, name, "csv")))
        assert list(csv.columns) == list(frames[name].columns)
    assert isinstance(back["community"].iloc[0], np.integer) or len(back) == 0
    with pytest.raises(KeyError):
        table_bytes(sim, "daily", "xlsx")


def test_figures_export_as_png() -> None:
    session = Session()
    session.reset(small("centralized"), "community")
    session.step(30)
    a, b = session.sims
    png = map_file_png(session, a, "risk")
    assert png.startswith(PNG)
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size[0] >= 1000  # export resolution
    charts = charts_png(session, b)
    assert charts.startswith(PNG) and Image.open(io.BytesIO(charts)).size[0] > 1000


def test_the_solaraviz_example_script_renders_and_resets() -> None:
    import importlib.util
    from pathlib import Path

    import ipyvuetify as v
    from mesa.visualization import SolaraViz

    path = Path(__file__).resolve().parents[1] / "docs" / "solaraviz_example.py"
    spec = importlib.util.spec_from_file_location("solaraviz_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    @solara.component
    def Page() -> None:  # noqa: N802
        with solara.AppLayout():
            SolaraViz(module.model, **module.page.kwargs)

    _box, rc = solara.render(Page(), handle_error=False)
    try:
        assert bytes(rc.find(widgets.Image).widget.value).startswith(PNG)
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert module.model.steps == module.page.kwargs["render_interval"]
        rc.find(v.Btn, children=["Reset"]).widget.click()  # rebuilt from model_params
    finally:
        rc.close()
