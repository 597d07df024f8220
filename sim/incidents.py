"""The incident process and the incident log.

Incidents follow a non-homogeneous Poisson process over cells and time: the intensity of cell
``c`` at time ``t`` is ``rate * population / 1000 * risk[c] * m[c] * cycle(t)``, where ``m`` is a
modifier the police can change (deterrence, near-repeat; 1 by default) and ``cycle`` is a daily
cosine with mean one. Because the modifier is held constant within a day, one day's incidents
are drawn at once: a Poisson count, then times from the daily cycle, cells from the spatial
weights and priorities from the mix — one numpy call each, instead of one event per incident.

Every incident also gets its pre-drawn uniforms (reporting, clearance, on-scene, delays) from
the incident stream at birth. Strategies therefore face the same incidents *and* the same luck
(common random numbers), and a trust-dependent reporting decision is a threshold on a fixed
uniform rather than a new draw.

The :class:`IncidentLog` keeps one row per incident in growable numpy columns (one array per
field), which is compact and turns directly into the ``incidents`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import PRIORITIES, IncidentConfig

MIN_PER_DAY = 1440.0

FLOAT_COLS = ("t_occur", "t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear",
              "u_report", "u_clear", "u_victim", "z_scene", "z_chain", "z_report")
INT_COLS = ("cell", "community", "precinct", "priority", "officer_id", "officer_tier",
            "victim")
BOOL_COLS = ("in_progress", "reported", "cleared", "lost")


class IncidentLog:
    """Columnar, growable store of every incident of a run (reported or not).

    Columns are numpy arrays, accessed as attributes (``log.t_occur[i]``). Times are minutes
    since the start of the run; NaN means the stage did not happen.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._cap = max(16, capacity)
        for name in FLOAT_COLS:
            setattr(self, name, np.full(self._cap, np.nan))
        for name in INT_COLS:
            setattr(self, name, np.full(self._cap, -1, dtype=np.int64))
        for name in BOOL_COLS:
            setattr(self, name, np.zeros(self._cap, dtype=bool))

    def _grow(self, need: int) -> None:
        new_cap = max(self._cap * 2, need)
        for name in FLOAT_COLS + INT_COLS + BOOL_COLS:
            old = getattr(self, name)
            fill = np.nan if name in FLOAT_COLS else (-1 if name in INT_COLS else False)
            arr = np.full(new_cap, fill, dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)
        self._cap = new_cap

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append a batch of incidents.

        Args:
            **columns: Equal-length arrays for some of the columns; others keep their fill.

        Returns:
            The row indices (incident ids) of the new incidents.
        """
        k = len(next(iter(columns.values())))
        if self.n + k > self._cap:
            self._grow(self.n + k)
        rows = np.arange(self.n, self.n + k)
        for name, values in columns.items():
            getattr(self, name)[self.n : self.n + k] = values
        self.n += k
        return rows

    def column(self, name: str) -> np.ndarray:
        """Return the filled part of one column (a view)."""
        return getattr(self, name)[: self.n]


class IncidentProcess:
    """Draws each day's incidents from the configured non-homogeneous Poisson process.

    Args:
        cfg: The ``[incidents]`` section.
        population_total: Persons in the city.
        risk: Share of incidents per cell (sums to 1).
        rng: The incident stream.
    """

    def __init__(self, cfg: IncidentConfig, population_total: float, risk: np.ndarray,
                 rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.rng = rng
        self.risk = risk
        self.daily_mean = cfg.rate_per_1000_day * population_total / 1000.0
        self.priority_p = np.array([cfg.priority(p).share for p in PRIORITIES])
        self.in_progress_p = np.array([cfg.priority(p).in_progress_share for p in PRIORITIES])
        self._cycle_cdf = _daily_cycle_cdf(cfg.daily_amplitude, cfg.peak_hour)

    def draw_day(self, day: int, multiplier: np.ndarray | None = None,
                 extra_mean: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Draw the incidents occurring on one day.

        Common random numbers hold even where the police change the rate: the background
        incidents are drawn at the undeterred rate from a generator of their own for each day
        and thinned with a pre-drawn uniform (kept when ``u * top < multiplier[cell]``), and
        near-repeat follow-ons come from a second generator of the day. A police setting that
        changes deterrence therefore removes some incidents without changing any other, and
        never shifts the incidents of later days.

        Args:
            day: Day index (0-based); times are ``day * 1440 + minute of day``.
            multiplier: Optional per-cell multiplier of the background intensity (deterrence).
            extra_mean: Optional expected extra incidents per cell this day (near-repeat).

        Returns:
            Columns for :meth:`IncidentLog.append`, sorted by occurrence time.
        """
        background_rng, repeat_rng = self._day_streams(day)
        top = 1.0 if multiplier is None else max(1.0, float(np.max(multiplier, initial=0.0)))
        cols = self._draw(background_rng, self.daily_mean * self.risk * top, day)
        if multiplier is not None:
            keep = cols["u_keep"] * top < multiplier[cols["cell"]]
            cols = {k: v[keep] for k, v in cols.items()}
        if extra_mean is not None and float(np.sum(extra_mean)) > 0:
            more = self._draw(repeat_rng, np.asarray(extra_mean, dtype=float), day)
            cols = {k: np.concatenate([v, more[k]]) for k, v in cols.items()}
        del cols["u_keep"]
        order = np.argsort(cols["t_occur"], kind="stable")
        return {k: v[order] for k, v in cols.items()}

    def _day_streams(self, day: int) -> tuple[np.random.Generator, np.random.Generator]:
        """Two generators for ``day`` derived from the incident stream's seed, not its state."""
        seq = self.rng.bit_generator.seed_seq
        return tuple(np.random.default_rng(np.random.SeedSequence(
            entropy=seq.entropy, spawn_key=(*seq.spawn_key, day, k))) for k in (0, 1))

    def _draw(self, rng: np.random.Generator, weights: np.ndarray,
              day: int) -> dict[str, np.ndarray]:
        """A Poisson number of incidents with expected count per cell ``weights``."""
        total = float(weights.sum())
        n = int(rng.poisson(total)) if total > 0 else 0
        u_time, u_cell, u_prio = rng.random(n), rng.random(n), rng.random(n)
        u_prog, u_keep = rng.random(n), rng.random(n)
        extra = rng.random((n, 3))
        normals = rng.standard_normal((n, 3))
        minute = np.interp(u_time, self._cycle_cdf, np.arange(self._cycle_cdf.size))
        cdf = np.cumsum(weights)
        cells = np.minimum(np.searchsorted(cdf, u_cell * cdf[-1], side="right"),
                           weights.size - 1) if n else np.zeros(0, dtype=np.int64)
        prio = np.searchsorted(np.cumsum(self.priority_p), u_prio * self.priority_p.sum(),
                               side="right").clip(0, 2)
        return {
            "t_occur": day * MIN_PER_DAY + minute,
            "cell": cells.astype(np.int64),
            "priority": prio.astype(np.int64),
            "in_progress": u_prog < self.in_progress_p[prio],
            "u_report": extra[:, 0],
            "u_clear": extra[:, 1],
            "u_victim": extra[:, 2],
            "z_scene": normals[:, 0],
            "z_chain": normals[:, 1],
            "z_report": normals[:, 2],
            "u_keep": u_keep,
        }

    def report_delay(self, in_progress: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Time from occurrence to the call (lognormal; in-progress incidents are called in fast).

        Args:
            in_progress: Whether each incident was caught in progress.
            z: Pre-drawn standard normals.

        Returns:
            Delays in minutes.
        """
        median = np.where(in_progress, self.cfg.report_delay_in_progress_min,
                          self.cfg.report_delay_discovered_min)
        return median * np.exp(self.cfg.report_delay_sigma * z)

    def on_scene_minutes(self, priority: int, z: float) -> float:
        """On-scene time of one incident from its pre-drawn normal ``z``.

        Lognormal with the priority's mean and CV, or exponential (mean as configured), using
        the same underlying uniform so both options stay paired across strategies.
        """
        pc = self.cfg.priority(PRIORITIES[priority])
        mean = pc.on_scene_mean_min
        if self.cfg.on_scene_distribution == "exponential":
            u = 0.5 * _erfc(-z / np.sqrt(2.0))  # Phi(z)
            return float(-mean * np.log1p(-min(u, 1 - 1e-16)))
        s2 = np.log1p(pc.on_scene_cv**2)
        return float(mean * np.exp(np.sqrt(s2) * z - s2 / 2))


def _erfc(x: float) -> float:
    from math import erfc

    return erfc(x)


def _daily_cycle_cdf(amplitude: float, peak_hour: float) -> np.ndarray:
    """CDF of the minute of day under ``1 + A cos(2 pi (h - peak) / 24)`` (1441 knots)."""
    minutes = np.arange(1441, dtype=np.float64)
    omega = 2 * np.pi / MIN_PER_DAY
    peak = peak_hour * 60.0
    integral = minutes + amplitude / omega * (np.sin(omega * (minutes - peak)) -
                                              np.sin(omega * (0 - peak)))
    return integral / integral[-1]


def incidents_frame(log: IncidentLog, x: np.ndarray, y: np.ndarray,
                    tier_labels: tuple[str, ...]) -> pd.DataFrame:
    """Build the public ``incidents`` table from the log.

    Args:
        log: The incident log.
        x: Grid x of every cell (flat).
        y: Grid y of every cell (flat).
        tier_labels: Labels of officer tiers, indexed by tier value.

    Returns:
        One row per incident with the documented columns (times in minutes).
    """
    n = log.n
    cell = log.column("cell")
    tier = log.column("officer_tier")
    labels = np.array([*tier_labels, ""], dtype=object)
    t_report, t_ready = log.column("t_report"), log.column("t_ready")
    t_dispatch, t_arrive = log.column("t_dispatch"), log.column("t_arrive")
    df = pd.DataFrame({
        "incident_id": np.arange(n, dtype=np.int64),
        "community": log.column("community"),
        "precinct": log.column("precinct"),
        "x": x[cell] if n else np.zeros(0, dtype=np.int64),
        "y": y[cell] if n else np.zeros(0, dtype=np.int64),
        "priority": pd.Categorical.from_codes(log.column("priority"), categories=PRIORITIES),
        "in_progress": log.column("in_progress"),
        "t_occur": log.column("t_occur"),
        "t_report": t_report,
        "t_ready": t_ready,
        "t_dispatch": t_dispatch,
        "t_arrive": t_arrive,
        "t_clear": log.column("t_clear"),
        "reported": log.column("reported"),
        "cleared": log.column("cleared"),
        "lost": log.column("lost"),
        "officer_id": log.column("officer_id"),
        "victim": log.column("victim"),
        "officer_tier": pd.Categorical(labels[np.where(tier >= 0, tier, len(tier_labels))],
                                       categories=[*tier_labels, ""]),
        "dispatch_delay": t_ready - t_report,
        "queue_wait": t_dispatch - t_ready,
        "travel_time": t_arrive - t_dispatch,
        "response_time": t_arrive - t_report,
        "on_scene": log.column("t_clear") - t_arrive,
    })
    return df
