"""What the daily, community and summary tables need of the incidents, gathered batch by batch.

The incident table of a long run is never assembled to compute the other tables: an
:class:`IncidentTally` reads it a batch at a time (each Parquet part, then the rows in memory;
:meth:`sim.incident_table.IncidentTable.batches`) and keeps counts by day, community and cell,
plus the few columns of the rows whose means and quantiles the tables report (response-time
components of attended incidents, the dispatch delay of reported calls, the queue wait of
dispatched ones, the time on scene of closed ones), compactly typed and in incident order.
:mod:`sim.metrics` then computes exactly what it computed from the whole table: the same
values in the same order go into the same pandas reductions, so the tables are bit-for-bit
those of a run that keeps every incident in memory.

Memory: counts are fixed-size; the kept columns take about 60 bytes per attended incident
(about 3 MB per simulated year of the default city), against about 350 bytes per incident
(reported or not) for the incident log and the assembled table.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.units import MIN_PER_DAY

COLUMNS = ("community", "x", "y", "priority", "t_occur", "t_ready", "t_dispatch", "t_arrive",
           "t_clear", "reported", "cleared", "lost", "victim", "dispatch_delay", "queue_wait",
           "travel_time", "response_time", "on_scene")
"""Columns of the incidents table the tally reads."""

ARRIVED = ("response_time", "dispatch_delay", "queue_wait", "travel_time")
"""Float columns kept for attended incidents (``t_arrive`` not NaN)."""


class _Counts:
    """Integer counts by a non-negative key, growing as larger keys arrive."""

    def __init__(self, size: int = 0) -> None:
        self.values = np.zeros(size, dtype=np.int64)

    def add(self, keys: np.ndarray) -> None:
        if keys.size == 0:
            return
        counts = np.bincount(keys.astype(np.int64, copy=False), minlength=self.values.size)
        if counts.size > self.values.size:
            counts[: self.values.size] += self.values
            self.values = counts
        else:
            self.values += counts

    def first(self, n: int) -> np.ndarray:
        """Counts of keys ``0..n-1`` (zeros beyond those seen)."""
        out = np.zeros(n, dtype=np.int64)
        m = min(n, self.values.size)
        out[:m] = self.values[:m]
        return out


class IncidentTally:
    """Counts and compact columns of an incident table, fed one batch at a time.

    Args:
        classes: Names of the incident classes, in priority order (the categories).
        height: Grid height (a cell is ``x * height + y``); None: victims are not counted.
        now: Minute at which the tables are computed (pending and unanswered calls).
    """

    def __init__(self, classes: Iterable[str], height: int | None, now: float) -> None:
        self.classes = list(classes)
        self.height = height
        self.now = now
        self.n = 0
        self.occ_true, self.occ_reported = _Counts(), _Counts()
        self.clear_closed, self.clear_cleared = _Counts(), _Counts()
        self.comm_true, self.comm_reported = _Counts(), _Counts()
        self.comm_closed, self.comm_cleared = _Counts(), _Counts()
        self.victim_cells = _Counts()
        self.counts = dict.fromkeys(("reported", "en_route", "unanswered", "pending", "lost",
                                     "closed", "cleared"), 0)
        self._arrived: dict[str, list[np.ndarray]] = {
            k: [] for k in ("day", "community", "priority", *ARRIVED)}
        self._rep_delay: list[np.ndarray] = []
        self._wait: list[np.ndarray] = []
        self._scene: list[np.ndarray] = []

    @classmethod
    def of(cls, batches: Iterable[pd.DataFrame], classes: Iterable[str], height: int | None,
           now: float) -> IncidentTally:
        """The tally of a whole table given as batches (e.g. one DataFrame)."""
        tally = cls(classes, height, now)
        for batch in batches:
            tally.add(batch)
        return tally

    def add(self, df: pd.DataFrame) -> None:
        """Fold in the next rows of the table (in incident order; at least :data:`COLUMNS`)."""
        self.n += len(df)
        reported = df["reported"].to_numpy()
        occ_day = (df["t_occur"] // MIN_PER_DAY).astype("int64").to_numpy()
        self.occ_true.add(occ_day)
        self.occ_reported.add(occ_day[reported])
        community = df["community"].to_numpy()
        self.comm_true.add(community)
        self.comm_reported.add(community[reported])
        self._add_summary_counts(df, reported)
        self._add_closed(df, community)
        self._add_arrived(df, community)
        if self.height is None:
            return
        hit = df["victim"].to_numpy() >= 0
        self.victim_cells.add(df["x"].to_numpy()[hit].astype(np.int64) * self.height
                              + df["y"].to_numpy()[hit].astype(np.int64))

    def _add_summary_counts(self, df: pd.DataFrame, reported: np.ndarray) -> None:
        rep = df.loc[reported, ["t_ready", "t_dispatch", "t_arrive", "lost", "dispatch_delay"]]
        c = self.counts
        c["reported"] += len(rep)
        c["en_route"] += int((rep["t_dispatch"].notna() & rep["t_arrive"].isna()).sum())
        c["unanswered"] += int((rep["t_ready"].le(self.now) & rep["t_dispatch"].isna()
                                & ~rep["lost"]).sum())
        c["pending"] += int(rep["t_ready"].gt(self.now).sum())
        c["lost"] += int(rep["lost"].sum())
        # copies: a view would keep the whole batch alive
        self._rep_delay.append(rep["dispatch_delay"].dropna().to_numpy(np.float64, copy=True))
        self._wait.append(df.loc[df["t_dispatch"].notna().to_numpy(), "queue_wait"]
                          .to_numpy(np.float64, copy=True))

    def _add_closed(self, df: pd.DataFrame, community: np.ndarray) -> None:
        closed = df["t_clear"].notna().to_numpy()
        cleared = df["cleared"].to_numpy()[closed]
        day = (df["t_clear"].to_numpy()[closed] // MIN_PER_DAY).astype(np.int64)
        self.clear_closed.add(day)
        self.clear_cleared.add(day[cleared])
        self.comm_closed.add(community[closed])
        self.comm_cleared.add(community[closed][cleared])
        self.counts["closed"] += int(closed.sum())
        self.counts["cleared"] += int(cleared.sum())
        self._scene.append(df["on_scene"].to_numpy(dtype=np.float64)[closed])

    def _add_arrived(self, df: pd.DataFrame, community: np.ndarray) -> None:
        arrived = df["t_arrive"].notna().to_numpy()
        keep = self._arrived
        keep["day"].append((df["t_arrive"].to_numpy()[arrived] // MIN_PER_DAY)
                           .astype(np.int32))
        keep["community"].append(community[arrived].astype(np.int32))
        codes = pd.Categorical(df["priority"], categories=self.classes).codes  # by name
        keep["priority"].append(np.asarray(codes)[arrived].astype(np.int8))
        for name in ARRIVED:
            keep[name].append(df[name].to_numpy(dtype=np.float64)[arrived])

    # -- what the tables read ---------------------------------------------------------------
    def arrived(self, name: str) -> np.ndarray:
        """One column of the attended incidents, in incident order.

        ``day`` (of arrival) and ``community`` as int64, ``priority`` as codes of
        :attr:`classes`, the others those of :data:`ARRIVED` (float64).
        """
        values = _freeze(self._arrived[name], np.float64 if name in ARRIVED else np.int32)
        return values.astype(np.int64) if name in ("day", "community") else values

    def reported_delay(self) -> pd.Series:
        """Dispatch delays of the reported calls that have one, in order."""
        return pd.Series(_freeze(self._rep_delay, np.float64))

    def dispatched_wait(self) -> pd.Series:
        """Queue waits of the dispatched incidents, in order."""
        return pd.Series(_freeze(self._wait, np.float64))

    def closed_on_scene(self) -> pd.Series:
        """Times on scene of the closed incidents, in order."""
        return pd.Series(_freeze(self._scene, np.float64))


def _freeze(chunks: list[np.ndarray], dtype: type) -> np.ndarray:
    """The chunks as one array, which then replaces them (so it is built once)."""
    if len(chunks) != 1:
        whole = np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)
        chunks[:] = [whole]
    return chunks[0]
