"""Dispatch: the command chain, the nearest available eligible officer, and the queue.

A reported call first passes the command chain: call handling plus one relay delay per hop
(HQ centre -> station -> unit), each lognormal around its median, using the incident's
pre-drawn normal so strategies with the same hops see the same delays. When the call reaches
the dispatcher the nearest available eligible officer (by travel time: turnout plus shortest
path over the street graph at the officer's speed) is assigned; ties go to the lower officer
index. If nobody is available the call waits in a priority queue (incident classes in their
declared order, first come first served within a class) and is served by the next officer who
becomes free and is eligible.

Only three events per reported incident are scheduled: ready (call reaches the dispatcher),
arrival and clearance. The dispatcher reaches its collaborators through a :class:`Desk`
passed in by the model, never through the model itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agents.case import Case
from sim.params import param

if TYPE_CHECKING:
    from agents.officers import Officers
    from sim.areas import AreaRules
    from sim.incidents import IncidentLog
    from sim.travel import DistanceField


@dataclass(frozen=True)
class DispatchConfig:
    """The command chain and the dispatch rule."""

    call_handling_min: float = param(
        1.5, "min", "Answer (10 s, NENA) plus triage (60-90 s, NFPA 1225): median.", lo=0, hi=1_440,
    )
    hop_delay_min: float = param(
        2.0, "min", "Median relay delay per tier hop (domain notes 2.9, assumption).",
        lo=0, hi=1_440, plausible=(1.0, 4.0),
    )
    delay_sigma: float = param(
        0.5, "-", "Log-sd of handling and relay delays (lognormal; assumption).", lo=0, hi=5,
        plausible=(0.25, 0.75),
    )
    hops: int = param(
        2, "-", "Hops when the strategy does not decide: HQ centre -> station -> unit.", lo=0,
        hi=10,
    )
    travel: bool = param(True, "-", "False makes travel instantaneous (validation only).")
    return_to_post: bool = param(True, "-", "Units drive back to their post after a job.")
    max_queue: int = param(
        100_000, "incidents", "Cap on waiting incidents: beyond it calls are lost and counted.",
        lo=0, hi=10_000_000,
    )
    binding: str = param(
        "none", "-", "Units bound to the area of their post cell: none (any free unit, "
        "nearest first), precinct or beat (own area first, then dispatch.backup).",
        choices=("none", "precinct", "beat"),
    )
    backup: str = param(
        "nearest", "-", "Who backs up a bound area: nearest (any unit at once), neighbours "
        "(adjacent areas after backup_delay_min, any after backup_any_delay_min) or "
        "preference (Larson-style lists: dispatch.preference_file or by travel time).",
        choices=("nearest", "neighbours", "preference"),
    )
    backup_delay_min: float = param(
        5.0, "min", "neighbours: minutes after the call reaches the dispatcher before units "
        "of adjacent areas may be sent (assumption).", lo=0, hi=1_440, plausible=(0.0, 15.0),
    )
    backup_any_delay_min: float = param(
        15.0, "min", "neighbours: minutes after the call reaches the dispatcher before any "
        "unit may be sent (assumption).", lo=0, hi=1_440, plausible=(5.0, 30.0),
    )
    preference_file: str = param(
        "", "-", "preference: CSV or Parquet of area, rank, from (the area whose units serve "
        "it, in rank order); empty = areas by travel time from the area's station.",
    )


class _Ready:
    """Holds one reported incident until its call reaches the dispatcher (an event target)."""

    __slots__ = ("__weakref__", "dispatcher", "row")

    def __init__(self, dispatcher: Dispatcher, row: int) -> None:
        self.dispatcher = dispatcher
        self.row = row

    def fire(self) -> None:
        self.dispatcher.on_ready(self)


class _Escalate:
    """Opens a queued call to more backup areas at its minute (an event target)."""

    __slots__ = ("__weakref__", "dispatcher", "row", "stage", "t")

    def __init__(self, dispatcher: Dispatcher, row: int, stage: int, t: float) -> None:
        self.dispatcher, self.row, self.stage, self.t = dispatcher, row, stage, t

    def fire(self) -> None:
        self.dispatcher.on_escalate(self)


@dataclass
class Desk:
    """What the dispatcher works with, passed in explicitly by the model.

    Attributes:
        log: The incident log.
        officers: The force.
        travel: The travel field (distances between cells).
        clock: The current minute.
        at_minute: Schedules a callback at a minute.
        eligible: Which available candidates may take an incident (the strategy's rule).
        on_scene_minutes: On-scene time of an incident from its class and pre-drawn normal.
        close: Decides clearance and its consequences when an officer finishes.
        hops: Relay hops per incident class (the strategy's).
        handling_factor: Call-handling time relative to ``call_handling_min``.
        sworn_only: Per incident class, whether auxiliaries may not attend.
        areas: Area binding and backup rules (None: any unit, nearest first).
    """

    log: IncidentLog
    officers: Officers
    travel: DistanceField
    clock: Callable[[], float]
    at_minute: Callable[[Callable[[], None], float], None]
    eligible: Callable[[int, np.ndarray], np.ndarray]
    on_scene_minutes: Callable[[int, float], float]
    close: Callable[[int, int], None]
    hops: np.ndarray
    handling_factor: float
    sworn_only: np.ndarray
    areas: AreaRules | None = None


class Dispatcher:
    """Routes calls to officers.

    Args:
        cfg: The ``[dispatch]`` section.
        desk: The collaborators.
    """

    def __init__(self, cfg: DispatchConfig, desk: Desk) -> None:
        self.cfg = cfg
        self.desk = desk
        self.queues: tuple[deque[Case], ...] = tuple(deque() for _ in desk.sworn_only)
        self.pending: dict[int, _Ready] = {}
        self.open: dict[int, Case] = {}
        self.lost = 0
        self.stage: dict[int, int] = {}  # queued calls under binding: highest rank eligible
        self.escalations: dict[tuple[int, int], _Escalate] = {}
        #: Mesa ``unique_id`` of every officer, by index (what the log records).
        self.officer_ids = [o.unique_id for o in desk.officers.agents]

    # -- the chain --------------------------------------------------------------------------
    def chain_delay(self, klass: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Call handling plus relay delays for a batch of calls (minutes).

        Args:
            klass: Incident class (priority) indices.
            z: Pre-drawn standard normals (one per call).

        Returns:
            The delay from the call to the dispatcher's decision.
        """
        cfg, desk = self.cfg, self.desk
        median = (cfg.call_handling_min * desk.handling_factor
                  + desk.hops[klass] * cfg.hop_delay_min)
        return median * np.exp(cfg.delay_sigma * z)

    def take_calls(self, rows: np.ndarray) -> None:
        """Reported incidents ``rows`` enter the command chain: schedule when each is ready."""
        log = self.desk.log
        delay = self.chain_delay(log.get("priority", rows), log.get("z_chain", rows))
        t_ready = log.get("t_report", rows) + delay
        log.set("t_ready", rows, t_ready)
        self.schedule_calls(rows[np.argsort(t_ready, kind="stable")])

    def schedule_calls(self, rows: np.ndarray) -> None:
        """Schedule the moment each reported incident (ids ``rows``) reaches the dispatcher.

        A replayed call with a recorded handling time (``rec_handling``) reaches it that long
        after the call, instead of after the command chain's draw.
        """
        log = self.desk.log
        recorded = log.get("rec_handling", rows)
        known = np.isfinite(recorded)
        if known.any():
            log.set("t_ready", rows[known], log.get("t_report", rows[known]) + recorded[known])
            rows = rows[np.argsort(log.get("t_ready", rows), kind="stable")]
        times = log.get("t_ready", rows).tolist()
        for row, t in zip(rows.tolist(), times, strict=True):
            ready = _Ready(self, row)
            self.pending[row] = ready
            self.desk.at_minute(ready.fire, t)

    # -- events -----------------------------------------------------------------------------
    def on_ready(self, ready: _Ready) -> None:
        """The call reaches the dispatcher: assign an officer or queue the call."""
        row = ready.row
        del self.pending[row]
        log = self.desk.log
        cell = int(log.get("cell", row))
        incident = Case(self, row, int(log.get("priority", row)), cell)
        self.open[row] = incident
        t = float(log.get("t_ready", row))
        found = self.nearest(row, cell)
        if found is not None:
            self.assign(incident, found[0], t, minutes=found[1])
        elif self.queued() >= self.cfg.max_queue:
            self.drop(incident)
        else:
            self.queues[incident.priority].append(incident)
            self.escalate_later(row, t)

    def on_arrival(self, incident: Case) -> None:
        """The officer reaches the scene: start the on-scene time (recorded, or drawn)."""
        desk = self.desk
        row, i = incident.row, incident.officer
        assert i is not None  # an arrival always has an officer
        t = incident.t_eta
        desk.log.set("t_arrive", row, t)
        desk.officers.arrive(i, incident.cell_index, t)
        duration = float(desk.log.get("rec_on_scene", row))  # a replayed call's recorded time
        if not math.isfinite(duration):
            duration = desk.on_scene_minutes(int(incident.priority),
                                             float(desk.log.get("z_scene", row)))
        # The log gets t_clear only when the incident is cleared: still on scene at the end
        # of a run means not closed (neither cleared nor failed).
        incident.t_due = t + duration
        desk.at_minute(incident.clear, incident.t_due)

    def on_clear(self, incident: Case) -> None:
        """The officer finishes: decide clearance, free the officer, take the next call."""
        desk = self.desk
        row, i = incident.row, incident.officer
        assert i is not None  # a clearance always has an officer
        t = incident.t_due
        desk.log.set("t_clear", row, t)
        desk.close(row, i)
        del self.open[row]
        self.free_officer(i, t, from_cell=incident.cell_index)

    # -- decisions --------------------------------------------------------------------------
    def nearest_officer(self, row: int, cell: int) -> int | None:
        """Index of the nearest available eligible officer for incident ``row``, or None.

        Under area binding only units of the areas now eligible for the call count, its own
        area first (:meth:`sim.areas.AreaRules.choose`).
        """
        found = self.nearest(row, cell)
        return None if found is None else found[0]

    def nearest(self, row: int, cell: int) -> tuple[int, float] | None:
        """The nearest available eligible officer and their minutes to ``cell``, or None.

        The minutes are those :meth:`travel_times` gives that officer alone (the nearest is
        always exact), so :meth:`assign` need not search again.
        """
        desk = self.desk
        f = desk.officers
        cand = f.available_mask().nonzero()[0]
        if cand.size == 0:
            return None
        ok = desk.eligible(row, cand)
        if desk.sworn_only[int(desk.log.get("priority", row))]:
            ok &= f.sworn[cand]
        cand = cand[ok]
        if cand.size and desk.areas is not None:
            rules = desk.areas
            stage = self.stage.get(row, rules.initial_stage())
            cand = cand[rules.choose(int(rules.cell_area[cell]),
                                     rules.cell_area[f.post_cell[cand]], stage)]
        if cand.size == 0:
            return None
        times = self.travel_times(cand, cell)
        k = int(times.argmin())
        return int(cand[k]), float(times[k])

    def escalate_later(self, row: int, t: float) -> None:
        """Schedule when a call queued at ``t`` opens to more backup areas (neighbours)."""
        rules = self.desk.areas
        if rules is None:
            return
        stage = self.stage.setdefault(row, rules.initial_stage())
        for delay, nxt in rules.escalations(stage):
            event = _Escalate(self, row, nxt, t + delay)
            self.escalations[(row, nxt)] = event
            self.desk.at_minute(event.fire, event.t)

    def on_escalate(self, event: _Escalate) -> None:
        """A queued call opens to more areas: send the best unit now eligible, if any."""
        del self.escalations[(event.row, event.stage)]
        incident = self.open.get(event.row)
        if incident is None or incident.officer is not None:
            return
        self.stage[event.row] = max(self.stage.get(event.row, 0), event.stage)
        found = self.nearest(event.row, incident.cell_index)
        if found is not None:
            self.queues[incident.priority].remove(incident)
            self.stage.pop(event.row, None)
            self.assign(incident, found[0], event.t, minutes=found[1])

    def travel_times(self, officers: np.ndarray, cell: int) -> np.ndarray:
        """Minutes for ``officers`` to reach ``cell`` from where they are now.

        Distances run from each officer to ``cell`` (one-way streets count); on a street
        network foot officers walk its streets both ways; cars go at the hour's speed. On a
        large street network, officers slower than the fastest may get ``inf``
        (:func:`sim.travel.officer_minutes`); the fastest and a lone officer are exact.
        """
        if not self.cfg.travel:
            return np.zeros(officers.size)
        from sim.travel import officer_minutes

        f, now = self.desk.officers, self.desk.clock()
        return officer_minutes(self.desk.travel, f, officers, f.positions(officers, now), cell,
                               now)

    def travel_one(self, i: int, cell: int) -> float:
        """Minutes for officer ``i`` alone to reach ``cell`` (as :meth:`travel_times`)."""
        if not self.cfg.travel:
            return 0.0
        field, f, now = self.desk.travel, self.desk.officers, self.desk.clock()
        at = f.position(i, now)
        if field.plain:
            # The grid (officer_minutes' plain case) for one officer, without the arrays.
            dist = field.between(cell, at) if not field.directed else field.target_one(cell, at)
            return float(f.turnout[i]) + dist * float(f.min_per_m[i])
        # Officers.travel_minutes for one officer: cars at the hour's speed, walkers walk.
        walk = field.walk if not f.vehicle[i] else None
        dist = (walk or field).target_one(cell, at)
        per_m = f.minutes_per_m_one(i, field.car_min_per_m, field.car_speed(now))
        return float(f.turnout[i]) + dist * per_m

    def assign(self, incident: Case, i: int, t: float, minutes: float | None = None) -> None:
        """Send officer ``i`` to ``incident`` at time ``t``.

        Args:
            incident: The incident.
            i: The officer.
            t: The minute of dispatch.
            minutes: The officer's travel minutes if already known (:meth:`nearest`).
        """
        desk = self.desk
        row = incident.row
        travel = self.travel_one(i, incident.cell_index) if minutes is None else minutes
        incident.officer = i
        desk.officers.send(i, row, t)
        log = desk.log
        log.set("t_dispatch", row, t)
        incident.t_eta = t + travel  # logged as t_arrive only when the officer gets there
        log.set("officer_id", row, self.officer_ids[i])
        log.set("officer_tier", row, desk.officers.tier[i])
        desk.at_minute(incident.arrive, incident.t_eta)

    def free_officer(self, i: int, t: float, from_cell: int) -> None:
        """Officer ``i`` becomes free at ``from_cell``: next call, off duty, or back to post."""
        f = self.desk.officers
        f.pos[i] = from_cell
        if not f.on_duty[i]:
            f.go_off_duty(i, t)
            return
        nxt = self.next_for(i)
        if nxt is not None:
            self.assign(nxt, i, t)
            return
        post = int(f.post_cell[i])
        if self.cfg.return_to_post and from_cell != post:
            # Driving back needs no turnout: the officer is already in the car (or walking).
            back = self.travel_one(i, post) - float(f.turnout[i]) if self.cfg.travel else 0.0
            f.drive_back(i, t, back)
        else:
            f.wait(i, t)

    def next_for(self, i: int) -> Case | None:
        """Pop the first queued incident officer ``i`` may take (priority, then FIFO).

        Under area binding the calls of the officer's own area come first, then those of
        other areas for which the officer's area is now eligible.
        """
        rules = self.desk.areas
        if rules is None:
            return self._first_queued(i, lambda incident: True)
        own = int(rules.cell_area[self.desk.officers.post_cell[i]])

        def backup(incident: Case) -> bool:
            area = int(rules.cell_area[incident.cell_index])
            rank = int(rules.rank[area, own]) if area >= 0 else 0
            return area != own and rank <= self.stage.get(incident.row, 0)

        found = self._first_queued(i, lambda inc: rules.cell_area[inc.cell_index] == own)
        if found is None:
            found = self._first_queued(i, backup)
        if found is not None:
            self.stage.pop(found.row, None)
        return found

    def _first_queued(self, i: int, wanted: Callable[[Case], bool]) -> Case | None:
        """Pop the first queued incident that is ``wanted`` and officer ``i`` may take."""
        desk = self.desk
        for klass, queue in enumerate(self.queues):
            if not queue:
                continue
            if desk.sworn_only[klass] and not desk.officers.sworn[i]:
                continue
            for k, incident in enumerate(queue):
                if wanted(incident) and desk.eligible(incident.row, np.array([i]))[0]:
                    del queue[k]
                    return incident
        return None

    def serve_queue(self, t: float) -> None:
        """Give queued calls to officers who have become available (e.g. a new shift)."""
        for queue in self.queues:
            for incident in list(queue):
                if not self.desk.officers.available_mask().any():
                    return
                found = self.nearest(incident.row, incident.cell_index)
                if found is None:
                    continue
                queue.remove(incident)
                self.stage.pop(incident.row, None)
                self.assign(incident, found[0], t, minutes=found[1])

    def drop(self, incident: Case) -> None:
        """Lose a call because the queue is full (counted, never silently)."""
        self.desk.log.set("lost", incident.row, True)
        del self.open[incident.row]
        self.lost += 1

    def queued(self) -> int:
        """Number of calls waiting for an officer."""
        return sum(len(q) for q in self.queues)

    def first_live(self, default: int) -> int:
        """Smallest id of an incident still in the chain or open (``default`` if none)."""
        return min([*self.pending, *self.open], default=default)
