"""The scenario: one typed, frozen description of a simulated world and how it is policed.

A scenario has sections ``run``, ``city``, ``police``, ``incidents`` (with one sub-table per
priority), ``dispatch``, ``residents`` and ``strategy``. Each leaf is declared with
:func:`sim.params.param` (unit, bounds, justification). Scenarios are read from TOML files
(see ``scenarios/``) and changed with dotted overrides such as ``police.officers=150``;
variants are made with :func:`dataclasses.replace` or :meth:`Scenario.with_overrides`, never
by mutation.

Loading never executes code: TOML is parsed as data and every value is checked against its
declaration. Problems raise :class:`ScenarioError` whose message names the field and the problem.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from sim.params import echo, info_of, is_section, iter_params, param, section, shorten
from sim.rng import DEFAULT_SEED
from sim.units import QUARTER_DAYS

PRIORITIES = ("emergency", "urgent", "routine")


class ScenarioError(ValueError):
    """A scenario or override is invalid; the message names the field and the problem."""


@dataclass(frozen=True)
class RunConfig:
    """How long to simulate and with which seed."""

    name: str = param("default", "-", "Label written into every output.")
    description: str = param("", "-", "Free text shown by `grassroots scenarios`.")
    days: int = param(
        365, "d", "A year: long enough for trust and familiarity to settle (drift 1/365 a day).",
        lo=1, hi=36_500,
    )
    seed: int = param(
        DEFAULT_SEED, "-", "Root of the SeedSequence from which all streams are spawned.",
        lo=0, hi=2**63 - 1,
    )
    log_rows: int = param(
        500_000, "incidents", "Incidents kept in memory before old, closed ones stream to "
        "disk (about 150 bytes each); 0 = keep all.", lo=0, hi=100_000_000,
    )


@dataclass(frozen=True)
class CityConfig:
    """The grid city: size, communities, precincts, population, risk and streets."""

    width: int = param(40, "cells", "40 x 125 m = 5 km square city district (assumption).",
        lo=1, hi=10_000)
    height: int = param(40, "cells", "Square city by default (see width).", lo=1, hi=10_000)
    cell_size_m: float = param(
        125.0, "m", "A city block; 100-250 m in the literature's grid models.", lo=1, hi=10_000,
    )
    community_cells: int = param(
        8,
        "cells",
        "Side of a community: 1 km^2 holds ~4,000 residents at the default density, one "
        "community officer per 3,000-5,000 residents (MPS 2022).",
        lo=1, hi=10_000,
    )
    precincts_x: int = param(2, "-", "Station precincts across (4 stations; assumption).",
        lo=1, hi=1_000)
    precincts_y: int = param(2, "-", "Station precincts down.", lo=1, hi=1_000)
    hq_x: float = param(0.5, "-", "HQ position as a fraction of the width (centre).", lo=0, hi=1)
    hq_y: float = param(0.5, "-", "HQ position as a fraction of the height.", lo=0, hi=1)
    population: int = param(
        100_000, "persons", "Urban district of 100k: 4,000 per km^2 (assumption).",
        lo=0, hi=100_000_000,
    )
    density_peaks: int = param(
        4, "-", "Population centres: density is a sum of Gaussian bumps (assumption).",
        lo=0, hi=1_000,
    )
    density_spread: float = param(
        0.18, "-", "Width of each density bump as a fraction of the city side.", lo=0.01, hi=10
    )
    risk_noise_sd: float = param(
        0.5, "-", "Log-sd of block-to-block variation of risk beyond population (assumption); "
        "0 with no hot spots and a flat density gives uniform risk.", lo=0, hi=5,
    )
    hotspot_cell_share: float = param(
        0.05, "-", "Share of cells that are hot spots (Weisburd 2015: 50% at 2-6%).", lo=0, hi=1
    )
    hotspot_incident_share: float = param(
        0.5, "-", "Share of incident risk in hot-spot cells (Weisburd 2015; Sherman 1989).", lo=0,
        hi=1,
    )
    blocked_street_share: float = param(
        0.0, "-", "Share of street segments removed (rivers, closures); 0 = full grid.", lo=0,
        hi=0.5,
    )
    arterial_spacing: int = param(
        0, "cells", "Every n-th row and column is an arterial road; 0 = none.", lo=0, hi=10_000,
    )
    arterial_speedup: float = param(
        1.5, "-", "Speed factor on arterials relative to ordinary streets (assumption).", lo=1,
        hi=5,
    )


@dataclass(frozen=True)
class PoliceConfig:
    """The force before any sinking: size, tiers, time use, equipment, shifts."""

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
    )
    admin_share_hq: float = param(
        0.7, "-", "Desk-work share of on-duty time at HQ (domain notes 2.9, assumption).", lo=0,
        hi=1,
    )
    admin_share_station: float = param(
        0.35, "-", "Desk-work share at stations (assumption).", lo=0, hi=1
    )
    admin_share_community: float = param(
        0.2, "-", "Desk-work share of community officers (assumption).", lo=0, hi=1
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
        lo=0, hi=1_440,
    )
    skill_mean: float = param(0.5, "-", "Mean skill on a 0..1 scale (assumption).", lo=0, hi=1)
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


@dataclass(frozen=True)
class PriorityConfig:
    """One priority class of incidents."""

    share: float = param(0.33, "-", "Share of true incidents.", lo=0, hi=1)
    on_scene_mean_min: float = param(40.0, "min", "Mean on-scene time (domain notes 2.1).",
        lo=0, hi=10_080)
    on_scene_cv: float = param(
        0.8, "-", "Coefficient of variation of on-scene time (lognormal); 1 with exponential.",
        lo=0, hi=10,
    )
    in_progress_share: float = param(
        0.3, "-", "Share caught in progress rather than discovered later (Kansas City RTA).",
        lo=0, hi=1,
    )
    report_prob: float = param(
        0.45, "-", "Probability the incident is reported at baseline trust (NCVS 40-50%).", lo=0,
        hi=1,
    )
    clearance_base: float = param(
        0.3, "-", "Clearance probability at the reference response time (FBI UCR 2019).", lo=0,
        hi=1,
    )
    expected_response_min: float = param(
        15.0, "min", "What residents expect (Percy 1980: expectations drive satisfaction).",
        lo=0, hi=1_440,
    )
    sworn_only: bool = param(False, "-", "Whether auxiliaries may not attend.")


def _emergency() -> PriorityConfig:
    return PriorityConfig(
        share=0.1,
        on_scene_mean_min=60.0,
        in_progress_share=0.8,
        report_prob=0.9,
        clearance_base=0.45,
        expected_response_min=8.0,
        sworn_only=True,
    )


def _urgent() -> PriorityConfig:
    return PriorityConfig(
        share=0.3,
        on_scene_mean_min=45.0,
        in_progress_share=0.4,
        report_prob=0.6,
        clearance_base=0.3,
        expected_response_min=15.0,
        sworn_only=True,
    )


def _routine() -> PriorityConfig:
    return PriorityConfig(
        share=0.6,
        on_scene_mean_min=30.0,
        in_progress_share=0.1,
        report_prob=0.4,
        clearance_base=0.17,
        expected_response_min=40.0,
        sworn_only=False,
    )


@dataclass(frozen=True)
class IncidentConfig:
    """The incident process: rate, daily cycle, reporting delay, on-scene times."""

    rate_per_1000_day: float = param(
        3.0,
        "1/(1000 persons d)",
        "True incidents; with ~50% reported, ~0.55 calls per person per year, the order of "
        "US calls-for-service rates (assumption).",
        lo=0, hi=1_000,
    )
    daily_amplitude: float = param(
        0.5, "-", "Relative amplitude of the daily cycle (evening peak; assumption).", lo=0, hi=1
    )
    peak_hour: float = param(20.0, "h", "Hour of the daily peak (evening; assumption).", lo=0,
                             hi=24)
    report_delay_in_progress_min: float = param(
        2.0, "min", "Median time to call for incidents in progress (Kansas City RTA).",
        lo=0, hi=525_600,
    )
    report_delay_discovered_min: float = param(
        60.0, "min", "Median time to call for incidents discovered later (Kansas City RTA).",
        lo=0, hi=525_600,
    )
    report_delay_sigma: float = param(
        1.0, "-", "Log-sd of reporting delays (lognormal; assumption).", lo=0, hi=5
    )
    on_scene_distribution: str = param(
        "lognormal",
        "-",
        "Lognormal (right-skewed, realistic) or exponential (for M/M/c validation).",
        choices=("lognormal", "exponential"),
    )
    clearance_rt_effect: float = param(
        -0.49,
        "1/ln(min)",
        "dP(clear)/dln(response time) for in-progress incidents: -4.7 pp per +10% "
        "(Blanes i Vidal & Kirchmaier 2018).",
        lo=-5,
        hi=0,
    )
    clearance_skill_effect: float = param(
        1.0, "logit", "Log-odds gain per unit of officer skill above 0.5 (assumption).", lo=0,
        hi=10,
    )
    emergency: PriorityConfig = section(_emergency)
    urgent: PriorityConfig = section(_urgent)
    routine: PriorityConfig = section(_routine)

    def priority(self, name: str) -> PriorityConfig:
        """Return the configuration of one priority class by name."""
        return getattr(self, name)


@dataclass(frozen=True)
class DispatchConfig:
    """The command chain and the dispatch rule."""

    call_handling_min: float = param(
        1.5, "min", "Answer (10 s, NENA) plus triage (60-90 s, NFPA 1225): median.", lo=0, hi=1_440,
    )
    hop_delay_min: float = param(
        2.0, "min", "Median relay delay per tier hop (domain notes 2.9, assumption).",
        lo=0, hi=1_440,
    )
    delay_sigma: float = param(
        0.5, "-", "Log-sd of handling and relay delays (lognormal; assumption).", lo=0, hi=5
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


@dataclass(frozen=True)
class ResidentsConfig:
    """Resident agents and the public side: satisfaction, trust, familiarity, cooperation."""

    agents: int = param(
        10_000, "agents", "Resident agents; each stands for population/agents persons.",
        lo=0, hi=5_000_000,
    )
    satisfaction_init: float = param(
        0.6, "-", "Baseline satisfaction (share satisfied in surveys ~0.6; assumption).", lo=0,
        hi=1,
    )
    trust_init: float = param(
        0.5, "-", "Baseline trust; reporting_trust_ref is anchored here.", lo=0, hi=1
    )
    init_sd: float = param(0.1, "-", "Spread of initial satisfaction and trust.", lo=0, hi=1)
    network_k: int = param(
        6, "ties", "Ties per resident in the small-world network (Watts & Strogatz 1998).",
        lo=0, hi=100,
    )
    network_rewire: float = param(
        0.1, "-", "Share of ties rewired to anyone in the city (mostly local ties).", lo=0, hi=1
    )
    experience: bool = param(True, "-", "Response experiences change victims' views.")
    experience_rate: float = param(
        0.3, "-", "Step towards 1 (or 0) of a fully good (bad) experience (assumption).", lo=0,
        hi=1,
    )
    negativity: float = param(
        5.0, "-", "Weight of a bad experience relative to a good one (Skogan 2006: 4-14).", lo=1,
        hi=20,
    )
    trust_rate_ratio: float = param(
        0.5, "-", "Trust moves at this fraction of the satisfaction rate (assumption).", lo=0,
        hi=1,
    )
    word_of_mouth: float = param(
        0.2, "-", "Attenuation of an experience passed to network neighbours (assumption).",
        lo=0, hi=1,
    )
    response_weight: float = param(
        0.6, "-", "Weight of response time vs expectation in the experience score "
        "(Percy 1980; KC RTA).", lo=0, hi=1,
    )
    clearance_weight: float = param(
        0.2, "-", "Weight of the case being cleared in the experience score.", lo=0, hi=1
    )
    conduct_weight: float = param(
        0.2, "-", "Weight of officer conduct (skill, familiarity): procedural justice "
        "(Tyler & Fagan 2008).", lo=0, hi=1,
    )
    presence: bool = param(True, "-", "Visible patrol lifts satisfaction of those who see it.")
    presence_gain: float = param(
        0.004, "1/d", "Daily satisfaction gain at saturating presence (assumption; small, "
        "Gill et al. 2014).", lo=0, hi=1,
    )
    presence_half_hours: float = param(
        2.0, "officer-h/d", "Presence scale: 1-e^-1 of the effect at this many hours a day.",
        lo=1e-6, hi=10_000,
    )
    vehicle_visibility: float = param(
        0.3, "-", "Visibility of a patrol car relative to an officer on foot (assumption).",
        lo=0, hi=1,
    )
    contact: bool = param(True, "-", "Community officers make household contacts.")
    contacts_per_hour: float = param(
        3.0, "1/h", "Household contacts per foot-patrol hour of a community officer "
        "(assumption; household visits).", lo=0, hi=60,
    )
    contact_familiarity_gain: float = param(
        0.3, "-", "Familiarity step towards 1 per contact (assumption).", lo=0, hi=1
    )
    contact_trust_gain: float = param(
        0.02, "-", "Trust and satisfaction step per contact (procedural justice; assumption).",
        lo=0, hi=1,
    )
    familiarity_decay_per_day: float = param(
        1 / 180, "1/d", "Familiarity fades over ~6 months without contact (assumption).", lo=0,
        hi=1,
    )
    drift_per_day: float = param(
        1 / 365, "1/d", "Relaxation of satisfaction and trust towards baseline (assumption).",
        lo=0, hi=1,
    )
    reporting_trust_elasticity: float = param(
        1.0, "-", "Relative change in reporting per unit of trust above baseline "
        "(procedural justice -> cooperation; Tyler & Fagan 2008).", lo=0, hi=10,
    )
    cooperation_effect: float = param(
        2.0, "logit", "Clearance log-odds per unit of community cooperation above baseline "
        "(witnesses naming suspects; Blanes i Vidal & Kirchmaier 2018).", lo=0, hi=10,
    )
    cooperation_familiarity_weight: float = param(
        0.5, "-", "Weight of familiarity (vs trust) in cooperation.", lo=0, hi=1
    )
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
        "Mohler 2011, assumption 0.2-0.5).", lo=0, hi=0.95,
    )
    near_repeat_days: float = param(
        14.0, "d", "Mean delay of follow-on incidents (Johnson & Bowers 2004: 1-4 weeks).",
        lo=0.1, hi=3_650,
    )
    near_repeat_radius_cells: float = param(
        1.5, "cells", "Spatial spread of follow-on risk (~200 m; Johnson & Bowers 2004).",
        lo=0, hi=50,
    )
    skill_gain_per_case: float = param(
        0.002, "-", "Skill step towards 1 per case handled (learning; assumption).", lo=0, hi=1
    )
    officer_familiarity_days: float = param(
        180.0, "d", "Time for a community officer to know the community (1-e^-1).",
        lo=1e-6, hi=36_500,
    )


@dataclass(frozen=True)
class StrategyConfig:
    """Which sinking strategy organises the force, and its parameters."""

    name: str = param("centralized", "-", "Registered strategy name (see `grassroots scenarios`).")
    sink_fraction: float = param(
        0.5, "-", "Share of HQ officers moved down (MPS 2022: stations >= 40% of the force).",
        lo=0, hi=1,
    )
    sink_per_quarter: float = param(
        0.0, "-", "Gradual sinking: share of HQ officers moved per quarter; 0 = all at once.",
        lo=0, hi=1,
    )
    community_share: float = param(
        0.4, "-", "Share of station officers posted to communities or grids (MPS 2022: "
        "community officers >= 40% of station police).", lo=0, hi=1,
    )
    sink_civilians: bool = param(
        True, "-", "Head-count sinking moves HQ civilians too (who add no response capacity); "
        "false sinks sworn officers only (right person, right post).",
    )
    equipment_follows: bool = param(
        True, "-", "Vehicles follow officers down (resource tilt); false: sunk officers walk."
    )
    tech: bool = param(False, "-", "Add the smart-policing layer to any strategy.")
    tech_hops: int = param(0, "-", "Relay hops with the platform: direct dispatch (Zhuhai).",
                           lo=0, hi=10)
    tech_handling_factor: float = param(
        0.6, "-", "Call handling time with the platform relative to without (assumption).",
        lo=0, hi=1,
    )
    tech_clearance_bonus: float = param(
        0.3, "logit", "Clearance log-odds from data sharing (assumption).", lo=0, hi=5
    )
    patrol_focus: float = param(
        1.0, "-", "Predictive patrol: patrol weight proportional to risk^focus (hot-spot "
        "policing, Braga et al. 2019).", lo=0, hi=5,
    )
    grid_households: float = param(
        300.0, "households", "Households per grid (Yangjiang scheme: 150-500).", lo=1, hi=1_000_000,
    )
    household_size: float = param(2.8, "persons", "Persons per household (census).", lo=0.1, hi=20)
    grid_fallback: bool = param(
        True, "-", "Routine calls go to other units when the grid officer is busy."
    )
    eval_period_days: int = param(
        QUARTER_DAYS, "d", "Adaptive: evaluate every quarter (the essay's regular evaluation).",
        lo=1, hi=36_500,
    )
    adaptive_max_moves: int = param(
        4, "officers", "Adaptive: most officers re-posted per evaluation.", lo=0, hi=100_000,
    )
    rotation_days: int = param(0, "d", "Rotation (轮岗) period; 0 = no rotation.", lo=0, hi=36_500)
    rotation_share: float = param(
        0.25, "-", "Share of community officers rotated each period.", lo=0, hi=1
    )


@dataclass(frozen=True)
class DataConfig:
    """Real data in: recorded calls for service (replay or fit) and a street network."""

    calls_file: str = param(
        "", "-", "CSV or Parquet of calls for service; empty = synthetic incidents. Relative "
        "paths are read from the scenario file's folder.",
    )
    mode: str = param(
        "replay", "-", "replay: the recorded calls are the incident stream; fit: estimate "
        "risk, daily and weekly cycle and priority mix, then simulate.",
        choices=("replay", "fit"),
    )
    coords: str = param(
        "xy", "-", "Location columns: projected metres (xy) or degrees (lonlat).",
        choices=("xy", "lonlat"),
    )
    origin_x: float = param(0.0, "m", "Projected x of the city's south-west corner.",
        lo=-1e8, hi=1e8)
    origin_y: float = param(0.0, "m", "Projected y of the city's south-west corner.",
        lo=-1e8, hi=1e8)
    origin_lon: float = param(
        0.0, "deg", "Longitude of the south-west corner (equirectangular projection).", lo=-180,
        hi=180,
    )
    origin_lat: float = param(0.0, "deg", "Latitude of the south-west corner.", lo=-90, hi=90)
    col_time: str = param("timestamp", "-", "Column with the call's date and time.")
    col_x: str = param("x", "-", "Column with projected x (coords = xy).")
    col_y: str = param("y", "-", "Column with projected y (coords = xy).")
    col_lon: str = param("lon", "-", "Column with longitude (coords = lonlat).")
    col_lat: str = param("lat", "-", "Column with latitude (coords = lonlat).")
    col_priority: str = param(
        "priority", "-", "Column with priority: emergency/urgent/routine or 1/2/3.",
    )
    col_response: str = param(
        "", "-", "Optional column with the observed response time (minutes), for calibration.",
    )
    time_format: str = param(
        "", "-", "strptime format of the time column; empty = ISO 8601 (pandas).",
    )
    start: str = param(
        "", "-", "Date and time of minute 0 (ISO); empty = midnight before the first call.",
    )
    fit_bandwidth_cells: float = param(
        1.0, "cells", "Gaussian smoothing of the fitted risk surface (assumption).", lo=0, hi=100,
    )
    fit_floor: float = param(
        0.02, "-", "Share of fitted risk spread evenly so no cell is impossible (assumption).",
        lo=0, hi=1,
    )
    streets_graphml: str = param(
        "", "-", "GraphML street network (nodes x/y or lon/lat, edges length in m); empty = "
        "the grid's own streets.",
    )
    street_speed_attr: str = param(
        "speed_kph", "-", "Edge attribute with a speed; edges without it use the base speed.",
    )


@dataclass(frozen=True)
class Scenario:
    """A complete, validated, immutable description of one simulation."""

    run: RunConfig = section(RunConfig)
    city: CityConfig = section(CityConfig)
    police: PoliceConfig = section(PoliceConfig)
    incidents: IncidentConfig = section(IncidentConfig)
    dispatch: DispatchConfig = section(DispatchConfig)
    residents: ResidentsConfig = section(ResidentsConfig)
    strategy: StrategyConfig = section(StrategyConfig)
    data: DataConfig = section(DataConfig)

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as nested plain dicts (TOML-ready)."""
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        """Return the fully resolved scenario as TOML text, loadable as is."""
        return tomli_w.dumps(self.to_dict())

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a copy with dotted-key overrides applied and validated.

        Args:
            overrides: Mapping such as ``{"police.officers": 150}``.

        Returns:
            A new, validated scenario.
        """
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value)
        return from_dict(data)

    def params(self) -> list[tuple[str, Any, Any]]:
        """Return ``(dotted_name, value, ParamInfo)`` for every parameter."""
        return iter_params(self)


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    if not key.isprintable() or " " in key:
        raise ScenarioError(f"{echo(key)}: not a parameter name")
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            raise ScenarioError(f"{shorten('.'.join(parts[: i + 1]))}: unknown section")
        node = child
    if parts[-1] not in node:
        raise ScenarioError(f"{shorten(key)}: unknown key")
    node[parts[-1]] = value


def _check_value(name: str, value: Any, default: Any, info: Any) -> Any:
    """Validate one leaf value against its declared type and bounds; return it coerced."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ScenarioError(f"{name}: expected true or false, got {echo(value)}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ScenarioError(f"{name}: expected an integer, got {echo(value)}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{name}: expected a number, got {echo(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(f"{name}: must be a finite number, got {echo(value)}")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ScenarioError(f"{name}: expected text, got {echo(value)}")
        if info.choices and value not in info.choices:
            raise ScenarioError(f"{name}: must be one of {', '.join(info.choices)}, "
                                f"got {echo(value)}")
        return value
    if info.lo is not None and value < info.lo:
        raise ScenarioError(f"{name}: must be >= {info.lo:g}, got {echo(value)}")
    if info.hi is not None and value > info.hi:
        raise ScenarioError(f"{name}: must be <= {info.hi:g}, got {echo(value)}")
    return value


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"{prefix.rstrip('.') or 'scenario'}: expected a table, "
                            f"got {echo(data)}")
    defaults = cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        what = "unknown key" if prefix else "unknown section"
        raise ScenarioError(f"{shorten(prefix + str(unknown[0]))}: {what}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = fields[name]
        default = getattr(defaults, name)
        if is_section(f):
            kwargs[name] = _build(type(default), _merge(dataclasses.asdict(default), value,
                                                        f"{prefix}{name}"), f"{prefix}{name}.")
        else:
            kwargs[name] = _check_value(f"{prefix}{name}", value, default, info_of(f))
    return cls(**kwargs)


def _merge(base: dict[str, Any], update: Any, name: str) -> dict[str, Any]:
    if not isinstance(update, dict):
        raise ScenarioError(f"{name}: expected a table, got {echo(update)}")
    merged = dict(base)
    merged.update(update)
    return merged


def _check_consistency(s: Scenario) -> None:
    p = s.police
    total = p.share_hq + p.share_station + p.share_community
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(
            f"police.share_hq: tier shares must add up to 1 "
            f"(hq + station + community = {total:g})"
        )
    mix = sum(s.incidents.priority(k).share for k in PRIORITIES)
    if abs(mix - 1.0) > 1e-6:
        raise ScenarioError(
            f"incidents.emergency.share: priority shares must add up to 1 (sum = {mix:g})"
        )
    c = s.city
    if c.community_cells > max(c.width, c.height):
        raise ScenarioError(
            f"city.community_cells: {c.community_cells} is larger than the city "
            f"({c.width} x {c.height})"
        )
    n_cx = -(-c.width // c.community_cells)
    n_cy = -(-c.height // c.community_cells)
    if c.precincts_x > n_cx or c.precincts_y > n_cy:
        raise ScenarioError(f"city.precincts_x: {c.precincts_x} x {c.precincts_y} precincts "
                            f"need at least as many communities across and down "
                            f"({n_cx} x {n_cy})")
    if p.shifts_per_day + p.rest_groups < 1:
        raise ScenarioError("police.shifts_per_day: need at least one shift")
    _check_size(s)


# Limits that keep a run within a workstation's memory and a user's patience; a scenario
# beyond them is almost certainly a typo (a rate per person instead of per 1,000, say).
MAX_CELLS = 1_000_000
MAX_DAILY_INCIDENTS = 500_000
MAX_RESIDENTS = 5_000_000
MAX_OFFICERS = 100_000
MAX_RUN_INCIDENTS = 200_000_000


def _check_size(s: Scenario) -> None:
    c = s.city
    if c.width * c.height > MAX_CELLS:
        raise ScenarioError(f"city.width: {c.width} x {c.height} cells is more than the "
                            f"limit of {MAX_CELLS:,}")
    daily = s.incidents.rate_per_1000_day * c.population / 1000
    if daily > MAX_DAILY_INCIDENTS:
        raise ScenarioError(f"incidents.rate_per_1000_day: {daily:,.0f} incidents a day is more "
                            f"than the limit of {MAX_DAILY_INCIDENTS:,}")
    total = daily * s.run.days
    if total > MAX_RUN_INCIDENTS:
        raise ScenarioError(f"run.days: {s.run.days:,} days of {daily:,.0f} incidents a day is "
                            f"more than the limit of {MAX_RUN_INCIDENTS:,} incidents in one run")
    if s.residents.agents > MAX_RESIDENTS:
        raise ScenarioError(f"residents.agents: more than the limit of {MAX_RESIDENTS:,}")
    if s.police.officers > MAX_OFFICERS:
        raise ScenarioError(f"police.officers: more than the limit of {MAX_OFFICERS:,}")


def from_dict(data: dict[str, Any]) -> Scenario:
    """Build and validate a scenario from nested dicts (missing keys take defaults).

    Args:
        data: Nested mapping, e.g. the result of parsing a TOML file.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: On an unknown key, a wrong type, an out-of-range value or an
            inconsistent combination.
    """
    scenario = _build(Scenario, data, "")
    _check_consistency(scenario)
    return scenario


MAX_OVERRIDE = 10_000
MAX_FILE_BYTES = 10_000_000


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``section.key=value`` override; the value is read as a TOML value.

    Text that is not a valid TOML value (``strategy.name=community``) is taken as a string.

    Args:
        text: The override as typed on the command line.

    Returns:
        ``(dotted_key, value)``.
    """
    if "=" not in text:
        raise ScenarioError(f"--set {echo(text)}: an override must look like "
                            f"section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or "." not in key or not key.isprintable() or " " in key or \
            not all(key.split(".")):
        raise ScenarioError(f"--set {echo(text)}: an override key must look like section.key")
    if len(text) > MAX_OVERRIDE:
        raise ScenarioError(f"--set {shorten(key)}: the value is longer than "
                            f"{MAX_OVERRIDE:,} characters")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise ScenarioError(f"--set {shorten(key)}: unusable value ({shorten(exc)})") from None
    except RecursionError:
        raise ScenarioError(f"--set {shorten(key)}: value nested too deeply") from None
    return key, value


def load_scenario(
    source: str | Path | None = None, overrides: list[str] | dict[str, Any] | None = None
) -> Scenario:
    """Load a scenario from a TOML file or a preset name, then apply overrides.

    Args:
        source: A path to a TOML file, the name of a preset in ``scenarios/`` (e.g.
            ``"default"``), or None for the defaults.
        overrides: ``["police.officers=150", ...]`` or ``{"police.officers": 150}``.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With a one-line message naming the file or field and the problem.
    """
    data: dict[str, Any] = {}
    if source is not None:
        path = resolve_source(source)
        data = read_toml(path)
        _resolve_data_paths(data, path.parent)
    scenario = from_dict(data)
    if overrides:
        pairs = (
            dict(parse_override(o) for o in overrides)
            if isinstance(overrides, list)
            else dict(overrides)
        )
        scenario = scenario.with_overrides(pairs)
    return scenario


def _resolve_data_paths(data: dict[str, Any], folder: Path) -> None:
    """Make relative data-file paths of a scenario file relative to its folder."""
    section_ = data.get("data")
    if not isinstance(section_, dict):
        return
    for key in ("calls_file", "streets_graphml"):
        value = section_.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            section_[key] = str((folder / value).resolve())


def resolve_source(source: str | Path) -> Path:
    """Turn a preset name or a path into an existing file path.

    Args:
        source: A preset name (``community``) or a path to a ``.toml`` file.

    Returns:
        The path of the file.
    """
    from scenarios import preset_path  # the presets folder is data; no import cycle

    text = str(source)
    try:
        path = Path(source)
        if path.is_file():
            return path
        preset = preset_path(text)
        exists = path.exists()
    except (OSError, ValueError) as exc:  # too long, a NUL byte, a loop of links
        why = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else \
            "not a usable file name"
        raise ScenarioError(f"{shorten(text)}: {why}") from None
    if preset is not None:
        return preset
    if exists:
        raise ScenarioError(f"{shorten(text)}: not a file")
    raise ScenarioError(f"{shorten(text)}: no such file or preset (see `grassroots scenarios`)")


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file as data, turning every failure into a one-line ScenarioError."""
    return parse_toml_file(path, ScenarioError)


def parse_toml_file(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """Parse a TOML file as data; every failure becomes one line of ``error``.

    Args:
        path: The file.
        error: The exception type to raise (its message names the file).

    Returns:
        The parsed tables.
    """
    name = shorten(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise error(f"{name}: larger than {MAX_FILE_BYTES // 1_000_000} MB; not a "
                        f"scenario or spec file")
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{name}: not valid TOML ({shorten(exc, 120)})") from None
    except UnicodeDecodeError:
        raise error(f"{name}: not a text file") from None
    except RecursionError:
        raise error(f"{name}: not valid TOML (nested too deeply)") from None
    except OSError as exc:
        raise error(f"{name}: cannot read ({(exc.strerror or 'error').lower()})") from None
    except ValueError as exc:  # an integer beyond Python's digit limit, say
        raise error(f"{name}: not valid TOML ({shorten(exc, 120)})") from None
