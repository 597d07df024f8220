"""The police force as a vectorised agent set: officer state *and* what officers do.

One entry per officer in numpy arrays (the pattern of Mesa's vectorised examples and
mesa-frames), updated in bulk by the verbs below: being posted and re-posted, changing shift,
taking the hour's duties (admin, patrol, waiting), being sent to an incident, arriving,
becoming free, learning from a case. Each officer also has a Mesa agent
(:class:`agents.officer.Officer`, created by :meth:`Officers.add_agents`) for the map and the
API; it reads these arrays, so the view and the vectorised dispatch never disagree.

Time spent in each state is accumulated exactly (minutes) by :meth:`Officers.set_state`, which
is what utilisation and workload indicators are computed from.

The set declares its own parameters: :class:`sim.params` fields of the ``[police]`` section
(:class:`PoliceConfig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agents.enums import OfficerState, Tier
from sim.params import param
from sim.units import MIN_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from mesa import Model
    from mesa.discrete_space import Cell

    from agents.officer import Officer
    from agents.staffing import Staffing

N_STATES = len(OfficerState)
AVAILABLE = np.array([s.available for s in OfficerState])
COMMITTED = np.array([s.committed or s == OfficerState.RETURNING for s in OfficerState])
_RETURNING = int(OfficerState.RETURNING)


@dataclass(frozen=True)
class PoliceConfig:
    """The force before any sinking: size, tiers, time use, equipment, shifts, learning."""

    officers: int = param(
        120, "officers", "About 1.2 per 1,000 residents, a typical urban ratio (assumption).",
        lo=0, hi=100_000,
    )
    share_hq: float = param(
        0.5, "-", "Before sinking, half the force in HQ (the essay's 'bloated organs').", lo=0,
        hi=1,
    )
    share_station: float = param(0.5, "-", "Rest at the stations.", lo=0, hi=1)
    share_community: float = param(0.0, "-", "No community posts before sinking.", lo=0, hi=1)
    auxiliary_share: float = param(
        0.2, "-", "Auxiliary / civilian staff among officers; cannot take emergencies.", lo=0,
        hi=1,
    )
    hq_civilian_share: float = param(
        0.2, "-", "Non-police (civilian) staff among HQ posts: desk work only, never "
        "dispatched (the essay: HQ holds many non-police staff; assumption).", lo=0, hi=1,
        plausible=(0.1, 0.4),
    )
    admin_share_hq: float = param(
        0.7, "-", "Desk-work share of on-duty time at HQ (domain notes 2.9, assumption).", lo=0,
        hi=1, plausible=(0.5, 0.85),
    )
    admin_share_station: float = param(
        0.35, "-", "Desk-work share at stations (assumption).", lo=0, hi=1, plausible=(0.2, 0.5),
    )
    admin_share_community: float = param(
        0.2, "-", "Desk-work share of community officers (assumption).", lo=0, hi=1,
        plausible=(0.1, 0.35),
    )
    patrol_share: float = param(
        0.5, "-", "Share of free, non-admin time on patrol rather than waiting at post.", lo=0,
        hi=1,
    )
    vehicle_share_hq: float = param(1.0, "-", "Vehicles follow HQ units.", lo=0, hi=1)
    vehicle_share_station: float = param(0.8, "-", "Most station units are mobile.", lo=0, hi=1)
    vehicle_share_community: float = param(
        0.0, "-", "Community officers walk (foot patrol, household visits).", lo=0, hi=1
    )
    speed_vehicle_kmh: float = param(
        25.0, "km/h", "Urban car (domain notes 2.1); up to 1e6 so that validation can make "
        "travel negligible.", lo=0.1, hi=1e6,
    )
    speed_foot_kmh: float = param(5.0, "km/h", "Walking pace (domain notes 2.1).", lo=0.1, hi=50)
    turnout_min: float = param(
        1.0, "min", "From assignment to moving: reach the car, acknowledge (assumption).",
        lo=0, hi=1_440, plausible=(0.5, 3.0),
    )
    skill_mean: float = param(0.5, "-", "Mean skill on a 0..1 scale (assumption).", lo=0, hi=1,
        plausible=(0.4, 0.6))
    skill_sd: float = param(0.15, "-", "Spread of skill between officers.", lo=0, hi=1)
    shifts_per_day: int = param(
        3, "-", "Three 8-h shifts (Amendola et al. 2011 compare 8/10/12 h).", lo=1, hi=24
    )
    rest_groups: int = param(
        1,
        "-",
        "Groups resting on a given day: with 3 shifts + 1 rest group an officer works 3 days "
        "in 4, about 42 h a week.",
        lo=0, hi=30,
    )
    skill_gain_per_case: float = param(
        0.002, "-", "Skill step towards 1 per case handled (learning; assumption).", lo=0, hi=1,
        plausible=(0.0, 0.01),
    )
    officer_familiarity_days: float = param(
        180.0, "d", "Time for a community officer to know the community (1-e^-1).",
        lo=1e-6, hi=36_500,
    )
    staffing_file: str = param(
        "", "-", "CSV or Parquet of shift patterns (area, tier, days, start, hours, officers, "
        "persons); sizes and rosters the force, replacing officers, share_*, shifts_per_day "
        "and rest_groups. Empty = rotating equal shifts.",
    )
    first_weekday: str = param(
        "auto", "-", "Weekday of day 0 for the staffing table: auto = the recorded calls' "
        "first day (data.start or the calls), else Monday.",
        choices=("auto", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    )


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


class Officers:
    """State and behaviour of every officer.

    Args:
        n: Number of officers.
        cfg: The ``[police]`` section (None: state arrays only, for hand-built tests).
    """

    def __init__(self, n: int, cfg: PoliceConfig | None = None) -> None:
        self.n = n
        self.cfg = cfg or PoliceConfig()
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
        self.vehicle_u = np.zeros(n)
        self.equipment_follows = True
        self.staffing: Staffing | None = None
        #: Fixed shift of each officer (a plan's shift staffing); None = rotating shifts.
        self.fixed_shift: np.ndarray | None = None
        self.allocations: list[dict[str, object]] = []
        self.agents: list[Officer] = []
        self._cells: list[Cell] = []
        cfg = self.cfg
        self._admin_shares = np.array([cfg.admin_share_hq, cfg.admin_share_station,
                                       cfg.admin_share_community])
        self._agent_pos = self.pos.copy()  # where the Mesa agents stand (sync_agents)

    # -- recruitment ------------------------------------------------------------------------
    @classmethod
    def recruit(cls, cfg: PoliceConfig, n_hq: int, rng: np.random.Generator,
                staffing: Staffing | None = None) -> Officers:
        """Draw a force's attributes: skill, sworn, HQ civilians, roster group, equipment luck.

        Args:
            cfg: The ``[police]`` section.
            n_hq: Officers of the configured HQ (the first ``n_hq``); civilians are among them.
            rng: The officers' random stream.
            staffing: A staffing table: it sizes the force and its roster replaces the
                rotating shifts (None: ``cfg.officers`` on ``cfg.shifts_per_day`` shifts).
        """
        n = cfg.officers if staffing is None else staffing.n
        f = cls(n, cfg)
        f.staffing = staffing
        f.skill[:] = np.clip(rng.normal(cfg.skill_mean, cfg.skill_sd, n), 0.0, 1.0)
        f.sworn[:] = rng.random(n) >= cfg.auxiliary_share
        f.civilian[:] = (np.arange(n) < n_hq) & (rng.random(n) < cfg.hq_civilian_share)
        f.sworn[f.civilian] = False
        f.group[:] = rng.permutation(n) % (cfg.shifts_per_day + cfg.rest_groups)
        f.vehicle_u[:] = rng.random(n)
        return f

    def add_agents(self, model: Model, cells: list[Cell]) -> None:
        """Create the officers' Mesa agents on their current cells."""
        from agents.officer import Officer

        self._cells = cells
        self.agents = [Officer(model, i, cells[int(self.pos[i])]) for i in range(self.n)]
        self._agent_pos = self.pos.copy()

    # -- posting ----------------------------------------------------------------------------
    def post(self, i: int, a: Assignment, t: float) -> None:
        """Post officer ``i`` as ``a``: tier, post, area and the tier's equipment."""
        p = self.cfg
        self.tier[i] = int(a.tier)
        self.post_cell[i], self.precinct[i], self.community[i], self.area[i] = (
            a.post_cell, a.precinct, a.community, a.area)
        shares = (p.vehicle_share_hq, p.vehicle_share_station, p.vehicle_share_community)
        if a.tier > self.base_tier[i]:
            # A sunk officer keeps the equipment of their old tier only if it follows them.
            share = shares[self.base_tier[i]] if self.equipment_follows else 0.0
        else:
            share = shares[a.tier]
        self.vehicle[i] = self.vehicle_u[i] < share
        speed = p.speed_vehicle_kmh if self.vehicle[i] else p.speed_foot_kmh
        self.min_per_m[i] = 60.0 / (speed * 1000.0)
        self.turnout[i] = p.turnout_min
        self.posted_since[i] = t

    def posting(self, i: int) -> Assignment:
        """Officer ``i``'s current posting."""
        return Assignment(Tier(int(self.tier[i])), int(self.post_cell[i]), int(self.precinct[i]),
                          int(self.community[i]), int(self.area[i]))

    def repost(self, i: int, a: Assignment, t: float) -> Assignment:
        """Move officer ``i`` to posting ``a`` at ``t``; return the old posting.

        An officer not committed to an incident goes to the new post at once.
        """
        old = self.posting(i)
        self.post(i, a, t)
        if not OfficerState(int(self.state[i])).committed:
            self.move(i, a.post_cell)
        return old

    def log_posting(self, i: int, old: Assignment | None, new: Assignment, reason: str,
                    day: float) -> None:
        """Record a posting in the ``allocations`` table (officer_id is filled in later)."""
        self.allocations.append({
            "day": day, "officer_index": i, "reason": reason,
            "from_tier": Tier(old.tier).label if old else "",
            "from_community": old.community if old else -1,
            "from_precinct": old.precinct if old else -1,
            "to_tier": Tier(new.tier).label, "to_community": new.community,
            "to_precinct": new.precinct,
        })

    def community_officers(self, community: int) -> int:
        """Number of community officers posted to ``community``."""
        return int(np.sum((self.tier == Tier.COMMUNITY) & (self.community == community)))

    # -- the roster -------------------------------------------------------------------------
    def on_duty_at(self, hour: int) -> np.ndarray:
        """Which officers' shift covers ``hour``.

        The staffing table's rows covering it, or rotating equal shifts with rest groups.
        """
        if self.staffing is not None:
            return self.staffing.on_duty(hour)
        p = self.cfg
        groups = p.shifts_per_day + p.rest_groups
        day, hod = divmod(hour, 24)
        slot = (hod * p.shifts_per_day) // 24
        if self.fixed_shift is not None:  # the same shift every working day, same rest days
            return ((self.group + day) % groups < p.shifts_per_day) & (self.fixed_shift == slot)
        return (self.group + day) % groups == slot

    def change_shift(self, hour: int, t: float) -> np.ndarray:
        """Hourly shift change at minute ``t``; return the free officers now on duty.

        Officers whose drive back has ended are at their post; free officers whose shift has
        ended go off duty at their post.
        """
        on = self.on_duty_at(hour)
        self.finish_returns(t, hour, on)
        self.on_duty[:] = on
        free = ~COMMITTED[self.state]
        off = np.flatnonzero(free & ~self.on_duty)
        self.set_states(off, int(OfficerState.OFF_DUTY), t)
        self.place(off, self.post_cell[off])
        return np.flatnonzero(free & self.on_duty)

    def finish_returns(self, t: float, hour: int, on_duty: np.ndarray | None = None) -> None:
        """Officers whose drive back to post has ended are at their post and idle.

        Args:
            t: The minute.
            hour: The hour (whose shift decides idle or off duty).
            on_duty: ``on_duty_at(hour)`` if already computed.
        """
        done = np.flatnonzero((self.state == _RETURNING) & (self.return_until <= t))
        if done.size == 0:
            return
        # Back at post: idle if the shift goes on, off duty if it ended during the drive.
        still_on = (self.on_duty_at(hour) if on_duty is None else on_duty)[done]
        states = np.where(still_on, int(OfficerState.IDLE), int(OfficerState.OFF_DUTY))
        self.set_states(done, states, self.return_until[done])
        self.place(done, self.post_cell[done])

    def take_duties(self, idx: np.ndarray, t: float, u: np.ndarray,
                    patrol_cells: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    ) -> tuple[np.ndarray, np.ndarray]:
        """This hour's activity of free on-duty officers ``idx``: admin, patrol or waiting.

        Args:
            idx: Officers.
            t: Minute of the hour's start.
            u: Uniforms, shape ``(idx.size, 3)``: admin, patrol, patrol cell.
            patrol_cells: Draws one patrol cell per (area, uniform).

        Returns:
            The patrolling officers and their cells.
        """
        p = self.cfg
        admin_share = self._admin_shares[self.tier[idx]]
        admin = (u[:, 0] < admin_share) | self.civilian[idx]
        patrol = ~admin & (u[:, 1] < p.patrol_share)
        states = np.where(admin, int(OfficerState.ADMIN),
                          np.where(patrol, int(OfficerState.PATROL), int(OfficerState.IDLE)))
        self.set_states(idx, states, t)
        cells = self.post_cell[idx].copy()
        cells[patrol] = patrol_cells(self.area[idx[patrol]], u[patrol, 2])
        self.place(idx, cells)
        return idx[patrol], cells[patrol]

    def on_foot(self, idx: np.ndarray) -> np.ndarray:
        """Whether officers ``idx`` patrol on foot (community officers do, whatever they drive)."""
        return ~self.vehicle[idx] | (self.tier[idx] == Tier.COMMUNITY)

    def local_officers(self, idx: np.ndarray) -> np.ndarray:
        """Those of ``idx`` posted to a community (they make household contacts)."""
        return idx[(self.tier[idx] == Tier.COMMUNITY) & (self.community[idx] >= 0)]

    # -- incidents --------------------------------------------------------------------------
    def available_mask(self) -> np.ndarray:
        """Officers that may be dispatched now (on duty, idle, patrolling or returning)."""
        return AVAILABLE[self.state] & self.on_duty

    def send(self, i: int, incident: int, t: float) -> None:
        """Officer ``i`` sets off for incident ``incident`` at ``t``."""
        self.incident[i] = incident
        self.set_state(i, OfficerState.TRAVELLING, t)

    def arrive(self, i: int, cell: int, t: float) -> None:
        """Officer ``i`` reaches the scene at ``cell`` at ``t``."""
        self.set_state(i, OfficerState.ON_SCENE, t)
        self.move(i, cell)

    def finish_case(self, i: int) -> None:
        """Officer ``i`` closes a case and learns from it (skill steps towards 1)."""
        self.incident[i] = -1
        self.cases[i] += 1
        self.skill[i] += self.cfg.skill_gain_per_case * (1 - self.skill[i])

    def go_off_duty(self, i: int, t: float) -> None:
        """Officer ``i``, free after their shift ended, goes off duty at their post."""
        self.set_state(i, OfficerState.OFF_DUTY, t)
        self.move(i, int(self.post_cell[i]))

    def drive_back(self, i: int, t: float, minutes: float) -> None:
        """Officer ``i`` heads back to post, arriving ``minutes`` after ``t``."""
        self.return_until[i] = t + max(float(minutes), 0.0)
        self.set_state(i, OfficerState.RETURNING, t)

    def wait(self, i: int, t: float) -> None:
        """Officer ``i`` is free and waits where they are."""
        self.set_state(i, OfficerState.IDLE, t)

    def familiarity(self, i: int, community: int, now: float) -> float:
        """How well officer ``i`` knows ``community`` at minute ``now`` (grows with time posted)."""
        if self.community[i] != community:
            return 0.0
        days = (now - self.posted_since[i]) / MIN_PER_DAY
        return 1 - math.exp(-float(days) / self.cfg.officer_familiarity_days)

    def travel_minutes(self, idx: np.ndarray, dist_m: np.ndarray,
                       car_min_per_m: float | None = None,
                       car_speed: float = 1.0) -> np.ndarray:
        """Turnout plus travel for officers ``idx`` covering effective distances ``dist_m``.

        On the grid every officer covers effective metres at their own speed
        (``police.speed_vehicle_kmh`` or ``speed_foot_kmh``). On a street network the
        distances of officers in vehicles are metres already weighted by each street's speed,
        ``length * REFERENCE_KPH / speed``, so ``car_min_per_m`` (minutes per effective metre
        at the reference speed) makes an edge take ``length / speed``; foot officers' distances
        are plain metres walked at their own speed.

        Args:
            idx: Officer indices.
            dist_m: Effective metres each officer covers.
            car_min_per_m: Minutes per effective metre for cars; None = each officer's own.
            car_speed: Speed multiplier for cars (the hour of day's).

        Returns:
            Minutes, one per officer.
        """
        return self.turnout[idx] + dist_m * self.minutes_per_m(idx, car_min_per_m, car_speed)

    def minutes_per_m(self, idx: np.ndarray, car_min_per_m: float | None = None,
                      car_speed: float = 1.0) -> np.ndarray:
        """Minutes per (effective) metre of officers ``idx`` (see :meth:`travel_minutes`)."""
        own = self.min_per_m[idx]
        car = own if car_min_per_m is None else car_min_per_m
        return np.where(self.vehicle[idx], car / car_speed, own)

    def minutes_per_m_one(self, i: int, car_min_per_m: float | None = None,
                          car_speed: float = 1.0) -> float:
        """:meth:`minutes_per_m` of one officer (plain floats, the same arithmetic)."""
        own = float(self.min_per_m[i])
        if not self.vehicle[i]:
            return own
        return (own if car_min_per_m is None else car_min_per_m) / car_speed

    # -- where they are ---------------------------------------------------------------------
    def positions(self, idx: np.ndarray, now: float) -> np.ndarray:
        """Current cells of officers ``idx`` at minute ``now``.

        An officer driving back to post is at the scene until the drive ends and at the post
        from then on, even before the next roster tick records them as idle.
        """
        returning = self.state[idx] == _RETURNING
        if not returning.any():
            return self.pos[idx]
        back = returning & (self.return_until[idx] <= now + 1e-9)
        return np.where(back, self.post_cell[idx], self.pos[idx])

    def position(self, i: int, now: float) -> int:
        """Current cell of one officer (the scalar form of :meth:`positions`)."""
        if self.state[i] == _RETURNING and self.return_until[i] <= now + 1e-9:
            return int(self.post_cell[i])
        return int(self.pos[i])

    def place(self, idx: np.ndarray, cells: np.ndarray) -> None:
        """Put officers ``idx`` on ``cells`` (the arrays; the Mesa agents at the next sync)."""
        self.pos[idx] = cells

    def move(self, i: int, cell: int) -> None:
        """Put one officer on ``cell`` (the arrays; the Mesa agent at the next sync)."""
        self.pos[i] = cell

    def sync_agents(self) -> None:
        """Move the Mesa agents of officers whose cell changed since the last sync.

        The arrays are the officers' state; the agents are their view on the Mesa grid,
        brought up to date whenever the model can be observed
        (:meth:`sim.model.PoliceModel.sync_views`).
        """
        if not self.agents:
            return
        for i in np.flatnonzero(self.pos != self._agent_pos).tolist():
            self.agents[i].cell = self._cells[int(self.pos[i])]
        self._agent_pos[:] = self.pos

    # -- time accounting --------------------------------------------------------------------
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

    def ids(self) -> np.ndarray:
        """Mesa ``unique_id`` of every officer, by index."""
        return np.array([o.unique_id for o in self.agents], dtype=np.int64)

    def frame(self, now: float) -> pd.DataFrame:
        """One row per officer: posting, equipment, skill, cases and time use (minutes)."""
        import pandas as pd

        st = self.flush(now)
        df = pd.DataFrame({
            "officer_id": [o.unique_id for o in self.agents],
            "tier": [Tier(int(t)).label for t in self.tier],
            "precinct": self.precinct, "community": self.community, "sworn": self.sworn,
            "civilian": self.civilian,
            "vehicle": self.vehicle, "skill": self.skill, "cases": self.cases,
        })
        for s_ in OfficerState:
            df[f"minutes_{s_.label}"] = st[:, int(s_)]
        return df
