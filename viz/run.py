"""One simulated run shown by the page: its model, hourly history and map layers (no UI code).

:class:`Sim` builds one model from :class:`viz.controls.Controls`, steps it hour by hour and
records the live indicators (:mod:`viz.live`: windows of the last 24 hours and cumulative
values) for the charts; it also gives the per-cell values of the map's background layers.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from sim.api import build_model
from sim.metrics import TIERS
from viz.controls import Controls
from viz.layers import community_values, layer_values
from viz.live import HISTORY_KEYS, live_stats, totals_for

_ids = itertools.count(1)


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
        self.totals = totals_for(self.model)
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
        self.stats = live_stats(self.model, totals=self.totals)
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
        """Per-community values of a community layer (see :func:`viz.layers.community_values`)."""
        return community_values(self.model, layer, self.totals)

    def layer_values(self, layer: str) -> np.ndarray | None:
        """Per-cell values of a background layer (see :func:`viz.layers.layer_values`)."""
        return layer_values(self.model, layer, self.totals)


def _minus_lag(x: np.ndarray, lag: int) -> np.ndarray:
    """``x[i] - x[i - lag]`` (``x[i]`` itself for the first ``lag`` entries)."""
    prev = np.zeros_like(x)
    if lag < x.size:
        prev[lag:] = x[:-lag]
    return x - prev
