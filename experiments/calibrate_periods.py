"""Training and test periods of a calibration: ``--train START..END`` and ``--test START..END``.

A period is a run of whole days of the data, named by ISO dates, both ends included
(``2025-03-03..2025-05-10``). Day ``k`` of the data starts at minute ``k * 1440`` after the
data's minute 0 (``data.start``, by default the midnight before the first call), so a date
names the day that starts on it. Without options the first 70% of the days (at least one)
train and the rest test; with one option given, the other period is the rest of the data
before (``--test`` given) or after (``--train`` given) it.

Every problem is a :class:`ValueError` with one line starting with the option
(``--train: ...``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sim.incidents import MIN_PER_DAY

TRAIN_SHARE = 0.7
"""Share of the data's days that train when no period is given."""


@dataclass(frozen=True)
class Period:
    """A run of whole days of the data.

    Attributes:
        name: ``train`` or ``test``.
        first: Day index of the first day (0 = the data's first day).
        last: Day index of the last day (included).
        day0: The date of day 0.
    """

    name: str
    first: int
    last: int
    day0: date

    @property
    def days(self) -> int:
        """Number of days."""
        return self.last - self.first + 1

    @property
    def lo(self) -> float:
        """The first minute of the period (minutes since the data's minute 0)."""
        return float(self.first * MIN_PER_DAY)

    @property
    def hi(self) -> float:
        """The minute after the period ends."""
        return float((self.last + 1) * MIN_PER_DAY)

    @property
    def label(self) -> str:
        """``START..END`` as ISO dates."""
        return (f"{self.day0 + timedelta(days=self.first)}.."
                f"{self.day0 + timedelta(days=self.last)}")

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share a day."""
        return self.first <= other.last and other.first <= self.last


def parse_span(text: str, option: str, day0: date) -> tuple[int, int]:
    """Day indices ``(first, last)`` of ``START..END`` (ISO dates, both included).

    Args:
        text: The option's value.
        option: ``--train`` or ``--test`` (named in errors).
        day0: The date of the data's day 0.

    Raises:
        ValueError: One line starting with the option.
    """
    parts = text.split("..")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"{option}: expected START..END with ISO dates, e.g. "
                         f"2025-03-03..2025-05-10 (got {text[:60]!r})")
    try:
        first, last = (date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"{option}: {text[:60]!r} is not START..END with ISO dates "
                         "(YYYY-MM-DD)") from None
    if first > last:
        raise ValueError(f"{option}: START {first} is after END {last}")
    return (first - day0).days, (last - day0).days


def split_periods(day0: date, n_days: int, train: str | None = None,
                  test: str | None = None) -> tuple[Period, Period]:
    """The training and test periods within the data's ``n_days`` days.

    Args:
        day0: The date of the data's day 0.
        n_days: Days of data (day 0 to the last call's day).
        train: ``--train`` (None: the first 70%, or the days before ``test``).
        test: ``--test`` (None: the days after the training period).

    Returns:
        ``(train, test)``, inside the data and not overlapping.

    Raises:
        ValueError: One line starting with the option at fault.
    """
    if train is None and test is None:
        if n_days < 2:
            raise ValueError("data.calls_file: the calls span 1 day; calibration needs at "
                             "least 2 (training and test days)")
        cut = min(n_days - 1, max(1, math.floor(TRAIN_SHARE * n_days)))
        return Period("train", 0, cut - 1, day0), Period("test", cut, n_days - 1, day0)
    given = {"train": train, "test": test}
    spans = {k: _inside(parse_span(v, f"--{k}", day0), f"--{k}", day0, n_days)
             for k, v in given.items() if v is not None}
    if "test" not in spans:
        spans["test"] = (spans["train"][1] + 1, n_days - 1)
        if spans["test"][0] > spans["test"][1]:
            raise ValueError("--test: no days of data are left after --train; give --test")
    if "train" not in spans:
        spans["train"] = (0, spans["test"][0] - 1)
        if spans["train"][1] < 0:
            raise ValueError("--train: no days of data are left before --test; give --train")
    tr, te = (Period(k, *spans[k], day0) for k in ("train", "test"))
    if tr.overlaps(te):
        raise ValueError(f"--test: {te.label} overlaps the training period {tr.label}")
    return tr, te


def _inside(span: tuple[int, int], option: str, day0: date, n_days: int) -> tuple[int, int]:
    """The span, if it lies within the data's days."""
    if span[0] < 0 or span[1] > n_days - 1:
        whole = Period("data", 0, n_days - 1, day0).label
        asked = Period("asked", *span, day0).label
        raise ValueError(f"{option}: {asked} reaches outside the data ({whole})")
    return span
