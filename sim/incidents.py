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

The :class:`IncidentLog` is addressed by incident id (``log.get(field, ids)``,
``log.set(field, ids, values)``, ``log.record(id)``); it keeps its incidents in growable numpy
columns (one array per field), which is compact and turns directly into the ``incidents``
table, and streams old ones to Parquet in long runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.incident_classes import DEFAULT_ORDER, IncidentConfig
from sim.incident_table import release_arrow_memory
from sim.rng import derived
from sim.units import MIN_PER_DAY

REC_COLS = ("rec_handling", "rec_travel", "rec_on_scene", "rec_response")
"""A replayed call's recorded durations (minutes; NaN when the data have none)."""
FLOAT_COLS = ("t_occur", "t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear",
              "u_report", "u_clear", "u_victim", "z_scene", "z_chain", "z_report", *REC_COLS)
INT_COLS = ("cell", "community", "precinct", "priority", "officer_id", "officer_tier",
            "victim")
BOOL_COLS = ("in_progress", "reported", "cleared", "lost", "recorded")
ALL_COLS = FLOAT_COLS + INT_COLS + BOOL_COLS
_FILL = {**dict.fromkeys(FLOAT_COLS, np.nan), **dict.fromkeys(INT_COLS, -1),
         **dict.fromkeys(BOOL_COLS, False)}
_DTYPE = {**dict.fromkeys(FLOAT_COLS, np.float64), **dict.fromkeys(INT_COLS, np.int64),
          **dict.fromkeys(BOOL_COLS, np.bool_)}
_FIELDS = frozenset(ALL_COLS)
PREDRAWN = ("u_report", "u_clear", "u_victim", "z_scene", "z_chain", "z_report")
"""The luck every incident is born with (each column from a named stream of its own)."""


class IncidentLog:
    """Store of the incidents of a run (reported or not), addressed by incident id.

    Every incident gets an id when it is appended (0, 1, 2, ... in order of appending); ids
    never change. Callers read and write fields by id, one or many at a time (:meth:`get`,
    :meth:`set`), read one incident as a record (:meth:`record`), and scan the incidents held
    in memory as columns aligned with :meth:`ids` (:meth:`column`). Times are minutes since
    the start of the run; NaN means the stage did not happen. The fields are ``ALL_COLS``.

    The storage (one growable numpy array per field) is private. Long runs do not keep every
    incident in memory: :meth:`spill` writes the oldest incidents, which can no longer change
    (closed, never reported or lost), to a Parquet part file in ``spill_dir`` and drops them;
    :meth:`parts` lists those files in order. Only the ids from :attr:`first_id` to ``n - 1``
    are held (:meth:`holds`).

    Attributes:
        n: Number of incidents appended so far (the next id).
        spill_dir: Folder of the Parquet parts (None until the first spill is wanted).
        spill_folder: The owner of ``spill_dir`` when the program created it
            (:class:`sim.incident_table.SpillFolder`; it removes the folder once neither the
            log nor a table of its parts refers to it), else None.
        extra_columns: Optional columns of the public table (:func:`incidents_frame`):
            ``source`` (recorded or background) and the ``rec_*`` durations of a replay.
    """

    def __init__(self, capacity: int = 1024, spill_dir: Path | None = None) -> None:
        self.extra_columns: tuple[str, ...] = ()
        self.n = 0
        self._base = 0
        self._cap = max(16, capacity)
        self.spill_dir = spill_dir
        self.spill_folder: Any = None
        self._parts: list[Path] = []
        self._cols: dict[str, np.ndarray] = {
            name: np.full(self._cap, _FILL[name], dtype=_DTYPE[name]) for name in ALL_COLS}

    # -- what is held -----------------------------------------------------------------------
    @property
    def first_id(self) -> int:
        """Id of the oldest incident held in memory (0 unless the log has spilled)."""
        return self._base

    @property
    def size(self) -> int:
        """Incidents held in memory (``n - first_id``)."""
        return self.n - self._base

    def holds(self, incident_id: int) -> bool:
        """Whether incident ``incident_id`` is held in memory (appended and not spilled)."""
        return self._base <= incident_id < self.n

    def ids(self, start: int | None = None) -> np.ndarray:
        """Ids of the incidents held in memory, ascending (from ``start`` if given)."""
        return np.arange(self._base if start is None else max(start, self._base), self.n,
                         dtype=np.int64)

    def first_id_at(self, minute: float) -> int:
        """Id of the first held incident occurring at or after ``minute`` (``n`` if none).

        Incidents are appended in order of occurrence, so ``t_occur`` is non-decreasing.
        """
        return self._base + int(np.searchsorted(self.column("t_occur"), minute))

    # -- reading and writing by id ----------------------------------------------------------
    def get(self, field: str, ids: int | np.ndarray) -> Any:
        """Values of one field for one incident (a numpy scalar) or many (an array).

        Args:
            field: A field name (one of ``ALL_COLS``).
            ids: An incident id or an array of ids, all held in memory (not checked: this is
                the per-incident hot path).

        Returns:
            The value, or an array of values in the order of ``ids``.
        """
        return self._cols[field][ids - self._base]

    def set(self, field: str, ids: int | np.ndarray, values: Any) -> None:
        """Write one field of one incident or many (ids held in memory, not checked).

        Args:
            field: A field name (one of ``ALL_COLS``).
            ids: An incident id or an array of ids.
            values: A value (broadcast) or one value per id.
        """
        self._cols[field][ids - self._base] = values

    def record(self, incident_id: int) -> IncidentRecord:
        """A read-only view of one incident, with its fields as attributes.

        Raises:
            KeyError: If the incident is not held in memory (never appended, or spilled).
        """
        if not self.holds(incident_id):
            raise KeyError(f"incident {incident_id} is not held in memory "
                           f"(held: {self._base}..{self.n - 1})")
        return IncidentRecord(self, incident_id)

    def column(self, field: str, start: int | None = None) -> np.ndarray:
        """Read-only values of one field for the held incidents, aligned with :meth:`ids`.

        Args:
            field: A field name (one of ``ALL_COLS``).
            start: Only incidents from this id on (default: every held one).

        Returns:
            A read-only view; position ``k`` is incident ``ids(start)[k]``.
        """
        lo = 0 if start is None else max(start - self._base, 0)
        view = self._cols[field][lo : self.size]
        view.flags.writeable = False
        return view

    # -- growing and spilling ---------------------------------------------------------------
    def _resize(self, new_cap: int) -> None:
        keep = self.size
        for name, old in self._cols.items():
            arr = np.full(new_cap, _FILL[name], dtype=old.dtype)
            arr[:keep] = old[:keep]
            self._cols[name] = arr
        self._cap = new_cap

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append a batch of incidents.

        Args:
            **columns: Equal-length arrays for some of the fields; others keep their fill.

        Returns:
            The ids of the new incidents.
        """
        k = len(next(iter(columns.values())))
        if self.size + k > self._cap:
            self._resize(max(self._cap * 2, self.size + k))
        start = self.size
        for name, values in columns.items():
            self._cols[name][start : start + k] = values
        ids = np.arange(self.n, self.n + k)
        self.n += k
        return ids

    def spill(self, upto: int, frame: Callable[[IncidentLog, int], pd.DataFrame]) -> None:
        """Write incidents ``first_id..upto-1`` to a Parquet part and drop them from memory.

        Args:
            upto: First id to keep; every incident before it must be final.
            frame: Builds the public table of the first ``k`` incidents held
                (``frame(log, k)``, e.g. :func:`incidents_frame`).
        """
        k = upto - self._base
        if k <= 0 or self.spill_dir is None:
            return
        path = self.spill_dir / f"incidents-{len(self._parts):05d}.parquet"
        frame(self, k).to_parquet(path, index=False)
        release_arrow_memory()
        self._parts.append(path)
        keep = self.size - k
        for name, arr in self._cols.items():
            arr[:keep] = arr[k : k + keep]
            arr[keep : k + keep] = _FILL[name]
        self._base = upto
        if self._cap > 4 * max(keep, 1024):
            self._resize(max(2 * keep, 1024))

    def parts(self) -> list[Path]:
        """Part files written so far, in id order."""
        return list(self._parts)


class IncidentRecord:
    """Read-only view of one incident of an :class:`IncidentLog`: ``rec.priority``, ...

    Fields read as Python scalars (``float``, ``int``, ``bool``) at the moment they are read,
    so a record follows later changes of its incident. Created by :meth:`IncidentLog.record`.

    Attributes:
        id: The incident id.
    """

    __slots__ = ("_log", "id")

    def __init__(self, log: IncidentLog, incident_id: int) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "id", incident_id)

    def __getattr__(self, name: str) -> Any:
        if name not in _FIELDS:
            raise AttributeError(f"an incident has no field {name!r}")
        return self._log.get(name, self.id).item()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("incident records are read-only; use IncidentLog.set")

    def as_dict(self) -> dict[str, Any]:
        """All fields of the incident by name."""
        return {name: getattr(self, name) for name in ALL_COLS}

    def __repr__(self) -> str:
        return f"IncidentRecord({self.id}, priority={self.priority}, t_occur={self.t_occur})"


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
        classes = cfg.by_index()
        self.priority_p = np.array([c.share for c in classes])
        self.in_progress_p = np.array([c.in_progress_share for c in classes])
        # Per class: the on-scene mean and the lognormal's sigma and sigma^2 / 2.
        s2 = [np.log1p(c.on_scene_cv**2) for c in classes]
        self._on_scene = [(c.on_scene_mean_min, np.sqrt(v), v / 2) for c, v in zip(classes, s2,
                                                                                  strict=True)]
        self._exponential = cfg.on_scene_distribution == "exponential"
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
            day: Day index (0-based); times are ``day * MIN_PER_DAY + minute of day``.
            multiplier: Optional per-cell multiplier of the background intensity (deterrence).
            extra_mean: Optional expected extra incidents per cell this day (near-repeat).

        Returns:
            Columns for :meth:`IncidentLog.append`, sorted by occurrence time.
        """
        top = 1.0 if multiplier is None else max(1.0, float(np.max(multiplier, initial=0.0)))
        cols = self._draw(0, self.daily_mean * self.risk * top, day)
        if multiplier is not None:
            keep = cols["u_keep"] * top < multiplier[cols["cell"]]
            cols = {k: v[keep] for k, v in cols.items()}
        if extra_mean is not None and float(np.sum(extra_mean)) > 0:
            more = self._draw(1, np.asarray(extra_mean, dtype=float), day)
            cols = {k: np.concatenate([v, more[k]]) for k, v in cols.items()}
        del cols["u_keep"]
        order = np.argsort(cols["t_occur"], kind="stable")
        return {k: v[order] for k, v in cols.items()}

    def _draw(self, source: int, weights: np.ndarray, day: int) -> dict[str, np.ndarray]:
        """A Poisson number of incidents with expected count per cell ``weights``.

        ``source`` 0 is the background, 1 the near-repeat follow-ons. The count comes from
        the day's stream of the source, every column from a stream of its own
        (:func:`sim.rng.derived`), so adding a column changes no other.
        """
        total = float(weights.sum())
        n = int(derived(self.rng, day, source).poisson(total)) if total > 0 else 0

        def uniform(name: str) -> np.ndarray:
            return derived(self.rng, day, source, name).random(n)

        minute = np.interp(uniform("t_occur"), self._cycle_cdf, np.arange(self._cycle_cdf.size))
        cdf = np.cumsum(weights)
        u_cell = uniform("cell")
        cells = np.minimum(np.searchsorted(cdf, u_cell * cdf[-1], side="right"),
                           weights.size - 1) if n else np.zeros(0, dtype=np.int64)
        prio = np.searchsorted(np.cumsum(self.priority_p),
                               uniform("priority") * self.priority_p.sum(),
                               side="right").clip(0, self.priority_p.size - 1)
        return {
            "t_occur": day * MIN_PER_DAY + minute,
            "cell": cells.astype(np.int64),
            "priority": prio.astype(np.int64),
            "in_progress": uniform("in_progress") < self.in_progress_p[prio],
            **self.predraw(day, source, n),
            "u_keep": uniform("keep"),
        }

    def predraw(self, day: int, source: int, n: int) -> dict[str, np.ndarray]:
        """The pre-drawn uniforms and normals of ``n`` incidents, one named stream each."""
        out = {}
        for name in PREDRAWN:
            g = derived(self.rng, day, source, name)
            out[name] = g.standard_normal(n) if name.startswith("z_") else g.random(n)
        return out

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
        mean, sigma, half_s2 = self._on_scene[priority]
        if self._exponential:
            u = 0.5 * _erfc(-z / np.sqrt(2.0))  # Phi(z)
            return float(-mean * np.log1p(-min(u, 1 - 1e-16)))
        return float(mean * np.exp(sigma * z - half_s2))


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
                    tier_labels: tuple[str, ...], k: int | None = None,
                    classes: tuple[str, ...] = DEFAULT_ORDER) -> pd.DataFrame:
    """Build the public ``incidents`` table from the rows held in memory.

    Args:
        log: The incident log.
        x: Grid x of every cell (flat).
        y: Grid y of every cell (flat).
        tier_labels: Labels of officer tiers, indexed by tier value.
        k: Only the first ``k`` rows held (default: all of them).
        classes: Names of the incident classes, by priority code.

    Returns:
        One row per incident with the documented columns (times in minutes), then the
        log's ``extra_columns``: ``source`` and the recorded ``rec_handling``, ``rec_travel``,
        ``rec_on_scene``, ``rec_response`` of a replay (those the data give).
    """
    n = log.size if k is None else k

    def col(name: str) -> np.ndarray:
        return log.column(name)[:n]

    cell = col("cell")
    tier = col("officer_tier")
    labels = np.array([*tier_labels, ""], dtype=object)
    t_report, t_ready = col("t_report"), col("t_ready")
    t_dispatch, t_arrive = col("t_dispatch"), col("t_arrive")
    frame = pd.DataFrame({
        "incident_id": log.ids()[:n],
        "community": col("community"),
        "precinct": col("precinct"),
        "x": x[cell],
        "y": y[cell],
        "priority": pd.Categorical.from_codes(col("priority"), categories=list(classes)),
        "in_progress": col("in_progress"),
        "t_occur": col("t_occur"),
        "t_report": t_report,
        "t_ready": t_ready,
        "t_dispatch": t_dispatch,
        "t_arrive": t_arrive,
        "t_clear": col("t_clear"),
        "reported": col("reported"),
        "cleared": col("cleared"),
        "lost": col("lost"),
        "officer_id": col("officer_id"),
        "victim": col("victim"),
        "officer_tier": pd.Categorical(labels[np.where(tier >= 0, tier, len(tier_labels))],
                                       categories=[*tier_labels, ""]),
        "dispatch_delay": t_ready - t_report,
        "queue_wait": t_dispatch - t_ready,
        "travel_time": t_arrive - t_dispatch,
        "response_time": t_arrive - t_report,
        "on_scene": col("t_clear") - t_arrive,
    })
    for name in log.extra_columns:
        if name == "source":
            frame[name] = pd.Categorical.from_codes(col("recorded").astype(np.int8),
                                                    categories=["background", "recorded"])
        else:
            frame[name] = col(name)
    return frame
