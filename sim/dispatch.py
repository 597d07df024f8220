"""Dispatch: the command chain, the nearest available eligible officer, and the queue.

A reported call first passes the command chain: call handling plus one relay delay per hop
(HQ centre -> station -> unit), each lognormal around its median, using the incident's
pre-drawn normal so strategies with the same hops see the same delays. When the call reaches
the dispatcher the nearest available eligible officer (by travel time: turnout plus shortest
path over the street graph at the officer's speed) is assigned; ties go to the lower officer
index. If nobody is available the call waits in a priority queue (emergency before urgent
before routine, first come first served within a priority) and is served by the next officer
who becomes free and is eligible.

Only three events per reported incident are scheduled: ready (call reaches the dispatcher),
arrival and clearance.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from agents.enums import OfficerState, Priority
from agents.incident import Incident

if TYPE_CHECKING:
    from sim.model import PoliceModel


class _Ready:
    """Holds one reported incident until its call reaches the dispatcher (an event target)."""

    __slots__ = ("__weakref__", "dispatcher", "row")

    def __init__(self, dispatcher: Dispatcher, row: int) -> None:
        self.dispatcher = dispatcher
        self.row = row

    def fire(self) -> None:
        self.dispatcher.on_ready(self)


class Dispatcher:
    """Routes calls to officers for one model.

    Args:
        model: The model whose force, log and travel field are used.
    """

    def __init__(self, model: PoliceModel) -> None:
        self.model = model
        self.queues: tuple[deque[Incident], ...] = tuple(deque() for _ in Priority)
        self.pending: dict[int, _Ready] = {}
        self.open: dict[int, Incident] = {}
        self.lost = 0

    # -- the chain --------------------------------------------------------------------------
    def chain_delay(self, priority: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Call handling plus relay delays for a batch of calls (minutes).

        Args:
            priority: Priority codes.
            z: Pre-drawn standard normals (one per call).

        Returns:
            The delay from the call to the dispatcher's decision.
        """
        cfg = self.model.config.dispatch
        strategy = self.model.strategy
        hops = np.array([strategy.chain_hops(Priority(p)) for p in range(3)])[priority]
        median = cfg.call_handling_min * strategy.handling_factor() + hops * cfg.hop_delay_min
        return median * np.exp(cfg.delay_sigma * z)

    def schedule_calls(self, rows: np.ndarray) -> None:
        """Schedule the moment each reported incident (ids ``rows``) reaches the dispatcher."""
        times = self.model.log.get("t_ready", rows).tolist()
        for row, t in zip(rows.tolist(), times, strict=True):
            ready = _Ready(self, row)
            self.pending[row] = ready
            self.model.at_minute(ready.fire, t)

    # -- events -----------------------------------------------------------------------------
    def on_ready(self, ready: _Ready) -> None:
        """The call reaches the dispatcher: assign an officer or queue the call."""
        row = ready.row
        del self.pending[row]
        m = self.model
        log = m.log
        cell = int(log.get("cell", row))
        incident = Incident(m, m.cells[cell], row, Priority(int(log.get("priority", row))), cell)
        self.open[row] = incident
        t = float(log.get("t_ready", row))
        officer = self.nearest_officer(row, cell)
        if officer is not None:
            self.assign(incident, officer, t)
        elif self.queued() >= m.config.dispatch.max_queue:
            self.drop(incident)
        else:
            self.queues[incident.priority].append(incident)

    def on_arrival(self, incident: Incident) -> None:
        """The officer reaches the scene: start the on-scene time."""
        m = self.model
        row, i = incident.row, incident.officer
        assert i is not None  # an arrival always has an officer
        t = incident.t_eta
        log = m.log
        log.set("t_arrive", row, t)
        m.force.set_state(i, OfficerState.ON_SCENE, t)
        m.move_officer(i, incident.cell_index)
        duration = m.process.on_scene_minutes(int(incident.priority),
                                              float(log.get("z_scene", row)))
        # The log gets t_clear only when the incident is cleared: still on scene at the end
        # of a run means not closed (neither cleared nor failed).
        incident.t_due = t + duration
        m.at_minute(incident.clear, incident.t_due)

    def on_clear(self, incident: Incident) -> None:
        """The officer finishes: decide clearance, free the officer, take the next call."""
        m = self.model
        row, i = incident.row, incident.officer
        assert i is not None  # a clearance always has an officer
        t = incident.t_due
        m.log.set("t_clear", row, t)
        m.outcomes.close_incident(row, i)
        del self.open[row]
        incident.remove()
        m.force.incident[i] = -1
        self.free_officer(i, t, from_cell=incident.cell_index)

    # -- decisions --------------------------------------------------------------------------
    def nearest_officer(self, row: int, cell: int) -> int | None:
        """Index of the nearest available eligible officer for incident ``row``, or None."""
        m = self.model
        f = m.force
        cand = np.flatnonzero(f.available_mask())
        if cand.size == 0:
            return None
        pc = m.priority_cfg[int(m.log.get("priority", row))]
        ok = m.strategy.eligible(m, row, cand)
        if pc.sworn_only:
            ok &= f.sworn[cand]
        cand = cand[ok]
        if cand.size == 0:
            return None
        times = self.travel_times(cand, cell)
        return int(cand[np.argmin(times)])

    def travel_times(self, officers: np.ndarray, cell: int) -> np.ndarray:
        """Minutes for ``officers`` to reach ``cell`` from where they are now."""
        m = self.model
        if not m.config.dispatch.travel:
            return np.zeros(officers.size)
        dist = m.travel.to_cells(cell, m.officer_positions(officers))
        return m.force.travel_minutes(officers, dist)

    def assign(self, incident: Incident, i: int, t: float) -> None:
        """Send officer ``i`` to ``incident`` at time ``t``."""
        m = self.model
        row = incident.row
        travel = float(self.travel_times(np.array([i]), incident.cell_index)[0])
        incident.officer = i
        m.force.incident[i] = row
        m.force.set_state(i, OfficerState.TRAVELLING, t)
        log = m.log
        log.set("t_dispatch", row, t)
        incident.t_eta = t + travel  # logged as t_arrive only when the officer gets there
        log.set("officer_id", row, m.officers[i].unique_id)
        log.set("officer_tier", row, m.force.tier[i])
        m.at_minute(incident.arrive, incident.t_eta)

    def free_officer(self, i: int, t: float, from_cell: int) -> None:
        """Officer ``i`` becomes free at ``from_cell``: next call, off duty, or back to post."""
        m = self.model
        f = m.force
        f.pos[i] = from_cell
        if not f.on_duty[i]:
            f.set_state(i, OfficerState.OFF_DUTY, t)
            m.move_officer(i, int(f.post_cell[i]))
            return
        nxt = self.next_for(i)
        if nxt is not None:
            self.assign(nxt, i, t)
            return
        if m.config.dispatch.return_to_post and from_cell != f.post_cell[i]:
            # Driving back needs no turnout: the officer is already in the car (or walking).
            back = self.travel_times(np.array([i]), int(f.post_cell[i]))[0] - f.turnout[i]
            if not m.config.dispatch.travel:
                back = 0.0
            f.return_until[i] = t + max(float(back), 0.0)
            f.set_state(i, OfficerState.RETURNING, t)
        else:
            f.set_state(i, OfficerState.IDLE, t)

    def next_for(self, i: int) -> Incident | None:
        """Pop the first queued incident officer ``i`` may take (priority, then FIFO)."""
        m = self.model
        for prio, queue in enumerate(self.queues):
            if not queue:
                continue
            if m.priority_cfg[prio].sworn_only and not m.force.sworn[i]:
                continue
            for k, incident in enumerate(queue):
                if m.strategy.eligible(m, incident.row, np.array([i]))[0]:
                    del queue[k]
                    return incident
        return None

    def serve_queue(self, t: float) -> None:
        """Give queued calls to officers who have become available (e.g. a new shift)."""
        for queue in self.queues:
            for incident in list(queue):
                if not self.model.force.available_mask().any():
                    return
                officer = self.nearest_officer(incident.row, incident.cell_index)
                if officer is None:
                    continue
                queue.remove(incident)
                self.assign(incident, officer, t)

    def drop(self, incident: Incident) -> None:
        """Lose a call because the queue is full (counted, never silently)."""
        self.model.log.set("lost", incident.row, True)
        del self.open[incident.row]
        incident.remove()
        self.lost += 1

    def queued(self) -> int:
        """Number of calls waiting for an officer."""
        return sum(len(q) for q in self.queues)
