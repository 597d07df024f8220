"""The sweep spec model: :class:`SweepSpec`, its factors, its vocabulary and its limits.

What a validated spec is (see :mod:`experiments.spec` for the TOML layout and how one is
loaded): the frozen :class:`SweepSpec` with its :class:`Factor` s and design points, the
:class:`SpecError` every check raises, the known keys and designs, and the limits that catch
a typo before it hangs a machine. Also how a spec is written back out (:func:`spec_toml`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario import Scenario

DESIGNS = ("factorial", "lhs", "sobol", "morris", "saltelli", "custom")
SAMPLED = ("lhs", "sobol", "morris", "saltelli")
SAMPLE_PREFIX = "sample:"
QUICK_DEFAULTS = {"replications": 3, "days": 60}
TOP_KEYS = {
    "name", "description", "base", "seed", "replications", "days", "design", "samples",
    "morris_levels", "baseline", "baseline_factor", "outputs", "daily", "set", "factors",
    "cross", "quick", "report",
}
QUICK_KEYS = {"replications", "days", "samples", "set"}
REPORT_KEYS = {"indicators", "baseline"}
# Limits that catch a typo before it hangs a machine (checked before any design is drawn).
MAX_SEED = 2**63 - 1
MAX_DAYS = 36_500
MAX_REPLICATIONS = 10_000
MAX_SAMPLES = 1_000_000
MAX_LEVELS = 10_000
MAX_RUNS = 100_000
MAX_RUN_DAYS = 50_000_000


class SpecError(ValueError):
    """A sweep spec is invalid; the one-line message names the field and the problem."""


@dataclass(frozen=True)
class Factor:
    """One varied scenario key.

    Attributes:
        key: Dotted scenario key, e.g. ``police.officers``.
        levels: Levels (factorial designs and ``[cross]`` tables), coerced to the key's type.
        lo: Lower bound (sampled designs).
        hi: Upper bound (sampled designs).
        integer: Whether sampled values are rounded to integers.
    """

    key: str
    levels: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """Whether the factor is a ``[lo, hi]`` range of a sampled design."""
        return self.lo is not None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep.

    Attributes:
        name: Label of the experiment (default: the file stem).
        description: Free text.
        base: The base scenario as given (preset name or path).
        scenario: The base scenario with ``[set]`` applied.
        seed: Root entropy; replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``.
        replications: Replications per design point.
        days: Simulated days per run.
        design: One of :data:`DESIGNS`.
        factors: Varied keys (levels or ranges).
        cross: Levels crossed with a sampled design.
        samples: Sample size of sampled designs.
        morris_levels: Grid levels of a Morris design.
        baseline: Baseline level for paired differences (or None).
        baseline_factor: The factor whose baseline level is compared against.
        outputs: Summary indicators to keep (None: all).
        daily: Keep the daily series (True), none (False) or the named columns.
        fixed: The ``[set]`` overrides as ``(key, value)`` pairs.
        report_indicators: Indicators the report features (None: a default list).
        points: The design: one row per point, factor columns (scenario values) and, for
            sampled designs, the raw sample in ``sample:<key>`` columns.
    """

    name: str
    description: str
    base: str
    scenario: Scenario
    seed: int
    replications: int
    days: int
    design: str
    factors: tuple[Factor, ...]
    cross: tuple[Factor, ...] = ()
    samples: int | None = None
    morris_levels: int = 4
    baseline: Any = None
    baseline_factor: str | None = None
    outputs: tuple[str, ...] | None = None
    daily: bool | tuple[str, ...] = True
    fixed: tuple[tuple[str, Any], ...] = ()
    report_indicators: tuple[str, ...] | None = None
    points: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    @property
    def factor_keys(self) -> list[str]:
        """Columns of the design that are scenario keys (cross factors first)."""
        return [f.key for f in (*self.cross, *self.factors)]

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Number of runs: points times replications."""
        return self.n_points * self.replications

    def overrides(self, point: int) -> dict[str, Any]:
        """The scenario overrides of one design point."""
        row = self.points.iloc[point]
        return {k: plain(row[k]) for k in self.factor_keys}

    def scenario_for(self, point: int) -> Scenario:
        """The scenario of one design point (base, ``[set]`` and the point's levels)."""
        return self.scenario.with_overrides(self.overrides(point))

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-ready data (a custom design is kept out: see ``points``)."""
        out: dict[str, Any] = {
            "name": self.name, "description": self.description, "base": self.base,
            "seed": self.seed, "replications": self.replications, "days": self.days,
            "design": self.design, "morris_levels": self.morris_levels,
            "daily": self.daily if isinstance(self.daily, bool) else list(self.daily),
            "set": dict(self.fixed),
            "factors": {f.key: _factor_data(f) for f in self.factors},
            "cross": {f.key: list(f.levels) for f in self.cross},
        }
        optional = {"samples": self.samples, "baseline": self.baseline,
                    "baseline_factor": self.baseline_factor,
                    "outputs": None if self.outputs is None else list(self.outputs)}
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.report_indicators is not None:
            out["report"] = {"indicators": list(self.report_indicators)}
        if self.design == "custom":
            out["factors"] = {}
        return out

    def fingerprint(self) -> str:
        """A hash of everything that determines the results (spec, base scenario, design)."""
        data = {"spec": self.to_dict(), "scenario": self.scenario.to_dict(),
                "points": self.points.to_dict(orient="split")}
        data["spec"].pop("description", None)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _factor_data(f: Factor) -> list[Any]:
    return [f.lo, f.hi] if f.is_range else list(f.levels)


def plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones (TOML, JSON and scenario checks want those)."""
    return value.item() if isinstance(value, np.generic) else value


def spec_toml(spec: SweepSpec) -> str:
    """The spec as TOML text (what the store keeps as ``spec.toml``)."""
    import tomli_w

    return tomli_w.dumps(spec.to_dict())
