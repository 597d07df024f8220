"""The browser app's model holder: build, step, reset and compare runs (no UI code).

Everything the page shows is computed here from the model's own arrays, so it can be tested
without a browser:

* :class:`Controls` is what the user sets (preset, strategy and its parameters, officers,
  incident rate, seed). :meth:`Controls.scenario` turns it into a validated
  :class:`sim.scenario.Scenario`; the same controls always give the same model.
* :class:`Sim` holds one model and an hourly history of live indicators (windows of the last
  24 hours and cumulative values) for the charts.
* :class:`Session` holds one run, or two runs for compare mode (same controls and seed,
  different strategies, hence the same incident stream), and steps them together under a lock
  so that the Play thread and button clicks never interleave.
* :func:`scan_results` lists what a sweep folder written by ``grassroots sweep`` holds, and
  :func:`list_stores` the sweep stores, both only below the *results root* given at start-up
  (:func:`results_root`, ``grassroots viz --results DIR``): any other path is refused by
  :func:`resolve_in_root` with a message, never read.

Controls arrive from the browser and may hold anything (a client can send any value for any
widget): :meth:`Controls.validate` refuses what the page does not offer (unknown presets,
paths, non-numbers, values beyond :data:`OFFICERS_RANGE` and :data:`RATE_RANGE`) with a
:class:`sim.scenario.ScenarioError` naming the control, which the page shows.

Times: ``model.time`` counts hours; the log and every indicator are in minutes; charts use
days. Shares are stored as fractions and shown as percentages.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import math
import numbers
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import indicators as registry
from sim.api import build_model
from sim.metrics import COMMITTED, OFF, TIERS
from sim.model import PoliceModel
from sim.scenario import PRIORITIES, Scenario, ScenarioError, StrategyConfig, load_scenario
from sim.units import MIN_PER_DAY

WINDOW_MIN = MIN_PER_DAY
"""Length of the moving window of the live charts (minutes)."""

STEP_CHOICES: dict[str, int] = {"1 h": 1, "6 h": 6, "1 day": 24}
"""Step sizes offered by the page, in model steps (hours)."""

LAYERS: dict[str, str] = {
    "risk": "Crime risk",
    "satisfaction": "Satisfaction",
    "trust": "Trust",
    "response": "Mean response time",
    "population": "Population",
}
"""Background layers of the map: key -> label."""

SINK_PARAMS = ("sink_fraction", "tech")
"""Strategy parameters the page offers when the scenario schema declares them."""

OFFICERS_RANGE = (0, 5000)
"""Officers the page accepts (the slider offers 10-400; more would tie up the server)."""

RATE_RANGE = (0.0, 50.0)
"""Incident rates the page accepts (per 1,000 persons per day; the slider offers 0.5-10)."""

SEED_RANGE = (0, 2**63 - 1)
"""Seeds the page accepts."""

INPUT_ERRORS: tuple[type[BaseException], ...] = (ScenarioError, ValueError, TypeError,
                                                 OverflowError)
"""What invalid controls raise: shown in the page, logged without a traceback."""

_ids = itertools.count(1)


# -- controls --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamSpec:
    """How to offer one optional strategy parameter in the page.

    Attributes:
        name: Field name in ``[strategy]``.
        kind: ``"bool"``, ``"int"`` or ``"float"``.
        default: Default value of the schema.
        lo: Lower bound (None if unbounded).
        hi: Upper bound (None if unbounded).
        unit: Unit declared by the schema.
        why: Justification declared by the schema (shown as a hint).
    """

    name: str
    kind: str
    default: Any
    lo: float | None
    hi: float | None
    unit: str
    why: str


def strategy_params() -> dict[str, ParamSpec]:
    """Return the sinking parameters (``sink_fraction``, ``tech``) the schema declares.

    The strategies that use them are added independently of this page; a parameter missing
    from :class:`sim.scenario.StrategyConfig` is simply not offered.
    """
    out: dict[str, ParamSpec] = {}
    defaults = StrategyConfig()
    for f in dataclasses.fields(StrategyConfig):
        if f.name not in SINK_PARAMS:
            continue
        info = f.metadata.get("param")
        value = getattr(defaults, f.name)
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
        out[f.name] = ParamSpec(f.name, kind, value, getattr(info, "lo", None),
                                getattr(info, "hi", None), getattr(info, "unit", "-"),
                                getattr(info, "why", ""))
    return out


def strategy_names() -> list[str]:
    """Names of every registered strategy, sorted."""
    from sim.strategies import available_strategies

    return list(available_strategies())


def preset_names() -> list[str]:
    """Names of the scenario presets."""
    from scenarios import list_presets

    return [name for name, _ in list_presets()]


@dataclass(frozen=True)
class Controls:
    """What the user sets in the page; everything else comes from the preset.

    Attributes:
        preset: Scenario preset name (see ``scenarios/``).
        strategy: Strategy name.
        officers: Number of officers (``police.officers``).
        incident_rate: True incidents per 1,000 persons per day
            (``incidents.rate_per_1000_day``).
        seed: Root seed (``run.seed``).
        sink_fraction: ``strategy.sink_fraction`` if the schema has it, else None.
        tech: ``strategy.tech`` if the schema has it, else None.
    """

    preset: str = "default"
    strategy: str = "centralized"
    officers: int = 120
    incident_rate: float = 3.0
    seed: int = 20261128
    sink_fraction: float | None = None
    tech: bool | int | float | None = None

    def overrides(self) -> dict[str, Any]:
        """Dotted overrides applied on top of the preset."""
        out: dict[str, Any] = {
            "strategy.name": self.strategy,
            "police.officers": int(self.officers),
            "incidents.rate_per_1000_day": float(self.incident_rate),
            "run.seed": int(self.seed),
        }
        specs = strategy_params()
        for name in SINK_PARAMS:
            value = getattr(self, name)
            if name in specs and value is not None:
                out[f"strategy.{name}"] = _coerce(value, specs[name].kind)
        return out

    def validate(self) -> None:
        """Check every control as the browser may send it (any type, any value).

        Only preset *names* are accepted (a path would make the server read that file), only
        registered strategies, and finite numbers within :data:`OFFICERS_RANGE`,
        :data:`RATE_RANGE` and :data:`SEED_RANGE`; the scenario schema checks the rest.

        Raises:
            sim.scenario.ScenarioError: Naming the control and the problem.
        """
        check_preset(self.preset)
        if not isinstance(self.strategy, str) or self.strategy not in strategy_names():
            raise ScenarioError(f"Strategy: unknown strategy {_shown(self.strategy)} (known: "
                                f"{', '.join(strategy_names())})")
        check_number("Officers", self.officers, *OFFICERS_RANGE, integer=True)
        check_number("Incident rate", self.incident_rate, *RATE_RANGE)
        check_number("Seed", self.seed, *SEED_RANGE, integer=True)
        specs = strategy_params()
        for name in SINK_PARAMS:
            value = getattr(self, name)
            if value is None or name not in specs:
                continue
            spec = specs[name]
            label = name.replace("_", " ").capitalize()
            if spec.kind == "bool":
                if value not in (True, False, 0, 1):
                    raise ScenarioError(f"{label}: must be on or off, got {_shown(value)}")
            else:
                check_number(label, value, spec.lo, spec.hi, integer=spec.kind == "int")

    def scenario(self) -> Scenario:
        """The validated scenario these controls describe.

        Raises:
            sim.scenario.ScenarioError: If a value is invalid, out of bounds or unknown.
        """
        self.validate()
        return load_scenario(self.preset, self.overrides())

    def with_strategy(self, strategy: str) -> Controls:
        """The same controls with another strategy."""
        return dataclasses.replace(self, strategy=strategy)


def _shown(value: Any, limit: int = 60) -> str:
    """A user-supplied value for a message: quoted, escaped, shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_preset(name: Any) -> str:
    """Accept only the name of a preset (never a path: the server would read that file).

    Args:
        name: What the page sent.

    Returns:
        The name.

    Raises:
        sim.scenario.ScenarioError: If ``name`` is not one of :func:`preset_names`.
    """
    if not isinstance(name, str) or name not in preset_names():
        raise ScenarioError(f"Scenario preset: unknown preset {_shown(name)} (known: "
                            f"{', '.join(preset_names())})")
    return name


def check_number(label: str, value: Any, lo: float | None, hi: float | None,
                 integer: bool = False) -> None:
    """Check that a control holds a finite number in ``[lo, hi]``.

    Args:
        label: Name of the control in the message.
        value: What the page sent.
        lo: Smallest value accepted (None: no bound).
        hi: Largest value accepted (None: no bound).
        integer: Whether only whole numbers are accepted.

    Raises:
        sim.scenario.ScenarioError: Naming the control and the problem.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(f"{label}: must be a number, got {_shown(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ScenarioError(f"{label}: must be a finite number, got {_shown(value)}")
    if integer and not x.is_integer():
        raise ScenarioError(f"{label}: must be a whole number, got {_shown(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        low = "-inf" if lo is None else f"{lo:,}" if isinstance(lo, int) else f"{lo:g}"
        high = "inf" if hi is None else f"{hi:,}" if isinstance(hi, int) else f"{hi:g}"
        raise ScenarioError(f"{label}: must be between {low} and {high}, got {_shown(value)}")


def error_message(exc: BaseException, limit: int = 500) -> str:
    """One line for the page about ``exc`` (the message alone for invalid input).

    Args:
        exc: The exception.
        limit: Most characters shown.

    Returns:
        The text.
    """
    text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _coerce(value: Any, kind: str) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return round(float(value))
    return float(value)


def controls_from_preset(preset: str = "default", seed: int | None = None) -> Controls:
    """Read the controls' starting values from a preset.

    Args:
        preset: Preset name.
        seed: Seed to keep (the preset's ``run.seed`` if None).

    Returns:
        Controls matching the preset exactly.

    Raises:
        sim.scenario.ScenarioError: If ``preset`` is not a preset name or ``seed`` is
            invalid.
    """
    check_preset(preset)
    if seed is not None:
        check_number("Seed", seed, *SEED_RANGE, integer=True)
    sc = load_scenario(preset)
    specs = strategy_params()
    extra = {name: getattr(sc.strategy, name) for name in SINK_PARAMS if name in specs}
    return Controls(preset=preset, strategy=sc.strategy.name, officers=sc.police.officers,
                    incident_rate=sc.incidents.rate_per_1000_day,
                    seed=sc.run.seed if seed is None else int(seed), **extra)


# -- live indicators ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    """One row of the summary panel.

    A row whose ``key`` is a registered indicator (:mod:`sim.indicators`, summary or daily
    table) takes its label and unit from the registry and is computed by :func:`live_stats`
    to the registry's definition, over the run so far; the few gauges of the current moment
    (officers on duty now, ...) exist only in the app and carry their own label and unit.

    Attributes:
        key: Key in :func:`live_stats` (a registry name, or a live-only gauge).
        digits: Decimals shown.
        main: Whether it is one of the main indicators (compare charts).
        own_label: Label of a live-only gauge (registered indicators: empty).
        own_unit: Unit of a live-only gauge (registered indicators: empty).
    """

    key: str
    digits: int = 1
    main: bool = False
    own_label: str = ""
    own_unit: str = ""

    @property
    def registered(self) -> registry.Indicator | None:
        """The registry's indicator of this key (summary first, then daily), or None."""
        return registry.find(self.key)

    @property
    def label(self) -> str:
        """Text shown."""
        ind = self.registered
        return self.own_label or (ind.title if ind is not None else self.key)

    @property
    def percent(self) -> bool:
        """Whether the value is a share (fraction) shown in percent (difference in points)."""
        ind = self.registered
        return ind is not None and ind.unit == "share"

    @property
    def unit(self) -> str:
        """Unit shown (``%`` for shares stored as fractions)."""
        ind = self.registered
        if self.own_unit or ind is None:
            return self.own_unit
        return "%" if ind.unit == "share" else ind.unit

    def scale(self, value: float) -> float:
        """The value in the unit shown."""
        return value * 100.0 if self.percent else value


INDICATORS: tuple[Indicator, ...] = (
    Indicator("incidents_true", digits=0),
    Indicator("incidents_reported", digits=0),
    Indicator("reporting_rate"),
    Indicator("response_time_mean", main=True),
    Indicator("response_time_p90", main=True),
    *(Indicator(f"response_time_mean_{p}") for p in PRIORITIES),
    Indicator("clearance_rate", main=True),
    Indicator("satisfaction_mean", digits=3, main=True),
    Indicator("trust_mean", digits=3, main=True),
    Indicator("utilization_mean", main=True),
    *(Indicator(f"utilization_{t}") for t in TIERS),
    Indicator("on_duty", digits=0, own_label="Officers on duty now", own_unit="officers"),
    Indicator("committed", digits=0, own_label="Officers on incidents now",
              own_unit="officers"),
    Indicator("waiting", digits=0, own_label="Incidents waiting now", own_unit="incidents"),
    Indicator("active", digits=0, own_label="Incidents being attended now",
              own_unit="incidents"),
    Indicator("incidents_lost", digits=0),
)
"""Summary panel rows: cumulative since the start unless marked 'now'."""

INDICATOR_BY_KEY = {ind.key: ind for ind in INDICATORS}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def _p90(x: np.ndarray) -> float:
    return float(np.quantile(x, 0.9)) if x.size else float("nan")


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def resident_means(model: PoliceModel, name: str) -> np.ndarray | None:
    """Per-community mean of a resident attribute, or None without residents.

    Args:
        model: The model.
        name: ``"satisfaction"``, ``"trust"`` or ``"familiarity"``.

    Returns:
        One value per community, or None if the model has no residents (yet).
    """
    residents = getattr(model, "residents", None)
    by_community = getattr(residents, "by_community", None)
    if not callable(by_community):
        return None
    try:
        values = np.asarray(by_community(name), dtype=float)
    except (AttributeError, KeyError, ValueError, TypeError):
        return None
    if values.shape != (model.layout.n_communities,):
        return None
    return values


def resident_mean(model: PoliceModel, name: str) -> float:
    """Mean of a resident attribute over all residents (as the summary's ``<name>_mean``).

    Args:
        model: The model.
        name: ``"satisfaction"``, ``"trust"`` or ``"familiarity"``.

    Returns:
        The mean, or NaN if the model has no residents (yet).
    """
    values = getattr(getattr(model, "residents", None), name, None)
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return float("nan")
    return float(arr.mean()) if values is not None and arr.size else float("nan")


def state_time_now(model: PoliceModel) -> np.ndarray:
    """Minutes each officer has spent in each state up to now (read only)."""
    f = model.force
    st = f.state_time.copy()
    st[np.arange(f.n), f.state] += model.now - f.since
    return st


def live_stats(model: PoliceModel, window_min: float = WINDOW_MIN) -> dict[str, float]:
    """Indicators at the model's current time, from its incident log and force arrays.

    Only what has happened by ``model.now`` counts: the log also holds the rest of the day's
    incidents and the planned arrival and clearance times of incidents under way.

    Args:
        model: The model.
        window_min: Length of the moving window for the ``w_`` keys (minutes).

    Returns:
        Cumulative indicators (keys of :data:`INDICATORS`: the registry's names, see
        :mod:`sim.indicators`), moving-window indicators (``w_`` and the same name;
        ``w_response_time_p90_<priority>`` and the incident counts ``w_true`` and
        ``w_recorded`` only for the charts), cumulative officer time by tier
        (``c_committed_<tier>``, ``c_onduty_<tier>``, minutes) and ``hours``.
    """
    now = model.now
    lo = now - window_min
    log = model.log
    col = log.column  # the incidents in memory (all of them unless a long run spilled)
    t_occur, t_report = col("t_occur"), col("t_report")
    t_arrive, t_clear = col("t_arrive"), col("t_clear")
    prio = col("priority")
    occurred = t_occur <= now
    recorded = col("reported") & (t_report <= now)
    arrived = t_arrive <= now
    closed = t_clear <= now
    w_arrived = arrived & (t_arrive > lo)
    w_closed = closed & (t_clear > lo)
    rt_all = t_arrive - t_report
    cleared = col("cleared")
    s: dict[str, float] = {"hours": float(model.time)}
    s["incidents_true"] = float(occurred.sum())
    s["incidents_reported"] = float(recorded.sum())
    s["reporting_rate"] = _ratio(s["incidents_reported"], s["incidents_true"])
    s["w_true"] = float((occurred & (t_occur > lo)).sum())
    s["w_recorded"] = float((recorded & (t_report > lo)).sum())
    for prefix, mask in (("", arrived), ("w_", w_arrived)):
        rt = rt_all[mask]
        s[f"{prefix}response_time_mean"] = _mean(rt)
        s[f"{prefix}response_time_p90"] = _p90(rt)
        p = prio[mask]
        for k, label in enumerate(PRIORITIES):
            sub = rt[p == k]
            s[f"{prefix}response_time_mean_{label}"] = _mean(sub)
            s[f"{prefix}response_time_p90_{label}"] = _p90(sub)
    s["clearance_rate"] = _ratio(float(cleared[closed].sum()), float(closed.sum()))
    s["w_clearance_rate"] = _ratio(float(cleared[w_closed].sum()), float(w_closed.sum()))
    s["satisfaction_mean"] = resident_mean(model, "satisfaction")
    s["trust_mean"] = resident_mean(model, "trust")
    f = model.force
    st = state_time_now(model)
    committed = st[:, COMMITTED].sum(axis=1)
    on = st.sum(axis=1) - st[:, OFF]
    c_tier = np.bincount(f.tier, weights=committed, minlength=len(TIERS))
    o_tier = np.bincount(f.tier, weights=on, minlength=len(TIERS))
    for k, label in enumerate(TIERS):
        s[f"c_committed_{label}"] = float(c_tier[k])
        s[f"c_onduty_{label}"] = float(o_tier[k])
        s[f"utilization_{label}"] = _ratio(c_tier[k], o_tier[k])
    s["utilization_mean"] = _ratio(c_tier.sum(), o_tier.sum())
    s["on_duty"] = float(f.on_duty.sum())
    s["committed"] = float(np.isin(f.state, COMMITTED).sum())
    open_ = model.dispatcher.open.values()
    s["waiting"] = float(sum(1 for inc in open_ if inc.waiting))
    s["active"] = float(len(model.dispatcher.open) - s["waiting"])
    s["incidents_lost"] = float(model.dispatcher.lost)
    return s


HISTORY_KEYS: tuple[str, ...] = (
    "hours",
    *(f"w_response_time_mean_{p}" for p in PRIORITIES), "w_response_time_mean",
    *(f"w_response_time_p90_{p}" for p in PRIORITIES), "w_response_time_p90",
    "w_clearance_rate", "w_true", "w_recorded",
    *(f"c_committed_{t}" for t in TIERS), *(f"c_onduty_{t}" for t in TIERS),
    *(ind.key for ind in INDICATORS if ind.main),
)
"""What :class:`Sim` records every simulated hour (for the charts)."""


# -- one run -----------------------------------------------------------------------------------
class Sim:
    """One model and its hourly history.

    Args:
        controls: The controls the model is built from.
        label: Short name shown above its map (e.g. ``"A: centralized"``).
    """

    def __init__(self, controls: Controls, label: str = "") -> None:
        self.controls = controls
        self.scenario = controls.scenario()
        self.model = build_model(self.scenario)
        self.label = label or controls.strategy
        self.uid = next(_ids)
        self.history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
        self.stats: dict[str, float] = {}
        self.cache: dict[str, Any] = {}
        self.record()

    @property
    def hours(self) -> int:
        """Simulated hours so far."""
        return round(self.model.time)

    @property
    def horizon_hours(self) -> int:
        """Hours until the end of the scenario (``run.days``)."""
        return int(self.model.horizon_days * 24)

    @property
    def done(self) -> bool:
        """Whether the scenario's horizon is reached."""
        return self.hours >= self.horizon_hours

    def step(self, hours: int = 1) -> int:
        """Advance by up to ``hours`` model steps (stops at the horizon).

        Returns:
            The number of hours actually simulated.
        """
        done = 0
        for _ in range(max(0, int(hours))):
            if self.done:
                break
            self.model.step()
            self.record()
            done += 1
        return done

    def run_to(self, hours: int) -> None:
        """Advance to ``hours`` (recording every hour)."""
        self.step(hours - self.hours)

    def record(self) -> None:
        """Compute the live indicators and append the chart keys to the history."""
        self.stats = live_stats(self.model)
        for key in HISTORY_KEYS:
            self.history[key].append(self.stats[key])

    def history_array(self, key: str) -> np.ndarray:
        """One history series as an array."""
        return np.asarray(self.history[key], dtype=float)

    def utilisation_window(self, tier: str | None = None, hours: int = 24) -> np.ndarray:
        """Utilisation over the last ``hours`` at every recorded hour (NaN without duty)."""
        labels = TIERS if tier is None else (tier,)
        c = sum(self.history_array(f"c_committed_{t}") for t in labels)
        o = sum(self.history_array(f"c_onduty_{t}") for t in labels)
        dc, do = _minus_lag(c, hours), _minus_lag(o, hours)
        out = np.full(c.size, np.nan)
        np.divide(dc, do, out=out, where=do > 0)
        return out

    # -- map layers ------------------------------------------------------------------------
    def community_values(self, layer: str) -> np.ndarray | None:
        """Per-community values of a community layer (None if not available)."""
        m = self.model
        if layer in ("satisfaction", "trust"):
            return resident_means(m, layer)
        if layer == "response":
            col = m.log.column
            arrived = col("t_arrive") <= m.now
            rt = (col("t_arrive") - col("t_report"))[arrived]
            comm = col("community")[arrived]
            k = m.layout.n_communities
            total = np.bincount(comm, weights=rt, minlength=k)
            count = np.bincount(comm, minlength=k)
            out = np.full(k, np.nan)
            np.divide(total, count, out=out, where=count > 0)
            return out
        return None

    def layer_values(self, layer: str) -> np.ndarray | None:
        """Per-cell values of a background layer, in its display unit (None if n/a).

        ``risk`` is the share of the city's incidents per cell in percent, ``population``
        persons per cell, ``response`` the mean response time of the cell's community so far
        (minutes), ``satisfaction`` and ``trust`` the community means (0-1).
        """
        lay = self.model.layout
        if layer == "risk":
            return lay.risk * 100.0
        if layer == "population":
            return lay.population.astype(float)
        values = self.community_values(layer)
        return None if values is None else values[lay.community]


# -- the session: one run or two --------------------------------------------------------------
class Session:
    """The runs shown by one page: ``sims[0]`` (A) and in compare mode ``sims[1]`` (B).

    Args:
        controls: Controls to build from (the default preset's if None). Nothing is built
            until :meth:`reset` or :meth:`ensure` is called.
    """

    def __init__(self, controls: Controls | None = None) -> None:
        self.lock = threading.RLock()
        self.controls = controls
        self.applied: Controls | None = None
        self.strategy_b: str | None = None
        self.sims: list[Sim] = []

    @property
    def compare(self) -> bool:
        """Whether two runs are shown."""
        return len(self.sims) > 1

    @property
    def hours(self) -> int:
        """Simulated hours of the runs."""
        return self.sims[0].hours if self.sims else 0

    @property
    def done(self) -> bool:
        """Whether the runs reached the scenario's horizon."""
        return bool(self.sims) and all(s.done for s in self.sims)

    def ensure(self) -> None:
        """Build the first run if nothing is built yet."""
        with self.lock:
            if not self.sims:
                self.reset(self.controls or controls_from_preset())

    def reset(self, controls: Controls, strategy_b: str | None = None) -> None:
        """Rebuild the run(s) at time 0 from ``controls`` (reproducible for a seed).

        Args:
            controls: The controls of run A.
            strategy_b: Strategy of run B for compare mode (None = one run).

        Raises:
            sim.scenario.ScenarioError: If the controls are invalid (nothing changes then).
            ValueError: If a strategy is unknown (nothing changes then).
        """
        sims = [Sim(controls, _label("A", controls.strategy) if strategy_b else
                    controls.strategy)]
        if strategy_b:
            sims.append(Sim(controls.with_strategy(strategy_b), _label("B", strategy_b)))
        with self.lock:
            self.sims = sims
            self.applied = controls
            self.controls = controls
            self.strategy_b = strategy_b

    def set_compare(self, strategy_b: str | None) -> None:
        """Enter compare mode with ``strategy_b``, or leave it with None.

        Entering builds run B from run A's controls with the other strategy and simulates it
        up to A's time, so both are aligned hour by hour on the same incident stream.
        """
        with self.lock:
            self.ensure()
            a = self.sims[0]
            if strategy_b is None:
                a.label = a.controls.strategy
                self.sims = [a]
                self.strategy_b = None
                return
            b = Sim(a.controls.with_strategy(strategy_b), _label("B", strategy_b))
            b.run_to(a.hours)
            a.label = _label("A", a.controls.strategy)
            self.sims = [a, b]
            self.strategy_b = strategy_b

    def step(self, hours: int = 1) -> int:
        """Advance every run by ``hours`` (stops at the horizon); returns hours simulated."""
        with self.lock:
            self.ensure()
            done = [s.step(hours) for s in self.sims]
            return done[0]

    def differences(self) -> list[tuple[Indicator, float, float, float]]:
        """Every indicator as ``(indicator, A, B, B - A)`` in display units (compare mode)."""
        if not self.compare:
            return []
        a, b = self.sims[0].stats, self.sims[1].stats
        out = []
        for ind in INDICATORS:
            va, vb = ind.scale(a[ind.key]), ind.scale(b[ind.key])
            out.append((ind, va, vb, vb - va))
        return out


def _minus_lag(x: np.ndarray, lag: int) -> np.ndarray:
    """``x[i] - x[i - lag]`` (``x[i]`` itself for the first ``lag`` entries)."""
    prev = np.zeros_like(x)
    if lag < x.size:
        prev[lag:] = x[:-lag]
    return x - prev


def _label(side: str, strategy: str) -> str:
    return f"{side}: {strategy}"


def clock_text(hours: float) -> str:
    """``day 3, 14:00`` for a time in hours (day 0 is the first day)."""
    h = round(hours)
    return f"day {h // 24}, {h % 24:02d}:00"


def format_value(value: float, digits: int = 1, signed: bool = False) -> str:
    """A number for the panel; ``n/a`` for NaN, never ``-0.0``.

    Args:
        value: The number.
        digits: Decimals shown.
        signed: Show ``+`` on positive numbers (differences).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) < 0.5 * 10.0**-digits:
        value = 0.0
    return f"{value:{'+' if signed and value else ''},.{digits}f}"


# -- results folders ---------------------------------------------------------------------------
RESULTS_ENV = "GRASSROOTS_RESULTS"
"""Environment variable holding the results root (set by :func:`viz.server.serve`)."""

DEFAULT_RESULTS_DIR = "results"
"""The results root when :data:`RESULTS_ENV` is not set: ``results/`` of the working folder."""

MANIFEST = "manifest.json"
"""The file that makes a folder a sweep store (see :mod:`experiments.store`)."""

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255
MAX_IMAGE_BYTES = 20_000_000
"""Largest figure sent to the browser (bytes)."""


class OutsideResultsError(ValueError):
    """A path the user supplied is refused: outside the results root, or not a valid name."""


def results_root(value: str | os.PathLike[str] | None = None) -> Path:
    """The folder the results view may read, resolved (symlinks followed).

    Args:
        value: The folder; if None, :data:`RESULTS_ENV`, else ``results/`` of the working
            folder.

    Returns:
        The absolute, resolved folder (it need not exist).
    """
    if value is None:
        value = os.environ.get(RESULTS_ENV, "").strip() or DEFAULT_RESULTS_DIR
    path = Path(value).expanduser()
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: keep the folder as given
        return path.absolute()


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) to ``root`` or below it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return False


def resolve_in_root(text: str | os.PathLike[str], root: Path) -> Path:
    """The folder ``text`` names, resolved, if it lies inside ``root``.

    Relative paths start at ``root``; absolute paths are accepted only if they resolve into
    it. Symlinks are followed before the check, so a link inside ``root`` to a folder
    elsewhere is refused, as are ``..`` escapes.

    Args:
        text: What the user typed or picked.
        root: The results root (resolved, see :func:`results_root`).

    Returns:
        The resolved path (it need not exist).

    Raises:
        OutsideResultsError: If the path is outside ``root`` or not a valid path (NUL bytes,
            control characters, over-long names); the message says so.
    """
    raw = os.fspath(text) if isinstance(text, os.PathLike) else text
    if not isinstance(raw, str):
        raise OutsideResultsError(f"{_shown(raw)}: not a folder name")
    shown = _shown(raw)
    where = f"only folders inside the results folder {root} can be opened"
    if "\x00" in raw:
        raise OutsideResultsError(f"{shown}: refused, a path cannot contain a NUL byte ({where})")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise OutsideResultsError(f"{shown}: refused, control characters in the path ({where})")
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise OutsideResultsError(f"{shown}: refused, not a valid path ({where})") from None
    if len(encoded) > MAX_PATH_CHARS or any(
            len(part.encode("utf-8")) > MAX_NAME_BYTES for part in Path(raw).parts):
        raise OutsideResultsError(f"{shown}: refused, the name is too long ({where})")
    path = Path(raw)
    candidate = path if path.is_absolute() else root / path
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError, ValueError):  # symlink loops, names the OS refuses
        raise OutsideResultsError(f"{shown}: refused, the path cannot be resolved ({where})"
                             ) from None
    if not resolved.is_relative_to(root):
        raise OutsideResultsError(f"{shown} is outside the results folder {root}: {where}")
    return resolved


def list_stores(root: Path, max_depth: int = 4, max_stores: int = 500,
                max_dirs: int = 5000) -> list[str]:
    """The sweep stores (folders holding ``manifest.json``) below ``root``.

    Only folders that resolve inside ``root`` count: symlinks leading elsewhere are skipped
    (and never descended into), so nothing outside the root is ever listed. A store's own
    subfolders are not searched.

    Args:
        root: The results root (resolved).
        max_depth: Deepest level searched below ``root``.
        max_stores: At most this many stores.
        max_dirs: At most this many folders visited.

    Returns:
        Paths relative to ``root`` (``"."`` for the root itself), sorted.
    """
    if not root.is_dir():
        return []
    found: set[str] = set()

    def check(folder: Path) -> bool:
        manifest = folder / MANIFEST
        if _inside(folder, root) and manifest.is_file() and _inside(manifest, root):
            found.add(folder.relative_to(root).as_posix() or ".")
            return True
        return False

    for visited, (dirpath, dirnames, _files) in enumerate(os.walk(root, followlinks=False), 1):
        here = Path(dirpath)
        if check(here) or len(here.relative_to(root).parts) >= max_depth:
            dirnames[:] = []
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            check(here / name)  # a link to a store inside the root; never descended into
        if visited >= max_dirs or len(found) >= max_stores:
            break
    return sorted(found)[:max_stores]


def _walk_files(folder: Path, root: Path, suffixes: tuple[str, ...], limit: int,
                max_depth: int = 6) -> list[Path]:
    """Files below ``folder`` with one of ``suffixes`` that resolve inside ``root``.

    Returns:
        Paths relative to ``folder``, sorted, at most ``limit``.
    """
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        if len(here.relative_to(folder).parts) >= max_depth:
            dirnames[:] = []
        for name in filenames:
            p = here / name
            if p.suffix.lower() in suffixes and p.is_file() and _inside(p, root):
                out.append(p.relative_to(folder))
        if len(out) >= 10 * limit:
            break
    return sorted(out)[:limit]


@dataclass
class ResultsFolder:
    """What a sweep folder holds, as found by :func:`scan_results`.

    Attributes:
        path: The folder (resolved; the results root if the folder was refused).
        figures: PNG files (sorted, relative paths below ``path``).
        documents: Markdown files (sorted, relative paths).
        runs: The concatenated ``runs/*.parquet`` part files (None if there are none).
        n_parts: Number of part files read.
        error: Why the folder could not be read (None if it could).
    """

    path: Path
    figures: list[Path]
    documents: list[Path]
    runs: Any = None
    n_parts: int = 0
    error: str | None = None


_IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".svg": "image/svg+xml"}


def read_image(path: Path, root: Path, limit: int = MAX_IMAGE_BYTES) -> bytes | None:
    """The bytes of an image file inside ``root`` (None if outside, missing or too large)."""
    if not _inside(path, root):
        return None
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def inline_images(text: str, base: Path, root: Path) -> str:
    """Embed the images a Markdown file links by relative path as ``data:`` URIs.

    The browser cannot fetch files of the results folder, so ``![x](figures/a.png)`` in a
    report would show a broken image. Only files inside ``root`` are embedded; other links
    are left as they are.

    Args:
        text: Markdown text.
        base: Folder of the Markdown file (relative links start there).
        root: The results folder.

    Returns:
        The text with embedded images.
    """
    root = root.resolve()

    def embed(match: re.Match[str]) -> str:
        alt, target = match.groups()
        if ":" in target or target.startswith("/") or "\x00" in target:
            return match.group(0)
        path = base / target
        mime = _MIME.get(path.suffix.lower())
        data = None if mime is None else read_image(path, root)
        if data is None:
            return match.group(0)
        return f"![{alt}](data:{mime};base64,{base64.b64encode(data).decode('ascii')})"

    return _IMAGE_LINK.sub(embed, text)


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a Parquet file can raise besides bugs (OS, format and Arrow errors)."""
    errors: tuple[type[BaseException], ...] = (OSError, ValueError, TypeError, KeyError,
                                               NotImplementedError, MemoryError)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return errors
    return (*errors, pa.ArrowException)


def scan_results(folder: str | Path, root: str | Path | None = None, max_files: int = 200,
                 max_rows: int = 5000) -> ResultsFolder:
    """List the report figures, documents and run table of a sweep folder inside ``root``.

    Nothing outside ``root`` is read: the folder itself and every file in it must resolve
    (symlinks followed) below ``root``; anything else is refused with a message.

    Args:
        folder: A folder written by ``grassroots sweep``, relative to ``root`` or absolute.
        root: The results root (:func:`results_root` if None).
        max_files: At most this many figures and documents each.
        max_rows: At most this many rows of the runs table.

    Returns:
        The folder's contents; ``error`` says why nothing (or not everything) was read.
    """
    base = results_root(root) if root is not None else results_root()
    if isinstance(folder, str) and not folder.strip():
        return ResultsFolder(base, [], [], error="Choose a sweep store.")
    if not base.is_dir():
        return ResultsFolder(base, [], [], error=f"The results folder {base} does not exist.")
    try:
        path = resolve_in_root(folder, base)
    except OutsideResultsError as exc:
        return ResultsFolder(base, [], [], error=str(exc))
    name = path.relative_to(base).as_posix() or "."
    if not path.is_dir():
        return ResultsFolder(path, [], [], error=f"{name}: no such folder in the results "
                                                 f"folder {base}")
    try:
        figures = _walk_files(path, base, (".png",), max_files)
        documents = _walk_files(path, base, (".md",), max_files)
        runs_dir = path / "runs"
        parts = sorted(p for p in runs_dir.glob("*.parquet")
                       if p.is_file() and _inside(p, base)) if runs_dir.is_dir() else []
    except OSError as exc:
        return ResultsFolder(path, [], [], error=f"{name}: cannot list the folder "
                                                 f"({exc.strerror or exc})")
    runs = None
    error = None
    if parts:
        import pandas as pd

        try:
            frames = []
            rows = 0
            for part in parts:
                frames.append(pd.read_parquet(part))
                rows += len(frames[-1])
                if rows >= max_rows:
                    break
            runs = pd.concat(frames, ignore_index=True).head(max_rows)
        except _read_errors() as exc:
            runs = None
            error = f"{name}/runs: cannot read the part files ({error_message(exc, 300)})"
    if not figures and not documents and runs is None and error is None:
        error = f"{name}: no PNG, Markdown or runs/*.parquet files found"
    return ResultsFolder(path, figures, documents, runs, len(parts), error)
