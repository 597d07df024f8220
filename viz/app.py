"""The grassroots browser app: watch, steer and compare sinking strategies.

Serve it with ``grassroots viz`` (see :mod:`viz.server`) or ``solara run viz/app.py``. Each
browser tab gets its own :class:`viz.session.Session`; no model is built when this module is
imported, only when the page is first rendered.

Controls (left column) are applied by **Reset**, which rebuilds the run(s) at time 0 from the
controls and the seed, so a Reset with the same controls always gives the same run. Below the
quick controls, the parameter panel (:mod:`viz.panel_view`) offers every scenario parameter,
generated from the schema; its **Apply** is the same Reset. The scenario can be downloaded as
TOML, replaced by an uploaded file, and the live tables exported as CSV or Parquet and the
figures (map, charts) as PNG (:mod:`viz.scenario_file`). Controls the chosen strategy or data
ignore are disabled with the reason (:mod:`viz.relevance`); the map's overlays are switched
with checkboxes; while playing the page is redrawn at most every :data:`RENDER_EVERY_S`. **Step**
advances the chosen amount of simulated time (1 h, 6 h or a day); **Play** repeats steps at
the chosen interval in a background thread. **Compare** adds run B: the same controls and seed
with another strategy (so the same recorded incident stream at the start; deterrence and near
repeats make the true incidents diverge, as the page says with the counts), simulated up to A's
time and then stepped together with A.

Nothing the browser sends can crash the page or read files: controls are checked by
:meth:`viz.controls.Controls.validate` (invalid ones give a message under the buttons, logged in
one line without a traceback), failures while building or stepping a model are shown the same
way (their traceback goes to the server log, as they are bugs), and the Results view reads
only sweep stores below the results root (:func:`viz.results.results_root`, set by
``grassroots viz --results DIR``).
"""

from __future__ import annotations

import logging
import math
import numbers
import time
import traceback
from pathlib import Path
from typing import Any

import solara
import solara.lab

from sim.scenario import Scenario
from viz.components import SimulationView
from viz.controls import (
    INPUT_ERRORS,
    LAYERS,
    STEP_CHOICES,
    Controls,
    controls_from_preset,
    controls_from_scenario,
    preset_names,
    strategy_names,
    strategy_params,
)
from viz.formatting import clock_text, error_message
from viz.map import DEFAULT_OVERLAYS, OVERLAYS
from viz.panel import has_data_files, panel_fields
from viz.panel_view import ParamPanel
from viz.relevance import idle_for
from viz.results import results_root
from viz.results_view import ResultsView
from viz.scenario_file import ScenarioFiles
from viz.session import Session
from viz.widgets import Check, Choice, Slider, TextInput

log = logging.getLogger(__name__)

MODES = ("Single run", "Compare")
VIEWS = ("Simulation", "Results")
PLAY_INTERVAL_MS = (50, 10_000)
"""Accepted range of the Play interval (ms per step)."""
RENDER_EVERY_S = 0.5
"""Shortest time between two redraws of the page while playing (seconds)."""


def finite(value: Any, default: float) -> float:
    """``value`` as a float if it is a finite number, else ``default`` (for display)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and \
            math.isfinite(float(value)):
        return float(value)
    return default


def default_strategy_b(strategies: list[str], a: str) -> str:
    """A sensible second strategy for compare mode: ``community`` if present, else another."""
    for name in ("community", "station", "grid"):
        if name in strategies and name != a:
            return name
    others = [s for s in strategies if s != a]
    return others[0] if others else a


def whole_number(text: Any) -> Any:
    """``text`` as an int if it is one (``"12"``), else unchanged (Reset then refuses it)."""
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return text


def base_scenario(preset: str, source: str | None) -> Scenario:
    """The scenario the panel starts from (the preset's or the uploaded one; defaults if bad)."""
    try:
        return Controls(preset=preset, source=source).base()
    except Exception as exc:  # never while drawing: the defaults stand in, Reset tells why
        log.warning("viz: base scenario: %s", error_message(exc))
        return Scenario()


def _caption(text: str, hint: str = "", key: str | None = None) -> None:
    """A control's caption (and hint); ``key`` keys both (see :func:`Page`)."""
    el = solara.Text(text, style={"font-size": "13px", "margin-bottom": "-14px"})
    if key:
        el.key(f"{key}-caption")
    if hint:
        el = solara.Text(hint, style={"font-size": "11px", "color": "#777",
                                      "margin-bottom": "-14px"})
        if key:
            el.key(f"{key}-hint")


def _idle_note(reason: str | None, key: str) -> None:
    """The one-line reason a control is disabled (nothing when it is in use), keyed by ``key``."""
    if reason:
        solara.Text(f"Not used: {reason}", classes=["grassroots-idle", f"grassroots-idle-{key}"],
                    style={"font-size": "11px", "color": "#8a4b00",
                           "margin-bottom": "2px"}).key(f"{key}-idle")


@solara.component
def StrategyParamInputs(  # noqa: N802
    sink: solara.Reactive, tech: solara.Reactive, idle: dict[str, str],
) -> None:
    """Inputs for the sinking parameters the scenario schema declares (if any).

    Args:
        sink: The sink fraction.
        tech: The technology switch or level.
        idle: Controls the chosen strategy ignores, with the reason (see
            :func:`viz.relevance.idle_controls`): shown disabled, with the reason.
    """
    specs = strategy_params()
    if "sink_fraction" in specs and sink.value is not None:
        spec = specs["sink_fraction"]
        _caption(f"Sink fraction: {finite(sink.value, float('nan')):.2f}", spec.why,
                 key="sink")
        Slider("Sink fraction", sink, min=float(spec.lo if spec.lo is not None else 0.0),
               max=float(spec.hi if spec.hi is not None else 1.0), step=0.05,
               disabled="sink_fraction" in idle).key("sink")
        _idle_note(idle.get("sink_fraction"), "sink_fraction")
    if "tech" in specs and tech.value is not None:
        spec = specs["tech"]
        off = "tech" in idle
        if spec.kind == "bool":
            Check("Technology layer (smart policing)", bool(tech.value), tech.set,
                  disabled=off).key("tech")
        else:
            lo = spec.lo if spec.lo is not None else 0
            hi = spec.hi if spec.hi is not None else 3
            _caption(f"Technology level: {tech.value}", spec.why, key="tech")
            if spec.kind == "int":
                Slider("Technology level", tech, min=int(lo), max=int(hi), step=1, integer=True,
                       disabled=off).key("tech")
            else:
                Slider("Technology level", tech, min=float(lo), max=float(hi), step=0.1,
                       disabled=off).key("tech")
        _idle_note(idle.get("tech"), "tech")


@solara.component
def OverlayChecks(overlays: solara.Reactive) -> None:  # noqa: N802
    """One checkbox per map overlay (community ids, beat borders, streets, ...)."""
    shown = set(overlays.value)

    def toggle(key: str) -> Any:
        def set_on(on: bool) -> None:
            now = set(overlays.value)
            now = now | {key} if on else now - {key}
            overlays.value = tuple(k for k in OVERLAYS if k in now)

        return set_on

    _caption("Map layers")
    with solara.Row(gap="0px 10px", style={"flex-wrap": "wrap"},
                    classes=["grassroots-overlays"]):
        for key, label in OVERLAYS.items():
            Check(label, key in shown, toggle(key))


@solara.component
def MainView(  # noqa: N802
    view: str, session: Session, layer: str, version: int, root: Path,
    overlays: tuple[str, ...] = DEFAULT_OVERLAYS,
) -> None:
    """The simulation or results view, with any failure while drawing it shown as a message.

    Args:
        view: One of :data:`VIEWS`.
        session: The runs.
        layer: Map background layer.
        version: Bumped after every step or reset.
        root: The results root.
        overlays: Map overlays shown (see :data:`viz.map.OVERLAYS`).
    """
    exc, clear = solara.use_exception()
    if exc is not None:
        solara.Error(f"This view could not be drawn: {error_message(exc)}")
        solara.Button("Retry", outlined=True, on_click=clear)
        return
    if view == VIEWS[1]:
        ResultsView(root)
    else:
        SimulationView(session, layer, version, overlays)


@solara.component
def Page() -> None:  # noqa: N802
    """The whole app: controls on the left, simulation or results view on the right."""
    session = solara.use_memo(Session, [])
    strategies = solara.use_memo(strategy_names, [])
    presets = solara.use_memo(preset_names, [])
    first = solara.use_memo(
        lambda: controls_from_preset("default" if "default" in presets else presets[0]), [])

    preset = solara.use_reactive(first.preset)
    strategy = solara.use_reactive(first.strategy)
    strategy_b = solara.use_reactive(default_strategy_b(strategies, first.strategy))
    officers = solara.use_reactive(first.officers)
    rate = solara.use_reactive(first.incident_rate)
    seed = solara.use_reactive(first.seed)
    sink = solara.use_reactive(first.sink_fraction)
    tech = solara.use_reactive(first.tech)
    mode = solara.use_reactive(MODES[0])
    step_label = solara.use_reactive(next(iter(STEP_CHOICES)))
    interval_ms = solara.use_reactive(300)
    layer_label = solara.use_reactive(LAYERS["risk"])
    overlays = solara.use_reactive(DEFAULT_OVERLAYS)
    view = solara.use_reactive(VIEWS[0])
    playing = solara.use_reactive(False)
    version = solara.use_reactive(0)
    error = solara.use_reactive(None)
    root = solara.use_memo(results_root, [])
    edits = solara.use_reactive({})  # the parameter panel's entries, {dotted name: raw}
    source = solara.use_reactive(None)  # an uploaded scenario's TOML (replaces the preset)
    source_name = solara.use_reactive("")
    base = solara.use_memo(lambda: base_scenario(preset.value, source.value),
                           [preset.value, source.value])
    fields = solara.use_memo(lambda: panel_fields(base), [base])
    shown = (strategy.value, strategy_b.value) if mode.value == MODES[1] else (strategy.value,)
    idle = solara.use_memo(lambda: idle_for(base, shown), [base, shown])

    def current() -> Controls:
        # The values as the browser sent them: Controls.validate checks them on Reset.
        return Controls(preset=preset.value, strategy=strategy.value, officers=officers.value,
                        incident_rate=rate.value, seed=seed.value, sink_fraction=sink.value,
                        tech=tech.value, params=tuple(sorted(edits.value.items())),
                        source=source.value, source_name=source_name.value)

    def report(exc: BaseException, expected: bool = False) -> None:
        """Show ``exc`` in the page; log invalid input in one line, anything else in full."""
        if expected:
            log.warning("viz: refused: %s", error_message(exc))
        else:
            log.error("viz: %s", "".join(traceback.format_exception(exc)))
        error.value = error_message(exc)

    def build_first() -> None:
        # Lazy: the first run is built on the first render, not at import.
        try:
            session.reset(first)
        except Exception as exc:  # shown in the page; Reset may try again
            report(exc, isinstance(exc, INPUT_ERRORS))

    solara.use_memo(build_first, [])

    def on_preset(name: str) -> None:
        try:
            c = controls_from_preset(name, seed=seed.value)
        except Exception as exc:  # an unknown preset or seed: keep the current controls
            report(exc, isinstance(exc, INPUT_ERRORS))
            return
        preset.value = name
        source.value, source_name.value = None, ""
        edits.value = {}
        set_quick(c)

    def set_quick(c: Controls) -> None:
        strategy.value, officers.value, rate.value = c.strategy, c.officers, c.incident_rate
        sink.value, tech.value = c.sink_fraction, c.tech
        seed.value = c.seed

    def on_upload(sc: Scenario, name: str) -> None:
        """An uploaded scenario replaces the preset and is applied at once."""
        c = controls_from_scenario(sc, preset.value, source=sc.to_toml(), source_name=name)
        source.value, source_name.value = c.source, name
        edits.value = {}
        set_quick(c)
        do_reset()

    def step_hours() -> int:
        return STEP_CHOICES.get(step_label.value, 1)

    def interval_s() -> float:
        lo, hi = PLAY_INTERVAL_MS
        return min(max(finite(interval_ms.value, lo), lo), hi) / 1000.0

    def do_step() -> None:
        try:
            session.step(step_hours())
        except Exception as exc:  # shown in the page; the run stays as it was
            report(exc)
        version.value += 1

    def do_play() -> None:
        playing.value = not playing.value

    def do_reset() -> None:
        playing.value = False
        b = strategy_b.value if mode.value == MODES[1] else None
        try:
            session.reset(current(), b)
        except Exception as exc:  # invalid controls (or a model that cannot be built)
            report(exc, isinstance(exc, INPUT_ERRORS))
            return
        error.value = None
        version.value += 1

    def on_mode(value: str) -> None:
        playing.value = False
        mode.value = value
        if session.applied is not None and strategy_b.value == session.applied.strategy:
            strategy_b.value = default_strategy_b(strategies, session.applied.strategy)
        try:
            session.set_compare(strategy_b.value if value == MODES[1] else None)
        except Exception as exc:  # e.g. an unknown strategy: stay in the current mode
            report(exc, isinstance(exc, INPUT_ERRORS))
            mode.value = MODES[1] if session.compare else MODES[0]
        version.value += 1

    def play_loop() -> None:
        # Stops when paused, and also when superseded by a newer Play or when the page is
        # closed (the task is then no longer current), so two loops never run at once.
        # The page is redrawn at most every RENDER_EVERY_S while playing fast (a large city's
        # map costs as much as its step), and always when the loop stops.
        drawn = time.monotonic()
        while playing.value and task.is_current():
            t0 = time.monotonic()
            try:
                session.step(step_hours())
            except Exception as exc:
                report(exc)
                playing.value = False
                version.value += 1
                return
            if session.done:
                playing.value = False
                version.value += 1
                return
            if time.monotonic() - drawn >= RENDER_EVERY_S:
                version.value += 1
                drawn = time.monotonic()
            time.sleep(max(0.0, interval_s() - (time.monotonic() - t0)))
        version.value += 1

    task = solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def quick_values() -> dict[str, Any]:
        return {"strategy.name": strategy.value, "police.officers": officers.value,
                "incidents.rate_per_1000_day": rate.value, "run.seed": seed.value,
                "strategy.sink_fraction": sink.value, "strategy.tech": tech.value}

    compare = mode.value == MODES[1]
    applied_b = session.strategy_b if session.compare else None
    pending = session.applied is not None and (
        current() != session.applied or (compare and strategy_b.value != applied_b))
    layer = next((k for k, v in LAYERS.items() if v == layer_label.value), next(iter(LAYERS)))

    solara.Title("grassroots: police force sinking")
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(gap="6px", classes=["grassroots-controls"],
                           style={"width": "310px", "min-width": "310px"}):
            # Every element here is keyed: messages come and go above the controls, and an
            # element matched by position would then be closed and rebuilt, so that a click
            # landing on the old widget meanwhile is lost ('no comm channel defined').
            solara.Markdown("### grassroots").key("title")
            solara.ToggleButtonsSingle(value=mode.value, values=list(MODES),
                                       on_value=on_mode).key("mode")
            Choice("Scenario preset", presets, None if source.value else preset.value,
                   on_preset).key("preset")
            if source.value:
                solara.Info(f"Scenario: uploaded file {source_name.value} (pick a preset to "
                            "go back).", dense=True).key("uploaded")
            Choice("Strategy" if not compare else "Strategy A", strategies, strategy.value,
                   strategy.set).key("strategy")
            if compare:
                Choice("Strategy B", strategies, strategy_b.value,
                       strategy_b.set).key("strategy-b")
            StrategyParamInputs(sink, tech, idle).key("strategy-params")
            _caption(f"Officers: {officers.value}", key="officers")
            # step 1 and a range that holds the value: a slider snaps its value to its steps
            # and range, which would silently change an uploaded scenario's force
            Slider("Officers", officers, min=int(min(10.0, finite(officers.value, 10.0))),
                   max=int(max(400.0, finite(officers.value, 400.0))), step=1,
                   integer=True).key("officers")
            _caption(f"Incident rate: {finite(rate.value, float('nan')):.2f} per 1,000 "
                     "persons per day", key="rate")
            Slider("Incident rate (per 1,000 persons per day)", rate,
                   min=min(0.5, finite(rate.value, 0.5)),
                   max=max(10.0, finite(rate.value, 10.0)), step=0.01,
                   disabled="incident_rate" in idle).key("rate")
            _idle_note(idle.get("incident_rate"), "incident_rate")
            TextInput("Seed", str(seed.value),
                      lambda text: seed.set(whole_number(text))).key("seed")
            if pending:
                solara.Warning("Controls changed: press Reset to apply them.",
                               dense=True).key("pending")
            with solara.Row(gap="6px").key("run-buttons"):
                solara.Button("Step", color="primary", on_click=do_step,
                              disabled=playing.value or session.done)
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=do_play, disabled=session.done and not playing.value)
                solara.Button("Reset", color="primary", outlined=True, on_click=do_reset)
            solara.ToggleButtonsSingle(value=step_label, values=list(STEP_CHOICES)).key("step")
            _caption(f"Play interval: {interval_s() * 1000:.0f} ms per step", key="interval")
            Slider("Play interval (ms per step)", interval_ms, min=50, max=2000, step=50,
                   integer=True).key("interval")
            Choice("Map background", list(LAYERS.values()), layer_label.value,
                   layer_label.set).key("layer")
            OverlayChecks(overlays).key("overlays")
            horizon = session.sims[0].horizon_hours if session.sims else 0
            solara.Text(f"Time: {clock_text(session.hours)} (t = {session.hours} h of "
                        f"{horizon} h)", classes=["grassroots-clock"]).key("clock")
            if session.done:
                solara.Info("End of the scenario's horizon: press Reset.",
                            dense=True).key("done")
            if error.value:
                solara.Error(error.value, classes=["grassroots-error"]).key("error")
            ScenarioFiles(session, version.value, root, on_upload, layer,
                          overlays.value).key("scenario-files")
            ParamPanel(fields, edits, (strategy.value, strategy_b.value) if compare else
                       (strategy.value,), has_data_files(base), quick_values(),
                       do_reset).key("param-panel")
        with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
            solara.ToggleButtonsSingle(value=view, values=list(VIEWS))
            MainView(view.value, session, layer, version.value, root, overlays.value)


page = Page
"""What ``solara run viz/app.py`` serves."""
