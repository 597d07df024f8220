"""The police-sinking model: a Mesa model driven by events, with an hourly roster step.

Time: Mesa's clock (``model.time``) counts **hours**, so ``model.step()`` (one hour) is the
roster tick: shifts change, free officers are given admin, patrol or waiting time, patrol
positions move. Everything rare is an event scheduled with ``schedule_event`` at its exact
minute (converted to hours only to order the event list): a call reaching the dispatcher, an
arrival, a clearance. Every recorded time is in **minutes** since the start of the run and is
computed from the model's own arithmetic, never read back from the clock.

The model only wires the parts together and keeps the schedule: the officers
(:class:`agents.officers.Officers`) and residents (:class:`agents.residents.Residents`) own
their state and behaviour, demand (:class:`sim.demand.Demand`) draws and logs the incidents,
the dispatcher routes them, the outcomes decide reporting and clearance, the strategy decides
postings, eligibility and patrol weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mesa import Model

from agents.enums import Tier
from agents.incident import Incident
from agents.officers import Assignment, Officers
from agents.post import make_posts
from agents.resident import ResidentViews
from agents.residents import Residents
from agents.staffing import force_values, staffing_for
from sim.agenda import Agenda
from sim.areas import make_rules
from sim.city import CityLayout, build_grid, build_layout, travel_for
from sim.demand import Demand, load_recorded
from sim.dispatch import Desk, Dispatcher
from sim.mesa_scenario import MesaScenario, model_arguments
from sim.metrics import DailyRecorder, daily_collector
from sim.outcomes import Outcomes
from sim.patrol import PatrolAreas
from sim.postings import Postings
from sim.rng import make_streams
from sim.scenario import Scenario
from sim.strategies import make_strategy
from sim.strategies.base import split_counts
from sim.travel import DistanceField
from sim.units import MIN_PER_DAY, MIN_PER_HOUR


class PoliceModel(Postings, Model):
    """Police force sinking on a grid city.

    The Grassroots scenario, as the strategy runs it, is ``model.config``; Mesa's
    ``model.scenario`` (and so every agent's ``agent.scenario``) is a
    :class:`sim.mesa_scenario.MesaScenario` holding it.

    A well-behaved Mesa model: ``PoliceModel(**{"police.officers": 150}, rng=7)`` takes
    dotted overrides and Mesa's ``rng``; ``model.running`` turns False at the horizon
    (``run.days``); ``model.datacollector`` is a Mesa ``DataCollector`` of the daily
    indicators, so ``mesa.batch_run`` works on it.

    Args:
        scenario: The validated scenario (defaults if None), or a
            :class:`~sim.mesa_scenario.MesaScenario` holding one (as Mesa's app passes back).
        seed: Root seed or SeedSequence; defaults to ``rng``, then ``scenario.run.seed``.
        rng: Mesa's name for the seed (an integer, a SeedSequence or a Generator).
        **overrides: Dotted scenario keys and values, applied to ``scenario``.
    """

    def __init__(self, scenario: Scenario | MesaScenario | None = None,
                 seed: int | np.random.SeedSequence | None = None, *, rng: Any = None,
                 **overrides: Any) -> None:
        scenario, root = model_arguments(scenario, seed, rng, overrides)
        self.strategy = make_strategy(scenario)
        scenario = self.strategy.scenario
        self.streams = make_streams(root)
        # Mesa seeds model.random and model.rng from the scenario's rng.
        mesa_seed = int(self.streams.dispatch.integers(2**62))
        super().__init__(scenario=MesaScenario(scenario, rng=mesa_seed))
        self._until = 0.0
        self.agenda = Agenda(self, lambda: self._until)
        self._incident_views: dict[int, Incident] = {}
        self.config: Scenario = scenario
        self.horizon_days = scenario.run.days
        self.priority_cfg = scenario.incidents.by_index()
        self.build_city()
        self.build_force()
        self.build_people_and_demand()
        self.draw_day(0)
        self.roster(0)

    # -- builders ---------------------------------------------------------------------------
    def build_city(self) -> None:
        """Lay out the city, read any recorded calls, the Mesa grid, travel, posts, patrol."""
        self.layout: CityLayout = build_layout(self.config.city, self.streams.city,
                                               self.config.geo)
        self.calls, self.fit = load_recorded(self.config, self.layout)
        self.grid = build_grid(self.layout, self.random)
        self.cells = [self.grid[tuple(int(v) for v in self.layout.xy(i))]
                      for i in range(self.layout.n_cells)]
        self.travel: DistanceField = travel_for(self.config.city, self.config.data, self.layout,
                                                self.config.streets)
        self.posts = make_posts(self, self.layout, self.cells)
        self.patrol = PatrolAreas(self.layout,
                                  lambda area: self.strategy.patrol_weights(self, area))

    def build_force(self) -> None:
        """Recruit the officers and post them as the strategy decides."""
        p = self.config.police
        staffing = staffing_for(self.config, self.layout, self.calls)
        # Officers 0..n_hq-1 form the configured HQ (the base organisation posts them first).
        n_hq = split_counts(p.officers, {Tier.HQ: p.share_hq, Tier.STATION: p.share_station,
                                         Tier.COMMUNITY: p.share_community})[Tier.HQ]
        if staffing is not None:  # the table sizes the force; the run states what it used
            n_hq = staffing.n_hq
            self.config = self.config.with_overrides(force_values(staffing))
        self.force = f = Officers.recruit(p, n_hq, self.streams.officers, staffing)
        self.duty_rng = self.streams.named("officers", "duties")
        f.equipment_follows = self.strategy.equipment_follows()
        assignments = self.strategy.organise(self)
        if len(assignments) != f.n:
            raise ValueError(f"strategy.name: {self.strategy.name} posted {len(assignments)} "
                             f"officers, the force has {f.n}")
        base = getattr(self.strategy, "base", None) or assignments
        f.base_tier = np.array([int(a.tier) for a in base], dtype=np.int64)
        for i, a in enumerate(assignments):
            f.post(i, a, t=0.0)
            f.log_posting(i, None, a, "initial", day=0.0)
        self.allocations = f.allocations
        f.pos[:] = f.post_cell
        f.add_agents(self, self.cells)
        self.officers = f.agents

    def build_people_and_demand(self) -> None:
        """Seat the residents, then wire demand, outcomes, dispatch and the daily records."""
        cfg = self.config
        self.residents = Residents(cfg.residents, self.layout, self.streams.residents,
                                   self.streams.named("residents", "contacts"))
        self.resident_agents = ResidentViews(self, self.residents.home, self.cells)
        self.presence = self.residents.presence
        self.demand = Demand(cfg, self.layout, self.calls, self.fit, self.streams.incidents,
                             self.residents, self.report_probability)
        self.log, self.process, self.hazard = (self.demand.log, self.demand.process,
                                               self.demand.hazard)
        self.outcomes = Outcomes(cfg.outcomes, self.priority_cfg, self.log, self.force,
                                 self.residents, lambda: self.now,
                                 lambda: self.strategy.clearance_bonus(self))
        self.outcomes.refresh_cooperation()
        self.dispatcher = Dispatcher(cfg.dispatch, self.desk())
        self.recorder = DailyRecorder(self.force, self.dispatcher, self.residents, self.log)
        self.datacollector = daily_collector()

    def desk(self) -> Desk:
        """The dispatcher's collaborators."""
        strategy = self.strategy
        return Desk(
            log=self.log, officers=self.force, travel=self.travel, clock=lambda: self.now,
            at_minute=self.at_minute,
            eligible=lambda row, cand: strategy.eligible(self, row, cand),
            on_scene_minutes=self.process.on_scene_minutes, close=self.outcomes.close_incident,
            hops=np.array([strategy.chain_hops(k) for k in range(len(self.priority_cfg))],
                          dtype=np.int64),
            handling_factor=strategy.handling_factor(),
            sworn_only=np.array([c.sworn_only for c in self.priority_cfg]),
            areas=make_rules(self.config.dispatch, self.layout, self.travel,
                             staffed=self.force.staffing is not None))

    def report_probability(self, klass: np.ndarray, victims: np.ndarray) -> np.ndarray:
        """Probability that each new incident is reported (see :class:`sim.outcomes.Outcomes`)."""
        return self.outcomes.reporting_probability(klass, victims)

    # -- what strategies call ---------------------------------------------------------------
    def repost(self, i: int, a: Assignment, reason: str) -> None:
        """Move officer ``i`` to a new posting now (logged; the officer is never lost).

        Residents of a community the officer leaves lose the familiarity they had with them
        (in proportion to the community officers who stay).
        """
        old = self.force.posting(i)
        if old.tier == Tier.COMMUNITY and old.community >= 0 and old.community != a.community:
            self.residents.forget(old.community, self.force.community_officers(old.community) - 1)
        self.force.repost(i, a, self.now)
        self.force.log_posting(i, old, a, reason, day=self.day)

    # -- time -------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Current time in minutes."""
        return self.time * MIN_PER_HOUR

    @property
    def day(self) -> float:
        """Current time in days."""
        return self.now / MIN_PER_DAY

    def at_minute(self, callback: Any, t_min: float) -> None:
        """Schedule ``callback`` at minute ``t_min`` on the model's agenda (:mod:`sim.agenda`)."""
        self.agenda.at(callback, float(t_min) / MIN_PER_HOUR)

    def _advance_time(self, until: float) -> None:
        """Mesa's one path for ``step``, ``run_for`` and ``run_until``: note the horizon.

        The agenda's wake-up events run entries up to it (and never beyond), exactly as
        Mesa's own loop would run the same events.
        """
        self._until = until
        super()._advance_time(until)
        self.sync_views()

    def sync_views(self) -> None:
        """Bring the Mesa views up to date with the arrays and the dispatcher's cases.

        Officers' agents move to their current cells; every open incident gets an
        :class:`~agents.incident.Incident` agent on its cell (in the order the incidents
        opened) and the agents of closed ones are removed. Called wherever the model can be
        observed: at the end of ``step``, ``run_until`` and ``run_for``, and before the daily
        data collection and the strategy's daily decisions.
        """
        self.force.sync_agents()
        views, open_ = self._incident_views, self.dispatcher.open
        for row in [r for r in views if r not in open_]:
            views.pop(row).remove()
        for row, case in open_.items():
            if row not in views:
                views[row] = Incident(self, self.cells[case.cell_index], case)

    def step(self) -> None:
        """One hour: a new day's bookkeeping if a day has passed, then the roster."""
        hour = int(round(self.time))
        if hour % 24 == 0:
            self.new_day(hour // 24)
        self.roster(hour)

    def new_day(self, day: int) -> None:
        """Residents live the day, yesterday is recorded, the strategy acts, today is drawn."""
        self.residents.daily()
        self.outcomes.refresh_cooperation()
        self.recorder.close_day(day - 1)
        self.sync_views()
        self.datacollector.collect(self)
        self.running = day < self.horizon_days
        self.demand.spill(day, self.dispatcher.first_live(self.log.n),
                          self.strategy.look_back_days(), self.incident_frame)
        self.strategy.on_day(self, day)
        if day < self.horizon_days:
            self.draw_day(day)
        self.residents.new_day()

    def draw_day(self, day: int) -> None:
        """Today's incidents: the reported ones enter the command chain."""
        self.dispatcher.take_calls(self.demand.draw_day(day, self.residents.presence))

    def roster(self, hour: int) -> None:
        """Hourly: shift changes, the hour's duties, patrol seen by residents, queued calls."""
        t = hour * MIN_PER_HOUR
        f = self.force
        free = f.change_shift(hour, t)
        u = self.duty_rng.random((free.size, 3))
        patrolling, cells = f.take_duties(free, t, u, self.patrol.draw)
        if patrolling.size:
            self.residents.see_patrol(cells, f.on_foot(patrolling))
            local = f.local_officers(patrolling)
            if local.size:
                self.residents.meet(f.community[local])
        if self.dispatcher.queued():
            self.dispatcher.serve_queue(t)

    def run_days(self, days: int, progress: Any | None = None) -> None:
        """Advance the model by whole days, updating an optional progress bar per day."""
        start = int(round(self.time)) // 24
        for d in range(start, start + days):
            self.run_until((d + 1) * 24)
            if progress is not None:
                progress.update(1)

    def finish(self) -> None:
        """Close the books at the current time (state times, the current day)."""
        self.force.flush(self.now)

    # -- tables -----------------------------------------------------------------------------
    def incident_frame(self, log: Any, k: int) -> Any:
        """The first ``k`` incidents held, as the public table (for streaming to disk)."""
        from sim.incidents import incidents_frame
        from sim.metrics import TIERS

        x, y = self.layout.xy(np.arange(self.layout.n_cells))
        return incidents_frame(log, x, y, TIERS, k, self.config.incidents.names)
