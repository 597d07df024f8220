"""How the police and past incidents change tomorrow's incident rate.

Two modifiers of the incident process, both switchable in ``[hazard]``:

* **Deterrence** — a multiplier of each cell's background rate from the day's visible patrol
  presence, ``1 - d_max (1 - exp(-presence / h))``: a cell patrolled for ``h`` officer-hours a
  day loses 63% of the largest reduction (Koper 1995; Ratcliffe et al. 2011). Random patrol
  spread thinly over the city buys little; the same hours at hot spots buy more.
* **Near-repeat** — a discrete self-exciting (Hawkes) process: each incident adds ``eta``
  expected follow-ons, released with mean delay ``near_repeat_days`` and spread near the
  trigger, in its riskier neighbouring cells (Johnson & Bowers 2004; Townsley, Homel &
  Chaseling 2003). The excitation starts at its stationary level, so runs need no burn-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import param

if TYPE_CHECKING:
    from sim.city import CityLayout
    from sim.incidents import IncidentProcess


@dataclass(frozen=True)
class HazardConfig:
    """Deterrence by visible patrol and near-repeat victimisation (both switchable)."""

    deterrence: bool = param(True, "-", "Police presence lowers the local incident rate.")
    deterrence_max: float = param(
        0.25, "-", "Largest reduction of a cell's rate by presence (Ratcliffe 2011: -23%).",
        lo=0, hi=1,
    )
    deterrence_half_hours: float = param(
        1.0, "officer-h/d", "Presence giving 1-e^-1 of the maximum effect (Koper 1995: 10-15 "
        "min visits every 2 h).", lo=1e-6, hi=10_000,
    )
    near_repeat: bool = param(True, "-", "An incident raises near-term risk nearby.")
    near_repeat_eta: float = param(
        0.2, "-", "Expected follow-on incidents per incident (Hawkes branching ratio; "
        "Mohler 2011, assumption 0.2-0.5).", lo=0, hi=0.95, plausible=(0.1, 0.5),
    )
    near_repeat_days: float = param(
        14.0, "d", "Mean delay of follow-on incidents (Johnson & Bowers 2004: 1-4 weeks).",
        lo=0.1, hi=3_650,
    )
    near_repeat_radius_cells: float = param(
        1.5, "cells", "Spatial spread of follow-on risk (~200 m; Johnson & Bowers 2004).",
        lo=0, hi=50,
    )


class Hazard:
    """Deterrence and near-repeat state of one model.

    Args:
        cfg: The ``[hazard]`` section.
        layout: The city (size and risk surface).
        process: The incident process (its background daily mean and risk).
        replay: True when recorded calls are replayed (no self-excitation on top of them).
    """

    def __init__(self, cfg: HazardConfig, layout: CityLayout, process: IncidentProcess,
                 replay: bool = False) -> None:
        self.cfg = cfg
        self.layout = layout
        self.active_near_repeat = cfg.near_repeat and cfg.near_repeat_eta > 0 and not replay
        self.decay = float(np.exp(-1.0 / cfg.near_repeat_days))
        self.excitation = self.stationary_excitation(process)
        #: The risk surface, the radius and the risk filtered around each cell (reused).
        self._local_risk: tuple[np.ndarray, float, np.ndarray] | None = None

    def stationary_excitation(self, process: IncidentProcess) -> np.ndarray:
        """Near-repeat excitation at its long-run level.

        With branching ratio ``eta`` the long-run rate is ``background / (1 - eta)``; the
        excitation stock that releases ``eta`` times that each day is that over ``1 - decay``.
        """
        if not self.active_near_repeat:
            return np.zeros(self.layout.n_cells)
        eta = self.cfg.near_repeat_eta
        background = process.daily_mean * process.risk
        return eta * background / (1 - eta) / (1 - self.decay)

    def deterrence(self, presence: np.ndarray) -> np.ndarray | None:
        """Per-cell multiplier of tomorrow's background rate from today's ``presence``."""
        cfg = self.cfg
        if not cfg.deterrence or cfg.deterrence_max == 0:
            return None
        return 1 - cfg.deterrence_max * (1 - np.exp(-presence / cfg.deterrence_half_hours))

    def near_repeat(self, new_cells: np.ndarray | None) -> np.ndarray | None:
        """Expected follow-on incidents per cell for the coming day.

        Args:
            new_cells: Cells of the incidents of the day that ended, or None on the first day
                (then the initial, stationary stock is released).

        Returns:
            Expected extra incidents per cell, or None when near-repeat is off.
        """
        if not self.active_near_repeat:
            return None
        if new_cells is None:
            return self.excitation * (1 - self.decay)
        counts = np.bincount(new_cells, minlength=self.layout.n_cells).astype(float)
        if self.cfg.near_repeat_radius_cells > 0:
            counts = self.spread_follow_ons(counts, self.cfg.near_repeat_radius_cells)
        self.excitation = self.excitation * self.decay + self.cfg.near_repeat_eta * counts
        return self.excitation * (1 - self.decay)

    def spread_follow_ons(self, counts: np.ndarray, radius: float) -> np.ndarray:
        """Where the follow-ons of the day's incidents fall: near them, in the riskier cells.

        A Gaussian kernel of ``radius`` cells around each incident, weighted by each cell's
        risk relative to the risk around it, with each trigger's total preserved.
        """
        from scipy.ndimage import gaussian_filter

        lay = self.layout
        shape = (lay.width, lay.height)
        risk = lay.risk.reshape(shape)
        cached = self._local_risk
        if cached is None or cached[0] is not lay.risk or cached[1] != radius:
            # The risk around each cell is the same every day: filtered once.
            cached = self._local_risk = (lay.risk, radius,
                                         gaussian_filter(risk, radius, mode="constant"))
        local = cached[2]
        spread = gaussian_filter(counts.reshape(shape) / np.maximum(local, 1e-300), radius,
                                 mode="constant") * risk
        total = spread.sum()
        return (spread * (counts.sum() / total if total > 0 else 0.0)).ravel()
