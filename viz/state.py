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
* :func:`scan_results` lists what a sweep folder written by ``grassroots sweep`` holds.

Times: ``model.time`` counts hours; the log and every indicator are in minutes; charts use
days. Shares are stored as fractions and shown as percentages.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.enums import OfficerState, Tier
from sim.api import build_model
from sim.incidents import MIN_PER_DAY
from sim.model import PoliceModel
from sim.scenario import PRIORITIES, Scenario, StrategyConfig, load_scenario

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

TIERS = tuple(t.label for t in Tier)
COMMITTED = (int(OfficerState.TRAVELLING), int(OfficerState.ON_SCENE))
OFF_DUTY = int(OfficerState.OFF_DUTY)
SINK_PARAMS = ("sink_fraction", "tech")
"""Strategy parameters the page offers when the scenario schema declares them."""

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

    def scenario(self) -> Scenario:
        """The validated scenario these controls describe.

        Raises:
            sim.scenario.ScenarioError: If a value is out of bounds or unknown.
        """
        return load_scenario(self.preset, self.overrides())

    def with_strategy(self, strategy: str) -> Controls:
        """The same controls with another strategy."""
        return dataclasses.replace(self, strategy=strategy)


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
    """
    sc = load_scenario(preset)
    specs = strategy_params()
    extra = {name: getattr(sc.strategy, name) for name in SINK_PARAMS if name in specs}
    return Controls(preset=preset, strategy=sc.strategy.name, officers=sc.police.officers,
                    incident_rate=sc.incidents.rate_per_1000_day,
                    seed=sc.run.seed if seed is None else int(seed), **extra)


# -- live indicators ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    """One indicator of the summary panel.

    Attributes:
        key: Key in :func:`live_stats`.
        label: Text shown.
        unit: Unit shown (``%`` for shares stored as fractions).
        percent: Whether the value is a fraction shown in percent (difference in points).
        digits: Decimals shown.
        main: Whether it is one of the main indicators (compare charts).
    """

    key: str
    label: str
    unit: str
    percent: bool = False
    digits: int = 1
    main: bool = False

    def scale(self, value: float) -> float:
        """The value in the unit shown."""
        return value * 100.0 if self.percent else value


INDICATORS: tuple[Indicator, ...] = (
    Indicator("incidents_true", "Incidents (true)", "incidents", digits=0),
    Indicator("incidents_recorded", "Incidents recorded", "incidents", digits=0),
    Indicator("reporting_rate", "Reporting rate", "%", percent=True),
    Indicator("rt_mean", "Response time, mean", "min", main=True),
    Indicator("rt_p90", "Response time, p90", "min", main=True),
    Indicator("rt_mean_emergency", "Response time, emergency", "min"),
    Indicator("rt_mean_urgent", "Response time, urgent", "min"),
    Indicator("rt_mean_routine", "Response time, routine", "min"),
    Indicator("clearance_rate", "Clearance rate", "%", percent=True, main=True),
    Indicator("satisfaction", "Resident satisfaction", "0-1", digits=3, main=True),
    Indicator("trust", "Trust in police", "0-1", digits=3, main=True),
    Indicator("utilisation", "Officer utilisation", "%", percent=True, main=True),
    Indicator("utilisation_hq", "Utilisation, HQ", "%", percent=True),
    Indicator("utilisation_station", "Utilisation, stations", "%", percent=True),
    Indicator("utilisation_community", "Utilisation, community", "%", percent=True),
    Indicator("on_duty", "Officers on duty now", "officers", digits=0),
    Indicator("committed", "Officers on incidents now", "officers", digits=0),
    Indicator("waiting", "Incidents waiting now", "incidents", digits=0),
    Indicator("active", "Incidents being attended now", "incidents", digits=0),
    Indicator("lost", "Calls lost (queue full)", "calls", digits=0),
)
"""Summary panel rows: cumulative since the start unless marked 'now'."""

INDICATOR_BY_KEY = {ind.key: ind for ind in INDICATORS}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def _p90(x: np.ndarray) -> float:
    return float(np.quantile(x, 0.9)) if x.size else float("nan")


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def community_population(model: PoliceModel) -> np.ndarray:
    """Persons per community."""
    lay = model.layout
    return np.bincount(lay.community, weights=lay.population, minlength=lay.n_communities)


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


def _weighted_mean(values: np.ndarray | None, weights: np.ndarray) -> float:
    if values is None:
        return float("nan")
    ok = np.isfinite(values) & (weights > 0)
    return float((values[ok] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else float("nan")


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
        Cumulative indicators (keys of :data:`INDICATORS`), moving-window indicators
        (``w_`` prefix), cumulative officer time by tier (``c_committed_<tier>``,
        ``c_onduty_<tier>``, minutes) and ``hours``.
    """
    now = model.now
    lo = now - window_min
    log = model.log
    n = log.size  # rows in memory (all of them unless a very long run spilled)
    t_occur, t_report = log.t_occur[:n], log.t_report[:n]
    t_arrive, t_clear = log.t_arrive[:n], log.t_clear[:n]
    prio = log.priority[:n]
    occurred = t_occur <= now
    recorded = log.reported[:n] & (t_report <= now)
    arrived = t_arrive <= now
    closed = t_clear <= now
    w_arrived = arrived & (t_arrive > lo)
    w_closed = closed & (t_clear > lo)
    rt_all = t_arrive - t_report
    cleared = log.cleared[:n]
    s: dict[str, float] = {"hours": float(model.time)}
    s["incidents_true"] = float(occurred.sum())
    s["incidents_recorded"] = float(recorded.sum())
    s["reporting_rate"] = _ratio(s["incidents_recorded"], s["incidents_true"])
    s["w_true"] = float((occurred & (t_occur > lo)).sum())
    s["w_recorded"] = float((recorded & (t_report > lo)).sum())
    for prefix, mask in (("", arrived), ("w_", w_arrived)):
        rt = rt_all[mask]
        s[f"{prefix}rt_mean"] = _mean(rt)
        s[f"{prefix}rt_p90"] = _p90(rt)
        p = prio[mask]
        for k, label in enumerate(PRIORITIES):
            sub = rt[p == k]
            s[f"{prefix}rt_mean_{label}"] = _mean(sub)
            s[f"{prefix}rt_p90_{label}"] = _p90(sub)
    s["clearance_rate"] = _ratio(float(cleared[closed].sum()), float(closed.sum()))
    s["w_clearance_rate"] = _ratio(float(cleared[w_closed].sum()), float(w_closed.sum()))
    pop = community_population(model)
    s["satisfaction"] = _weighted_mean(resident_means(model, "satisfaction"), pop)
    s["trust"] = _weighted_mean(resident_means(model, "trust"), pop)
    f = model.force
    st = state_time_now(model)
    committed = st[:, COMMITTED].sum(axis=1)
    on = st.sum(axis=1) - st[:, OFF_DUTY]
    c_tier = np.bincount(f.tier, weights=committed, minlength=len(TIERS))
    o_tier = np.bincount(f.tier, weights=on, minlength=len(TIERS))
    for k, label in enumerate(TIERS):
        s[f"c_committed_{label}"] = float(c_tier[k])
        s[f"c_onduty_{label}"] = float(o_tier[k])
        s[f"utilisation_{label}"] = _ratio(c_tier[k], o_tier[k])
    s["utilisation"] = _ratio(c_tier.sum(), o_tier.sum())
    s["on_duty"] = float(f.on_duty.sum())
    s["committed"] = float(np.isin(f.state, COMMITTED).sum())
    open_ = model.dispatcher.open.values()
    s["waiting"] = float(sum(1 for inc in open_ if inc.waiting))
    s["active"] = float(len(model.dispatcher.open) - s["waiting"])
    s["lost"] = float(model.dispatcher.lost)
    return s


HISTORY_KEYS: tuple[str, ...] = (
    "hours",
    *(f"w_rt_mean_{p}" for p in PRIORITIES), "w_rt_mean",
    *(f"w_rt_p90_{p}" for p in PRIORITIES), "w_rt_p90",
    "w_clearance_rate", "w_true", "w_recorded",
    "satisfaction", "trust",
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
            log = m.log
            n = log.size
            arrived = log.t_arrive[:n] <= m.now
            rt = (log.t_arrive[:n] - log.t_report[:n])[arrived]
            comm = log.community[:n][arrived]
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
@dataclass
class ResultsFolder:
    """What a sweep folder holds, as found by :func:`scan_results`.

    Attributes:
        path: The folder.
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
        if ":" in target or target.startswith("/"):
            return match.group(0)
        path = (base / target).resolve()
        mime = _MIME.get(path.suffix.lower())
        if mime is None or not path.is_relative_to(root) or not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{alt}](data:{mime};base64,{data})"

    return _IMAGE_LINK.sub(embed, text)


def scan_results(folder: str | Path, max_files: int = 200,
                 max_rows: int = 5000) -> ResultsFolder:
    """List the report figures, documents and run table of a sweep folder.

    Args:
        folder: A folder written by ``grassroots sweep`` (or any folder).
        max_files: At most this many figures and documents each.
        max_rows: At most this many rows of the runs table.

    Returns:
        The folder's contents; ``error`` says why nothing was found.
    """
    path = Path(folder).expanduser()
    if not str(folder).strip():
        return ResultsFolder(path, [], [], error="Enter the path of a sweep folder.")
    if not path.is_dir():
        return ResultsFolder(path, [], [], error=f"{path}: no such folder")
    figures = sorted(p.relative_to(path) for p in path.rglob("*.png") if p.is_file())
    documents = sorted(p.relative_to(path) for p in path.rglob("*.md") if p.is_file())
    parts = sorted((path / "runs").glob("*.parquet")) if (path / "runs").is_dir() else []
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
        except (OSError, ValueError) as exc:
            error = f"runs/: cannot read the part files ({exc})"
    if not figures and not documents and runs is None and error is None:
        error = f"{path}: no PNG, Markdown or runs/*.parquet files found"
    return ResultsFolder(path, figures[:max_files], documents[:max_files], runs, len(parts),
                         error)

