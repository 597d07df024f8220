"""Running totals of a run's incidents, kept up to date at the cost of the recent ones only.

The live indicators are cumulative (every incident since the start) and were computed by
scanning the whole incident log every simulated hour, which grows with the run; and a long
run streams old incidents to disk (``run.log_rows``), which such a scan missed.
:class:`RunningTotals` folds every incident that can no longer change and lies wholly in the
past (occurred; and never reported, lost, or cleared) into running sums once: counts, sums of
response times by class and community, and the sorted response times (for the 90th
percentile). Incidents streamed to disk are final by construction and folded when their part
file appears. Each update then scans only the incidents after the folded prefix, so an hour
costs the same on day 300 as on day 3, and the totals equal those of a run that keeps every
incident in memory.

The moving-window indicators (last 24 hours) read the incidents folded since the window
began (:meth:`RunningTotals.window_start`) and those after: all that can have an event in it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from sim.incidents import IncidentLog

LIVE_COLUMNS = ("t_occur", "t_report", "t_arrive", "t_clear", "priority", "reported",
                "cleared", "lost", "community")
"""Columns of the incident log the live indicators read."""


def kth_of_union(sorted_a: np.ndarray, b: np.ndarray, k: int) -> float:
    """The ``k``-th smallest (0-based) of ``sorted_a`` and ``b`` together, in O(len(b) log n).

    The answer is either an element of ``b`` or an element of ``sorted_a`` at index
    ``k - len(b)`` to ``k``; among those candidates it is the smallest with at least ``k + 1``
    elements of the union at or below it.
    """
    sorted_b = np.sort(b)
    lo = max(0, k - sorted_b.size)
    cands = np.sort(np.concatenate([sorted_a[lo:k + 1], sorted_b]))
    rank = (np.searchsorted(sorted_a, cands, side="right")
            + np.searchsorted(sorted_b, cands, side="right"))
    return float(cands[int(np.searchsorted(rank, k + 1))])


def union_quantile(sorted_a: np.ndarray, b: np.ndarray, q: float) -> float:
    """``np.quantile(concat(sorted_a, b), q)`` (linear interpolation) without the concat."""
    n = sorted_a.size + b.size
    if n == 0:
        return float("nan")
    h = (n - 1) * q
    lo = int(np.floor(h))
    x_lo = kth_of_union(sorted_a, b, lo)
    if h == lo:
        return x_lo
    x_hi = kth_of_union(sorted_a, b, lo + 1)
    return x_lo + (h - lo) * (x_hi - x_lo)


class Folded:
    """Running sums over the final incidents folded so far.

    Args:
        n_classes: Incident classes (priority codes ``0..n_classes-1``).
        n_communities: Communities.
    """

    def __init__(self, n_classes: int, n_communities: int) -> None:
        self.n_true = 0
        self.n_reported = 0
        self.n_closed = 0
        self.n_cleared = 0
        self.rt_sorted = [np.zeros(0) for _ in range(n_classes + 1)]  # last: every class
        self.rt_sum = np.zeros(n_classes + 1)
        self.comm_sum = np.zeros(n_communities)
        self.comm_count = np.zeros(n_communities)

    def add(self, col: Callable[[str], np.ndarray]) -> None:
        """Fold a batch of final, past incidents given as columns."""
        self.n_true += col("t_occur").size
        reported = col("reported")
        self.n_reported += int(reported.sum())
        closed = np.isfinite(col("t_clear"))
        self.n_closed += int(closed.sum())
        self.n_cleared += int(col("cleared")[closed].sum())
        t_arrive = col("t_arrive")
        arrived = np.isfinite(t_arrive)
        rt = (t_arrive - col("t_report"))[arrived]
        prio = col("priority")[arrived].astype(np.int64)
        n_classes = len(self.rt_sorted) - 1
        for k in range(n_classes + 1):
            sub = rt if k == n_classes else rt[prio == k]
            if sub.size:
                self.rt_sorted[k] = _merge_sorted(self.rt_sorted[k], sub)
                self.rt_sum[k] += float(sub.sum())
        comm = col("community")[arrived].astype(np.int64)
        k = self.comm_sum.size
        self.comm_sum += np.bincount(comm, weights=rt, minlength=k)[:k]
        self.comm_count += np.bincount(comm, minlength=k)[:k]


def _merge_sorted(sorted_a: np.ndarray, b: np.ndarray) -> np.ndarray:
    b = np.sort(b)
    return np.insert(sorted_a, np.searchsorted(sorted_a, b), b)


class RunningTotals:
    """Cumulative incident totals of one run, updated incrementally.

    Args:
        log: The run's incident log.
        n_classes: Incident classes.
        n_communities: Communities.
        window_min: Longest moving window asked of :meth:`window_start` (minutes).
    """

    def __init__(self, log: IncidentLog, n_classes: int, n_communities: int,
                 window_min: float = 24 * 60.0) -> None:
        self.log = log
        self.folded = Folded(n_classes, n_communities)
        self.frozen = 0  # incidents 0..frozen-1 are folded
        self.read_parts = 0
        self.window_min = window_min
        self._marks: deque[tuple[float, int]] = deque([(-np.inf, 0)])
        self.now = -np.inf

    def update(self, now: float) -> None:
        """Fold the incidents that have become final by minute ``now``."""
        self._fold_parts()
        log = self.log
        start = max(self.frozen, log.first_id)
        col = {name: log.column(name, start=start) for name in
               ("t_occur", "reported", "lost", "t_clear")}
        final = (col["t_occur"] <= now) & (~col["reported"] | col["lost"] |
                                           (col["t_clear"] <= now))
        upto = int(np.argmin(final)) if not final.all() else final.size
        if upto:
            self.folded.add(lambda name: log.column(name, start=start)[:upto])
            self.frozen = start + upto
        self.now = now
        self._marks.append((now, self.frozen))
        while len(self._marks) > 1 and self._marks[1][0] <= now - self.window_min:
            self._marks.popleft()

    def _fold_parts(self) -> None:
        parts = self.log.parts()
        if len(parts) == self.read_parts:
            return
        import pandas as pd

        for path in parts[self.read_parts:]:
            frame = pd.read_parquet(path, columns=["incident_id", *LIVE_COLUMNS])
            frame = frame.loc[frame["incident_id"] >= self.frozen]
            if len(frame):
                cols = {name: _codes(frame[name]) for name in LIVE_COLUMNS}
                self.folded.add(cols.__getitem__)
                self.frozen = int(frame["incident_id"].iloc[-1]) + 1
        self.read_parts = len(parts)

    def tail(self, name: str) -> np.ndarray:
        """One column of the incidents not folded yet (in memory, from :attr:`frozen`)."""
        return self.log.column(name, start=max(self.frozen, self.log.first_id))

    def window_start(self, lo: float) -> int:
        """First incident id that can have an event after minute ``lo``.

        An incident folded at minute ``T`` has every event at or before ``T``; those folded
        by ``lo`` therefore have none after it.
        """
        start = 0
        for t, frozen in self._marks:
            if t <= lo:
                start = frozen
        return max(start, self.log.first_id)


def _codes(values: object) -> np.ndarray:
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy()  # priority: the class index, as in the log
    return series.to_numpy()
