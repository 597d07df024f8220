"""The ``[run]`` section: how long to simulate, with which seed, how much to keep in memory.

Its own module (it needs no part of the model) so that :func:`sim.scenario_input.precheck`
can check ``--days`` and ``--seed`` without importing the sections that do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.params import param
from sim.rng import DEFAULT_SEED

__all__ = ["RunConfig"]


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
        50_000, "incidents", "Incidents kept in memory before old, closed ones stream to "
        "disk (about 350 bytes each with the table's copy): long runs need no more memory than "
        "a year; 0 = keep all.", lo=0, hi=100_000_000,
    )
