"""The police force as arrays: one entry per officer, updated in bulk.

Officers are Mesa agents (:class:`agents.officer.Officer`) for the map and the API, but their
state lives here in numpy arrays so that dispatch (nearest available eligible officer) and the
hourly roster are vectorised. Each :class:`Officer` reads its attributes from these arrays.

Time spent in each state is accumulated exactly (minutes) by :meth:`Force.set_state`, which is
what utilisation and workload indicators are computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.enums import OfficerState, Tier

N_STATES = len(OfficerState)
AVAILABLE = np.array([s.available for s in OfficerState])


@dataclass
class Assignment:
    """Where an officer is posted and what they are.

    Attributes:
        tier: HQ, station or community.
        post_cell: Flat index of the post's cell.
        precinct: Precinct of the post (-1 for HQ).
        community: Community of the post (-1 unless a community post or grid).
        area: Patrol-area id (index into the patrol areas of the model).
    """

    tier: Tier
    post_cell: int
    precinct: int
    community: int
    area: int


class Force:
    """Numpy state of all officers.

    Args:
        n: Number of officers.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.tier = np.zeros(n, dtype=np.int64)
        self.post_cell = np.zeros(n, dtype=np.int64)
        self.precinct = np.full(n, -1, dtype=np.int64)
        self.community = np.full(n, -1, dtype=np.int64)
        self.area = np.zeros(n, dtype=np.int64)
        self.sworn = np.ones(n, dtype=bool)
        self.civilian = np.zeros(n, dtype=bool)
        self.vehicle = np.ones(n, dtype=bool)
        self.min_per_m = np.zeros(n)
        self.turnout = np.zeros(n)
        self.skill = np.full(n, 0.5)
        self.cases = np.zeros(n, dtype=np.int64)
        self.group = np.zeros(n, dtype=np.int64)
        self.state = np.full(n, int(OfficerState.OFF_DUTY), dtype=np.int64)
        self.on_duty = np.zeros(n, dtype=bool)
        self.pos = np.zeros(n, dtype=np.int64)
        self.since = np.zeros(n)
        self.state_time = np.zeros((n, N_STATES))
        self.return_until = np.full(n, -np.inf)
        self.incident = np.full(n, -1, dtype=np.int64)
        self.posted_since = np.zeros(n)
        self.base_tier = np.zeros(n, dtype=np.int64)

    def set_state(self, i: int, state: OfficerState, t: float) -> None:
        """Move officer ``i`` into ``state`` at time ``t`` (minutes), accounting time spent."""
        old = self.state[i]
        self.state_time[i, old] += t - self.since[i]
        self.since[i] = t
        self.state[i] = int(state)

    def set_states(self, idx: np.ndarray, states: np.ndarray | int,
                   t: float | np.ndarray) -> None:
        """Vectorised :meth:`set_state` for officers ``idx``."""
        if idx.size == 0:
            return
        np.add.at(self.state_time, (idx, self.state[idx]), t - self.since[idx])
        self.since[idx] = t
        self.state[idx] = states

    def flush(self, t: float) -> np.ndarray:
        """Account time up to ``t`` for everybody and return the state-time matrix."""
        self.state_time[np.arange(self.n), self.state] += t - self.since
        self.since[:] = t
        return self.state_time

    def available_mask(self) -> np.ndarray:
        """Officers that may be dispatched now (on duty, idle, patrolling or returning)."""
        return AVAILABLE[self.state] & self.on_duty

    def travel_minutes(self, idx: np.ndarray, dist_m: np.ndarray) -> np.ndarray:
        """Turnout plus travel for officers ``idx`` covering effective distances ``dist_m``."""
        return self.turnout[idx] + dist_m * self.min_per_m[idx]
