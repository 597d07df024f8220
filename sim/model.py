"""The police-sinking model: a Mesa model driven by events, with an hourly roster step.

Time: Mesa's clock (``model.time``) counts **hours**, so ``model.step()`` (one hour) is the
roster tick: shifts change, free officers are given admin, patrol or waiting time, patrol
positions move. Everything rare is an event scheduled with ``schedule_event`` at its exact
minute (converted to hours only to order the event list): a call reaching the dispatcher, an
arrival, a clearance. Every recorded time is in **minutes** since the start of the run and is
computed from the model's own arithmetic, never read back from the clock.

Each day, at its first hour, the day's incidents are drawn at once (see
:mod:`sim.incidents`) and the previous day's indicators are collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mesa import Model

from agents.enums import OfficerState, PostKind, Tier
from agents.officer import Officer
from agents.post import Post
from agents.resident import ResidentViews
from sim.city import CityLayout, build_grid, build_layout, make_travel
from sim.dispatch import Dispatcher
from sim.force import Assignment, Force
from sim.hazard import Hazard
from sim.incidents import IncidentLog, IncidentProcess
from sim.mesa_scenario import MesaScenario
from sim.metrics import DailyRecorder
from sim.outcomes import Outcomes
from sim.residents import Residents
from sim.rng import make_streams
from sim.scenario import PRIORITIES, Scenario
from sim.strategies import make_strategy
from sim.strategies.base import split_counts
from sim.travel import DistanceField
from sim.units import MIN_PER_DAY, MIN_PER_HOUR


class PoliceModel(Model):
    """Police force sinking on a grid city.

    The Grassroots scenario is ``model.config``; Mesa's ``model.scenario`` (and so every
    agent's ``agent.scenario``) is a :class:`sim.mesa_scenario.MesaScenario` holding it:
    ``model.scenario.config is model.config`` and ``model.scenario.police`` is
    ``model.config.police``.

    Args:
        scenario: The validated scenario (defaults if None), or a
            :class:`~sim.mesa_scenario.MesaScenario` holding one (as Mesa's app passes back).
        seed: Root seed or SeedSequence; defaults to ``scenario.run.seed``.
    """

    def __init__(self, scenario: Scenario | MesaScenario | None = None,
                 seed: int | np.random.SeedSequence | None = None) -> None:
        if isinstance(scenario, MesaScenario):
            scenario = scenario.config
        scenario = scenario or Scenario()
        root = scenario.run.seed if seed is None else seed
        self.streams = make_streams(root)
        # Mesa seeds model.random and model.rng from the scenario's rng.
        mesa_seed = int(self.streams.dispatch.integers(2**62))
        super().__init__(scenario=MesaScenario(scenario, rng=mesa_seed))
        self.config: Scenario = scenario
        self.horizon_days = scenario.run.days
        self.priority_cfg = [scenario.incidents.priority(p) for p in PRIORITIES]
        self.strategy = make_strategy(scenario)
        self.build_city()
        self.build_force()
        self.seat_residents()
        self.start_incidents()
        self.roster(0)

    # -- builders ---------------------------------------------------------------------------
    def build_city(self) -> None:
        """Lay out the city, the Mesa grid, the travel field and the posts."""
        self.layout: CityLayout = build_layout(self.config.city, self.streams.city)
        self.load_data()
        self.grid = build_grid(self.layout, self.random)
        self.cells = [self.grid[tuple(int(v) for v in self.layout.xy(i))]
                      for i in range(self.layout.n_cells)]
        self.travel = self.make_travel()
        lay = self.layout
        self.posts = [Post(self, self.cells[lay.hq_cell], PostKind.HQ, 0, lay.hq_cell, -1)]
        self.posts += [Post(self, self.cells[c], PostKind.STATION, k, int(c), k)
                       for k, c in enumerate(lay.station_cells)]
        self.posts += [Post(self, self.cells[c], PostKind.COMMUNITY, k, int(c),
                            int(lay.precinct_of_community[k]))
                       for k, c in enumerate(lay.community_post_cells)]
        self.build_patrol_areas()

    def load_data(self) -> None:
        """Read recorded calls (replay or fit); their risk surface replaces the synthetic one."""
        data = self.config.data
        self.calls = None
        self.fit = None
        if not data.calls_file:
            return
        from sim.calls import fit_process, load_calls

        lay = self.layout
        self.calls = load_calls(data, self.config.city)
        report_p = np.array([pc.report_prob for pc in self.priority_cfg])
        res = self.config.residents
        eta = res.near_repeat_eta if res.near_repeat else 0.0
        self.fit = fit_process(self.calls, lay.n_cells, lay.width, lay.height, data, report_p,
                               self_excitation=eta)
        lay.risk = np.asarray(self.fit["risk"])
        lay.hotspot = lay.risk >= np.quantile(lay.risk, 1 - self.config.city.hotspot_cell_share)

    def make_travel(self) -> DistanceField:
        """The travel field: the grid's streets, or a GraphML street network."""
        if self.config.data.streets_graphml:
            from sim.streets import load_graphml

            field = load_graphml(self.config.data, self.config.city)
            field.check_connected([self.layout.hq_cell])
            return field
        return make_travel(self.layout, self.config.city)

    def build_patrol_areas(self) -> None:
        """Patrol areas: 0 = the whole city, then one per precinct, then one per community."""
        lay = self.layout
        areas = [np.arange(lay.n_cells)]
        areas += [np.flatnonzero(lay.precinct == p) for p in range(lay.n_precincts)]
        areas += [np.flatnonzero(lay.community == c) for c in range(lay.n_communities)]
        self.set_patrol_areas(areas)

    def set_patrol_areas(self, areas: list[np.ndarray]) -> None:
        """Install patrol areas and their strategy weights as one concatenated CDF."""
        self.patrol_areas = areas
        cells, cdf = [], []
        for k, area in enumerate(areas):
            w = np.asarray(self.strategy.patrol_weights(self, area), dtype=float)
            w = np.ones(area.size) if w.sum() <= 0 else w
            cells.append(area)
            cdf.append(k + np.cumsum(w) / w.sum())
        self._patrol_cells = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
        self._patrol_cdf = np.concatenate(cdf) if cdf else np.zeros(0)
        self._patrol_cdf[np.cumsum([a.size for a in areas]) - 1] = np.arange(1, len(areas) + 1)

    def build_force(self) -> None:
        """Create the officers and post them as the strategy decides."""
        p = self.config.police
        rng = self.streams.officers
        n = p.officers
        self.force = f = Force(n)
        f.skill[:] = np.clip(rng.normal(p.skill_mean, p.skill_sd, n), 0.0, 1.0)
        f.sworn[:] = rng.random(n) >= p.auxiliary_share
        # Officers 0..n_hq-1 form the configured HQ (the base organisation posts them
        # first); a share of those posts are held by civilians, who never respond.
        n_hq = split_counts(n, {Tier.HQ: p.share_hq, Tier.STATION: p.share_station,
                                Tier.COMMUNITY: p.share_community})[Tier.HQ]
        f.civilian[:] = (np.arange(n) < n_hq) & (rng.random(n) < p.hq_civilian_share)
        f.sworn[f.civilian] = False
        groups = p.shifts_per_day + p.rest_groups
        f.group[:] = rng.permutation(n) % groups
        self._vehicle_u = rng.random(n)
        assignments = self.strategy.organise(self)
        if len(assignments) != n:
            raise ValueError(f"strategy.name: {self.strategy.name} posted {len(assignments)} "
                             f"officers, the force has {n}")
        base = getattr(self.strategy, "base", None) or assignments
        f.base_tier = np.array([int(a.tier) for a in base], dtype=np.int64)
        self.allocations: list[dict[str, object]] = []
        for i, a in enumerate(assignments):
            self.apply_assignment(i, a, t=0.0)
            self.log_allocation(i, None, a, "initial")
        f.pos[:] = f.post_cell
        self.officers = [Officer(self, i, self.cells[int(f.post_cell[i])]) for i in range(n)]
        self.dispatcher = Dispatcher(self)
        self.outcomes = Outcomes(self)

    def apply_assignment(self, i: int, a: Assignment, t: float) -> None:
        """Post officer ``i`` as ``a``: tier, post, area and the tier's equipment."""
        p = self.config.police
        f = self.force
        f.tier[i] = int(a.tier)
        f.post_cell[i], f.precinct[i], f.community[i], f.area[i] = (
            a.post_cell, a.precinct, a.community, a.area)
        shares = (p.vehicle_share_hq, p.vehicle_share_station, p.vehicle_share_community)
        if a.tier > f.base_tier[i]:
            # A sunk officer keeps the equipment of their old tier only if it follows them.
            share = shares[f.base_tier[i]] if self.config.strategy.equipment_follows else 0.0
        else:
            share = shares[a.tier]
        f.vehicle[i] = self._vehicle_u[i] < share
        speed = p.speed_vehicle_kmh if f.vehicle[i] else p.speed_foot_kmh
        f.min_per_m[i] = 60.0 / (speed * 1000.0)
        f.turnout[i] = p.turnout_min
        f.posted_since[i] = t

    def assignment_of(self, i: int) -> Assignment:
        """Officer ``i``'s current posting."""
        f = self.force
        return Assignment(Tier(int(f.tier[i])), int(f.post_cell[i]), int(f.precinct[i]),
                          int(f.community[i]), int(f.area[i]))

    def repost(self, i: int, a: Assignment, reason: str) -> None:
        """Move officer ``i`` to a new posting now (logged; the officer is never lost).

        Residents of a community the officer leaves lose the familiarity they had with them
        (in proportion to the community officers who stay).
        """
        f = self.force
        old = self.assignment_of(i)
        if old.tier == Tier.COMMUNITY and old.community >= 0 and old.community != a.community:
            stay = int(np.sum((f.tier == Tier.COMMUNITY) & (f.community == old.community))) - 1
            r = self.residents
            mask = r.community == old.community
            r.familiarity[mask] *= stay / (stay + 1)
        self.apply_assignment(i, a, t=self.now)
        if not OfficerState(int(f.state[i])).committed:
            self.move_officer(i, a.post_cell)
        self.log_allocation(i, old, a, reason)

    def log_allocation(self, i: int, old: Assignment | None, new: Assignment,
                       reason: str) -> None:
        """Record a posting in the ``allocations`` table."""
        self.allocations.append({
            # officer_id is filled from officer_index when the table is built (the initial
            # postings are logged before the Officer agents exist).
            "day": self.now / MIN_PER_DAY, "officer_index": i, "reason": reason,
            "from_tier": Tier(old.tier).label if old else "",
            "from_community": old.community if old else -1,
            "from_precinct": old.precinct if old else -1,
            "to_tier": Tier(new.tier).label, "to_community": new.community,
            "to_precinct": new.precinct,
        })

    def add_patrol_areas(self, areas: list[np.ndarray]) -> int:
        """Add patrol areas (e.g. grids); return the id of the first new one."""
        first = len(self.patrol_areas)
        self.set_patrol_areas(self.patrol_areas + list(areas))
        return first

    def hq_assignment(self) -> Assignment:
        """An HQ posting: patrols the whole city."""
        return Assignment(Tier.HQ, self.layout.hq_cell, -1, -1, 0)

    def station_assignment(self, precinct: int) -> Assignment:
        """A station posting in ``precinct``: patrols the precinct."""
        return Assignment(Tier.STATION, int(self.layout.station_cells[precinct]), precinct, -1,
                          1 + precinct)

    def community_assignment(self, community: int) -> Assignment:
        """A community-post posting: patrols the community."""
        lay = self.layout
        return Assignment(Tier.COMMUNITY, int(lay.community_post_cells[community]),
                          int(lay.precinct_of_community[community]), community,
                          1 + lay.n_precincts + community)

    def communities_by_population(self) -> np.ndarray:
        """Community ids ordered by population, largest first (ties by id)."""
        pop = np.bincount(self.layout.community, weights=self.layout.population,
                          minlength=self.layout.n_communities)
        return np.lexsort((np.arange(pop.size), -pop))

    def seat_residents(self) -> None:
        """Create the residents and the presence counters.

        The residents are arrays; their Mesa agents (``resident_agents``) are created only when
        read, since the model itself never reads them.
        """
        self.residents = Residents(self.config.residents, self.layout, self.streams.residents)
        self.resident_agents = ResidentViews(self, self.residents.home, self.cells)
        self.presence = np.zeros(self.layout.n_cells)
        self.contacts_due = np.zeros(self.layout.n_communities)
        self.outcomes.refresh_cooperation()

    def start_incidents(self) -> None:
        """Create the incident process and log, draw day 0."""
        lay = self.layout
        expected = self.config.incidents.rate_per_1000_day * lay.population.sum() / 1000
        capacity = int(expected * min(self.horizon_days, 400) * 1.1) + 16
        if self.config.run.log_rows:
            capacity = min(capacity, int(self.config.run.log_rows * 1.25) + 16)
        self.log = IncidentLog(capacity)
        self.process = self.make_process()
        self.recorder = DailyRecorder(self)
        self._day_start = 0
        replay = self.calls is not None and self.config.data.mode == "replay"
        self.hazard = Hazard(self.config.residents, self.layout, self.process, replay)
        self.draw_day(0)

    def make_process(self) -> IncidentProcess:
        """Synthetic incidents, recorded calls replayed, or a process fitted to them."""
        lay = self.layout
        cfg = self.config.incidents
        if self.calls is not None:
            from sim.calls import FittedProcess, ReplayProcess

            if self.config.data.mode == "replay":
                return ReplayProcess(cfg, self.calls, lay.risk, self.streams.incidents)
            assert self.fit is not None  # load_data fits whenever calls are loaded
            return FittedProcess(cfg, self.fit, self.streams.incidents)
        return IncidentProcess(cfg, float(lay.population.sum()), lay.risk,
                               self.streams.incidents)

    # -- time -------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Current time in minutes."""
        return self.time * MIN_PER_HOUR

    def at_minute(self, callback: object, t_min: float) -> None:
        """Schedule ``callback`` (a bound method) at minute ``t_min``."""
        self.schedule_event(callback, at=float(t_min) / MIN_PER_HOUR)

    def step(self) -> None:
        """One hour: a new day's bookkeeping if a day has passed, then the roster."""
        hour = int(round(self.time))
        if hour % 24 == 0:
            self.new_day(hour // 24)
        self.roster(hour)

    def new_day(self, day: int) -> None:
        """Close yesterday (residents, records), let the strategy act, draw today."""
        self.residents.daily(self.presence, self.contacts_due)
        self.outcomes.refresh_cooperation()
        self.recorder.close_day(day - 1)
        self.spill_log(day)
        self.strategy.on_day(self, day)
        if day < self.horizon_days:
            self.draw_day(day)
        self.presence[:] = 0.0
        self.contacts_due[:] = 0.0

    # -- incidents --------------------------------------------------------------------------
    def spill_log(self, day: int) -> None:
        """Stream old, final incidents to disk once the log holds ``run.log_rows`` rows.

        A row is final when its incident can no longer change: not waiting in the command
        chain, not open. Rows of the last ``keep`` days (the longest look-back of a strategy
        or the app) stay in memory.
        """
        log = self.log
        limit = self.config.run.log_rows
        if limit == 0 or log.size <= limit:
            return
        if log.spill_dir is None:
            log.spill_dir = self._make_spill_dir()
        keep_days = max(self.config.strategy.eval_period_days, 30)
        recent = log.first_id_at((day - keep_days) * MIN_PER_DAY)
        live = min([*self.dispatcher.pending, *self.dispatcher.open], default=log.n)
        upto = min(recent, live, self._day_start)
        if upto - log.first_id >= limit // 4:
            log.spill(upto, self._incident_frame)

    def _make_spill_dir(self) -> Path:
        import shutil
        import tempfile
        import weakref

        path = Path(tempfile.mkdtemp(prefix="grassroots-log-"))
        weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)
        return path

    def _incident_frame(self, log: IncidentLog, k: int) -> object:
        from sim.incidents import incidents_frame
        from sim.metrics import TIERS

        x, y = self.layout.xy(np.arange(self.layout.n_cells))
        return incidents_frame(log, x, y, TIERS, k)

    def draw_day(self, day: int) -> None:
        """Draw and log one day's incidents; schedule the calls of those reported."""
        log = self.log
        yesterday = log.column("cell", start=self._day_start) if day > 0 else None
        extra = self.hazard.near_repeat(yesterday)
        self._day_start = log.n
        deterred = self.hazard.deterrence(self.presence) if day > 0 else None
        cols = self.process.draw_day(day, deterred, extra)
        lay = self.layout
        cols["community"] = lay.community[cols["cell"]]
        cols["precinct"] = lay.precinct[cols["cell"]]
        cols["victim"] = self.residents.victims(cols["cell"], cols["community"],
                                                cols["u_victim"])
        cols["t_report"] = cols["t_occur"] + self.process.report_delay(cols["in_progress"],
                                                                       cols["z_report"])
        recorded = cols.pop("recorded", None)
        if recorded is not None:  # replayed calls: reported, at the recorded time
            cols["t_report"] = cols["t_occur"].copy()
            cols["reported"] = recorded
        else:
            p_rep = self.outcomes.reporting_probability(cols["priority"], cols["victim"])
            cols["reported"] = cols["u_report"] < p_rep
        ids = log.append(**cols)
        rep = ids[cols["reported"]]
        log.set("t_report", ids[~cols["reported"]], np.nan)
        delay = self.dispatcher.chain_delay(log.get("priority", rep), log.get("z_chain", rep))
        t_ready = log.get("t_report", rep) + delay
        log.set("t_ready", rep, t_ready)
        self.dispatcher.schedule_calls(rep[np.argsort(t_ready, kind="stable")])

    # -- officers ---------------------------------------------------------------------------
    def on_duty_now(self, hour: int) -> np.ndarray:
        """Which officers' shift covers ``hour`` (rotating shifts with rest groups)."""
        p = self.config.police
        groups = p.shifts_per_day + p.rest_groups
        day, hod = divmod(hour, 24)
        slot = (hod * p.shifts_per_day) // 24
        return (self.force.group + day) % groups == slot

    def roster(self, hour: int) -> None:
        """Hourly: shift changes, then admin / patrol / waiting for every free officer."""
        f = self.force
        t = hour * MIN_PER_HOUR
        self.finish_returns(t)
        f.on_duty[:] = self.on_duty_now(hour)
        free = ~np.isin(f.state, (OfficerState.TRAVELLING, OfficerState.ON_SCENE,
                                  OfficerState.RETURNING))
        off = np.flatnonzero(free & ~f.on_duty)
        f.set_states(off, int(OfficerState.OFF_DUTY), t)
        self.place(off, f.post_cell[off])
        self.assign_duties(np.flatnonzero(free & f.on_duty), t)
        self.dispatcher.serve_queue(t)

    def finish_returns(self, t: float) -> None:
        """Officers whose drive back to post has ended are at their post and idle."""
        f = self.force
        done = np.flatnonzero((f.state == OfficerState.RETURNING) & (f.return_until <= t))
        # Back at post: idle if the shift goes on, off duty if it ended during the drive.
        still_on = self.on_duty_now(int(round(t / MIN_PER_HOUR)))[done]
        states = np.where(still_on, int(OfficerState.IDLE), int(OfficerState.OFF_DUTY))
        f.set_states(done, states, f.return_until[done])
        self.place(done, f.post_cell[done])

    def assign_duties(self, idx: np.ndarray, t: float) -> None:
        """Draw this hour's activity of free on-duty officers: admin, patrol or waiting."""
        f = self.force
        p = self.config.police
        u = self.streams.officers.random((idx.size, 3))
        admin_share = np.array([p.admin_share_hq, p.admin_share_station,
                                p.admin_share_community])[f.tier[idx]]
        admin = (u[:, 0] < admin_share) | f.civilian[idx]
        patrol = ~admin & (u[:, 1] < p.patrol_share)
        states = np.where(admin, int(OfficerState.ADMIN),
                          np.where(patrol, int(OfficerState.PATROL), int(OfficerState.IDLE)))
        f.set_states(idx, states, t)
        cells = f.post_cell[idx].copy()
        cells[patrol] = self.patrol_cells(f.area[idx[patrol]], u[patrol, 2])
        self.place(idx, cells)
        self.count_presence(idx[patrol], cells[patrol])

    def count_presence(self, idx: np.ndarray, cells: np.ndarray) -> None:
        """Add an hour of visible patrol, and community officers' household contacts."""
        f = self.force
        res = self.config.residents
        # Community officers patrol on foot whatever they respond with.
        on_foot = ~f.vehicle[idx] | (f.tier[idx] == Tier.COMMUNITY)
        weight = np.where(on_foot, 1.0, res.vehicle_visibility)
        np.add.at(self.presence, cells, weight)
        local = idx[(f.tier[idx] == Tier.COMMUNITY) & (f.community[idx] >= 0)]
        np.add.at(self.contacts_due, f.community[local], res.contacts_per_hour)

    def officer_familiarity(self, i: int, community: int) -> float:
        """How well officer ``i`` knows ``community`` (grows with time posted there)."""
        f = self.force
        if f.community[i] != community:
            return 0.0
        days = (self.now - f.posted_since[i]) / MIN_PER_DAY
        return float(1 - np.exp(-days / self.config.residents.officer_familiarity_days))

    def patrol_cells(self, areas: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Draw one patrol cell in each of ``areas`` (weighted by the strategy)."""
        k = np.searchsorted(self._patrol_cdf, areas + u, side="right")
        return self._patrol_cells[np.minimum(k, self._patrol_cells.size - 1)]

    def place(self, idx: np.ndarray, cells: np.ndarray) -> None:
        """Put officers ``idx`` on ``cells`` (arrays and Mesa positions)."""
        f = self.force
        moved = idx[f.pos[idx] != cells]
        f.pos[idx] = cells
        for i in moved.tolist():
            self.officers[i].cell = self.cells[int(f.pos[i])]

    def move_officer(self, i: int, cell: int) -> None:
        """Put one officer on ``cell``."""
        self.force.pos[i] = cell
        agent = self.officers[i]
        target = self.cells[cell]
        if agent.cell is not target:
            agent.cell = target

    def officer_positions(self, idx: np.ndarray) -> np.ndarray:
        """Current cells of officers ``idx``.

        An officer driving back to post is at the scene until the drive ends and at the post
        from then on, even before the next roster tick records them as idle.
        """
        f = self.force
        back = (f.state[idx] == OfficerState.RETURNING) & (f.return_until[idx] <= self.now + 1e-9)
        return np.where(back, f.post_cell[idx], f.pos[idx])

    # -- running ----------------------------------------------------------------------------
    def run_days(self, days: int, progress: Any | None = None) -> None:
        """Advance the model by whole days, updating an optional progress bar per day."""
        start = int(round(self.time)) // 24
        for d in range(start, start + days):
            self.run_until((d + 1) * 24)
            if progress is not None:
                progress.update(1)

    # -- indicators from the public side ----------------------------------------------------
    def extra_daily(self) -> dict[str, float]:
        """Residents' means for the daily table."""
        r = self.residents
        if r.n == 0:
            return {}
        return {"satisfaction_mean": float(r.satisfaction.mean()),
                "trust_mean": float(r.trust.mean()),
                "familiarity_mean": float(r.familiarity.mean())}

    def extra_community(self) -> dict[str, np.ndarray]:
        """Residents' means per community."""
        r = self.residents
        return {"residents": np.bincount(r.community, minlength=r.n_communities),
                "satisfaction": r.by_community("satisfaction"),
                "trust": r.by_community("trust"),
                "familiarity": r.by_community("familiarity"),
                "cooperation": r.cooperation()}

    def extra_summary(self) -> dict[str, float | int]:
        """Residents' end-of-run means; for recorded calls, rows read, used and dropped."""
        r = self.residents
        out: dict[str, float | int] = {"satisfaction_mean": float("nan"),
                                       "trust_mean": float("nan"),
                                       "familiarity_mean": float("nan")}
        if r.n:
            out.update(self.extra_daily())
            out["victimised_share"] = float((r.victimised > 0).mean())
        if self.calls is not None:  # recorded calls: what was read and what was dropped, why
            out["calls_read"] = self.calls.rows_read
            out["calls_used"] = int(self.calls.minute.size)
            out["calls_dropped"] = int(sum(self.calls.dropped.values()))
            for reason, count in self.calls.dropped.items():
                out["calls_dropped_" + reason.replace(" ", "_")] = count
        return out

    def extra_tables(self) -> dict[str, object]:
        """The residents snapshot table."""
        import pandas as pd

        alloc = pd.DataFrame(self.allocations)
        if not alloc.empty:
            ids = np.array([o.unique_id for o in self.officers])
            alloc.insert(1, "officer_id", ids[alloc["officer_index"].to_numpy()])
        return {"residents": self.residents.frame(self.layout), "allocations": alloc,
                "officers": self.officer_frame()}

    def officer_frame(self) -> object:
        """One row per officer: posting, equipment, skill, cases and time use (minutes)."""
        import pandas as pd

        f = self.force
        st = f.flush(self.now)
        df = pd.DataFrame({
            "officer_id": [o.unique_id for o in self.officers],
            "tier": [Tier(int(t)).label for t in f.tier],
            "precinct": f.precinct, "community": f.community, "sworn": f.sworn,
            "civilian": f.civilian,
            "vehicle": f.vehicle, "skill": f.skill, "cases": f.cases,
        })
        for s_ in OfficerState:
            df[f"minutes_{s_.label}"] = st[:, int(s_)]
        return df

    def finish(self) -> None:
        """Close the books at the current time (state times, the current day)."""
        self.force.flush(self.now)

    @property
    def day(self) -> float:
        """Current time in days."""
        return self.now / MIN_PER_DAY
