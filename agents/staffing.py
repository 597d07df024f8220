"""Staffing tables: who is on duty when, from a table of shift patterns.

A staffing table (``police.staffing_file``, CSV or Parquet) has one row per **shift
pattern** of one unit::

    area,tier,days,start,hours,officers,persons
    hq,hq,Mon-Fri,8,9,12,
    North,station,all,7,10,6,8
    North,station,all,17,10,5,
    North,station,Fri-Sat,21,6,3,
    beat:N3,station,all,7.5,8,1,

* ``area`` (required): ``hq``, or the name of a precinct, beat or community as in the city's
  layout (``layout.precinct_names``, ``beat_names``, ``community_names``; the synthetic city
  names them "0", "1", ...). A bare name is looked up among precincts, then beats, then
  communities; ``precinct:NAME``, ``beat:NAME`` or ``community:NAME`` says which.
* ``tier`` (optional): ``hq``, ``station`` or ``community``; default ``hq`` for the ``hq``
  area, ``community`` for a community, ``station`` otherwise.
* ``days`` (optional, default every day): ``all``, one day (``Mon`` or ``Monday``), a range
  (``Mon-Fri``, ``Fri-Mon`` wraps), or a list (``Sat,Sun`` or ``Sat;Sun``).
* ``start`` (required): hour the shift starts, ``0 <= start < 24``, fractional (``7.5``) or
  ``HH:MM`` (``07:30``).
* ``hours`` (required): duration, ``0 < hours <= 24``; a shift may cross midnight (it then
  belongs to the weekday it starts on).
* ``officers`` (required): officers on duty in each occurrence of the shift.
* ``persons`` (optional, default ``officers``): persons who work this pattern in turn; with
  more persons than officers they rotate (occurrence ``j`` is worked by persons
  ``j*officers .. j*officers+officers-1`` modulo ``persons``), e.g. 7 persons for 5 officers
  every day gives everybody five shifts a week.

**Persons.** Every person of the force works exactly one row's pattern, so the force is
``sum(persons)`` officers and overlapping rows are different people. The roster is applied at
the model's hourly tick: an officer is on duty at hour ``h`` when a shift of theirs covers
the instant ``h:00`` (``start <= h < start + hours``), so a shift from 07:30 to 15:30 is
worked from 08:00 to 16:00 (eight hours).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment
from sim.datafile import DataError, DataWarning, check_file, reason, shorten
from sim.params import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from sim.city import CityLayout

FIELD = "police.staffing_file"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
COLUMNS = ("area", "tier", "days", "start", "hours", "officers", "persons")
REQUIRED = ("area", "start", "hours", "officers")
MAX_ROWS = 100_000
MAX_PERSONS = 100_000  # police.officers allows no more
LEVELS = ("precinct", "beat", "community")


def read_table(path: str, field: str) -> pd.DataFrame:
    """Read a small CSV (as text) or Parquet table; every failure is a one-line DataError.

    Args:
        path: The file.
        field: The scenario field naming it (starts every message).

    Returns:
        The table with stripped text column names.
    """
    import pandas as pd

    p = check_file(path, field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            if p.suffix.lower() in (".parquet", ".pq"):
                import pyarrow.parquet as pq

                if pq.read_metadata(p).num_rows > MAX_ROWS:
                    raise DataError(f"{field}: more than {MAX_ROWS:,} rows")
                df = pd.read_parquet(p)
            else:
                df = pd.read_csv(p, dtype=str, keep_default_na=False, index_col=False,
                                 nrows=MAX_ROWS + 1)
    except DataError:
        raise
    except Exception as exc:  # any reader failure is the file's fault
        raise DataError(f"{field}: cannot read {shorten(str(p))} "
                        f"({type(exc).__name__}: {reason(exc)})") from None
    if len(df) > MAX_ROWS:
        raise DataError(f"{field}: {len(df):,} rows is more than the limit of {MAX_ROWS:,}")
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def parse_days(text: object, where: str) -> np.ndarray:
    """Weekdays of a ``days`` cell as a boolean array (Monday first).

    Args:
        text: ``all``, a day, a range ``Mon-Fri`` (wrapping allowed) or a list ``Sat,Sun``.
        where: Field and row for error messages.

    Returns:
        Seven booleans.
    """
    s = str(text).strip().lower()
    out = np.zeros(7, dtype=bool)
    if s in ("", "all", "daily", "*", "mon-sun"):
        out[:] = True
        return out
    for part in re.split(r"[,;/ ]+", s):
        if not part:
            continue
        ends = [_weekday(e, text, where) for e in part.split("-")]
        if len(ends) == 1:
            out[ends[0]] = True
        elif len(ends) == 2:
            out[[(ends[0] + k) % 7 for k in range((ends[1] - ends[0]) % 7 + 1)]] = True
        else:
            raise DataError(f"{where}: days {shorten(text)} is not a day, a range or a list")
    return out


def _weekday(name: str, text: object, where: str) -> int:
    key = name.strip().lower()
    for k, day in enumerate(WEEKDAYS_FULL):
        if key in (day, day[:3]):
            return k
    raise DataError(f"{where}: days {shorten(text)} has no weekday {shorten(name)} "
                    "(use Mon..Sun, a range Mon-Fri or all)")


def parse_hour(text: object, where: str, name: str) -> float:
    """A time of day or a duration in hours: ``7.5`` or ``07:30``."""
    s = str(text).strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", s)
    try:
        value = int(m[1]) + int(m[2]) / 60 if m else float(s)
    except ValueError:
        raise DataError(f"{where}: {name} {shorten(text)} is not a number of hours") from None
    if not np.isfinite(value):
        raise DataError(f"{where}: {name} {shorten(text)} is not a number of hours")
    return value


def _count(text: object, where: str, name: str) -> int:
    s = str(text).strip()
    try:
        value = float(s)
    except ValueError:
        raise DataError(f"{where}: {name} {shorten(text)} is not a whole number") from None
    if not value.is_integer() or not 0 <= value <= MAX_PERSONS:
        raise DataError(f"{where}: {name} {shorten(text)} is not a whole number in "
                        f"0..{MAX_PERSONS:,}")
    return int(value)


@dataclass(frozen=True)
class Unit:
    """Where a row's officers are posted.

    Attributes:
        tier: HQ, station or community.
        level: ``hq``, ``precinct``, ``beat`` or ``community``.
        index: Dense id of the area at that level (-1 for HQ).
    """

    tier: Tier
    level: str
    index: int


def area_names(layout: CityLayout, level: str) -> list[str]:
    """The names of a layout's areas at ``level`` (dense id order; "0", "1", ... if unnamed)."""
    n = {"precinct": layout.n_precincts, "community": layout.n_communities,
         "beat": int(layout.beat.max()) + 1 if layout.beat.size else 0}[level]
    names = getattr(layout, f"{level}_names", None)
    return [str(v) for v in names] if names else [str(k) for k in range(n)]


def resolve_area(text: object, tier_text: object, layout: CityLayout, where: str) -> Unit:
    """The unit of an ``area`` cell (and optional ``tier`` cell) of a staffing row."""
    name = str(text).strip()
    tier_s = str(tier_text).strip().lower()
    if tier_s and tier_s not in ("hq", "station", "community"):
        raise DataError(f"{where}: tier {shorten(tier_text)} is not hq, station or community")
    if name.lower() == "hq":
        if tier_s not in ("", "hq"):
            raise DataError(f"{where}: the hq area takes tier hq, not {shorten(tier_text)}")
        return Unit(Tier.HQ, "hq", -1)
    level, _, bare = name.partition(":")
    levels = [level.lower()] if bare and level.lower() in LEVELS else list(LEVELS)
    bare = bare if bare and level.lower() in LEVELS else name
    for lv in levels:
        names = area_names(layout, lv)
        if bare in names:
            return _unit(lv, names.index(bare), tier_s, where)
    raise DataError(f"{where}: area {shorten(text)} is not hq or a "
                    f"{' / '.join(levels)} of the city")


def _unit(level: str, index: int, tier_s: str, where: str) -> Unit:
    if tier_s == "hq":
        raise DataError(f"{where}: tier hq needs the area hq")
    if level == "community":
        if tier_s == "station":
            raise DataError(f"{where}: a community area takes tier community")
        return Unit(Tier.COMMUNITY, level, index)
    if tier_s == "community":
        raise DataError(f"{where}: tier community needs a community area")
    return Unit(Tier.STATION, level, index)


class Staffing:
    """A parsed staffing table: its shift patterns and the persons who work them.

    Persons are ordered HQ rows first (so HQ civilians are drawn among the first persons),
    then in the table's order; ``row_of[p]`` is person ``p``'s pattern and ``rank[p]`` their
    place in its rotation.

    Args:
        units: Each row's unit.
        days: Weekdays of each row, shape ``(rows, 7)``.
        start: Start hour of each row.
        hours: Duration of each row.
        officers: Officers per occurrence of each row.
        persons: Persons working each row in turn.
    """

    def __init__(self, units: list[Unit], days: np.ndarray, start: np.ndarray,
                 hours: np.ndarray, officers: np.ndarray, persons: np.ndarray) -> None:
        order = sorted(range(len(units)), key=lambda r: units[r].tier != Tier.HQ)
        self.units = [units[r] for r in order]
        self.days, self.start, self.hours = days[order], start[order], hours[order]
        self.officers, self.persons = officers[order], persons[order]
        self.row_of = np.repeat(np.arange(len(order)), self.persons)
        first = np.cumsum(self.persons) - self.persons
        self.rank = np.arange(self.row_of.size) - first[self.row_of]
        self.first_weekday = 0
        self._cached: tuple[int, np.ndarray] | None = None

    @property
    def n(self) -> int:
        """Persons in the force."""
        return int(self.row_of.size)

    @property
    def n_hq(self) -> int:
        """Persons of HQ rows (the first ``n_hq`` persons)."""
        return int(sum(int(p) for u, p in zip(self.units, self.persons, strict=True)
                       if u.tier == Tier.HQ))

    def tier_counts(self) -> dict[Tier, int]:
        """Persons per tier."""
        out = dict.fromkeys((Tier.HQ, Tier.STATION, Tier.COMMUNITY), 0)
        for u, p in zip(self.units, self.persons, strict=True):
            out[u.tier] += int(p)
        return out

    def set_first_weekday(self, weekday: int) -> None:
        """Weekday of the run's day 0 (0 = Monday)."""
        self.first_weekday = int(weekday) % 7
        self._cached = None

    # -- the roster ---------------------------------------------------------------------------
    def occurrences(self, hour: int) -> tuple[np.ndarray, np.ndarray]:
        """Which rows are being worked at ``hour`` and the occurrence index of each.

        Args:
            hour: Hours since the start of the run.

        Returns:
            Per row, whether one of its shifts covers ``hour`` and that shift's occurrence
            index (counted from the first occurrence on or after day 0; a night shift begun
            the day before the run is occurrence -1).
        """
        day, hod = divmod(int(hour), 24)
        active = np.zeros(len(self.units), dtype=bool)
        index = np.zeros(len(self.units), dtype=np.int64)
        w0 = self.first_weekday
        weekly = self.days.sum(axis=1)
        for back in (0, 1):  # a shift of at most 24 h began today or yesterday
            d = day - back
            rel = hod + 24 * back
            covers = (self.start <= rel) & (rel < self.start + self.hours)
            covers &= self.days[:, (w0 + d) % 7]
            before = self.days[:, [(w0 + q) % 7 for q in range(d % 7)]].sum(axis=1)
            index = np.where(covers, (d // 7) * weekly + before, index)
            active |= covers
        return active, index

    def on_duty(self, hour: int) -> np.ndarray:
        """Whether each person is on duty at ``hour`` (cached for the hour)."""
        if self._cached is not None and self._cached[0] == hour:
            return self._cached[1]
        active, index = self.occurrences(hour)
        r = self.row_of
        slot = (self.rank - index[r] * self.officers[r]) % np.maximum(self.persons[r], 1)
        mask = active[r] & (slot < self.officers[r])
        self._cached = (hour, mask)
        return mask

    def need(self, hour: int) -> np.ndarray:
        """Officers each row puts on duty at ``hour``."""
        active, _ = self.occurrences(hour)
        return np.where(active, self.officers, 0)

    # -- postings -----------------------------------------------------------------------------
    def assignments(self, model: Any) -> list[Assignment]:
        """Each person's posting: HQ, their precinct's station, beat post or community post.

        Beat units are posted at their beat's central cell and patrol their beat (patrol
        areas added to the model once per beat used).
        """
        lay = model.layout
        beats = sorted({u.index for u in self.units if u.level == "beat"})
        beat_post: dict[int, tuple[int, int]] = {}
        if beats:
            from sim.areas import central_cells

            first = model.add_patrol_areas([np.flatnonzero((lay.beat == b) & lay.mask)
                                            for b in beats])
            cells = central_cells(lay.beat, lay.width, lay.height, lay.mask,
                                  int(lay.beat.max()) + 1)
            beat_post = {b: (int(cells[b]), first + k) for k, b in enumerate(beats)}
        per_row = [self._assignment(model, u, beat_post) for u in self.units]
        return [per_row[r] for r in self.row_of.tolist()]

    @staticmethod
    def _assignment(model: Any, u: Unit, beat_post: dict[int, tuple[int, int]]) -> Assignment:
        if u.level == "hq":
            return model.hq_assignment()
        if u.level == "precinct":
            return model.station_assignment(u.index)
        if u.level == "community":
            return model.community_assignment(u.index)
        cell, area = beat_post[u.index]
        return Assignment(Tier.STATION, cell, int(model.layout.precinct[cell]), -1, area)


def parse_staffing(df: pd.DataFrame, layout: CityLayout, field: str = FIELD) -> Staffing:
    """Check and parse a staffing table against the city's area names.

    Args:
        df: The table (text cells; see the module docstring for the columns).
        layout: The city (area names).
        field: Scenario field for messages.

    Returns:
        The staffing.
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"{field}: no column {', '.join(missing)} (columns: "
                        f"{shorten(', '.join(map(str, df.columns)))}; need "
                        f"{', '.join(REQUIRED)})")
    if len(df) == 0:
        raise DataError(f"{field}: the table has no rows")
    units, days, start, hours, officers, persons = [], [], [], [], [], []
    for k, row in enumerate(df.to_dict("records")):
        where = f"{field}: row {k + 2}"
        units.append(resolve_area(row["area"], row.get("tier", ""), layout, where))
        days.append(parse_days(row.get("days", ""), where))
        s, h = parse_hour(row["start"], where, "start"), parse_hour(row["hours"], where, "hours")
        if not 0 <= s < 24:
            raise DataError(f"{where}: start {shorten(row['start'])} is not in 0..24 h")
        if not 0 < h <= 24:
            raise DataError(f"{where}: hours {shorten(row['hours'])} is not in (0, 24]")
        if np.ceil(s + h) - np.ceil(s) < 1:
            warnings.warn(f"{where}: the shift {s:g} h + {h:g} h starts no full hour (the "
                          "roster is hourly): its officers are never on duty",
                          DataWarning, stacklevel=2)
        o = _count(row["officers"], where, "officers")
        raw = row.get("persons", "")
        p = o if str(raw).strip() in ("", "nan", "None") else _count(raw, where, "persons")
        if p < o:
            raise DataError(f"{where}: persons {p} is fewer than officers {o}")
        start.append(s)
        hours.append(h)
        officers.append(o)
        persons.append(p)
    total = sum(persons)
    if total == 0 or total > MAX_PERSONS:
        raise DataError(f"{field}: the table staffs {total:,} persons (need 1..{MAX_PERSONS:,})")
    return Staffing(units, np.array(days), np.array(start), np.array(hours),
                    np.array(officers, dtype=np.int64), np.array(persons, dtype=np.int64))


def load_staffing(path: str, layout: CityLayout, first_weekday: int = 0) -> Staffing:
    """Read ``police.staffing_file`` for ``layout``, day 0 being weekday ``first_weekday``."""
    out = parse_staffing(read_table(path, FIELD), layout)
    out.set_first_weekday(first_weekday)
    return out


def force_values(staffing: Staffing) -> dict[str, Any]:
    """The ``[police]`` values the table implies (officers, tier shares), as dotted overrides.

    With a staffing table the force is the table's persons; the scenario run states this, so
    ``police.officers`` and ``police.share_*`` in the written ``scenario.toml`` are the ones
    used, not the ones given.
    """
    counts = staffing.tier_counts()
    n = staffing.n
    hq, station = counts[Tier.HQ] / n, counts[Tier.STATION] / n
    return {"police.officers": n, "police.share_hq": hq, "police.share_station": station,
            "police.share_community": max(1.0 - hq - station, 0.0)}


def first_weekday(choice: str, calls: Any = None, start: str = "") -> int:
    """Weekday (0 = Monday) of the run's day 0 for ``police.first_weekday``.

    Args:
        choice: ``auto`` or a weekday name.
        calls: The recorded calls (their ``start`` is minute 0), if any.
        start: ``data.start`` (an ISO time), if set.
    """
    if choice != "auto":
        return WEEKDAYS.index(choice)
    if calls is not None and getattr(calls, "start", None) is not None:
        return int(calls.start.weekday())
    if start:
        import pandas as pd

        try:
            return int(pd.Timestamp(start).weekday())
        except ValueError:
            return 0
    return 0


def staffing_for(config: Any, layout: CityLayout, calls: Any = None) -> Staffing | None:
    """The scenario's staffing table read for ``layout`` (None without ``police.staffing_file``).

    Args:
        config: The scenario.
        layout: The city (area names).
        calls: The recorded calls, if any (``police.first_weekday = auto``).
    """
    p = config.police
    if not p.staffing_file:
        if p.first_weekday != "auto":
            raise ScenarioError("police.first_weekday: used only with police.staffing_file")
        return None
    weekday = first_weekday(p.first_weekday, calls, getattr(config.data, "start", ""))
    return load_staffing(p.staffing_file, layout, weekday)
