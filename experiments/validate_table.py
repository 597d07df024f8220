"""Results of a validation run: the rows, the report, its text table and its JSON file."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from experiments.validate_stats import DECISION_LEVEL, LEVEL, Estimate
from sim.outputs import write_file


@dataclass
class Check:
    """One row of the validation table."""

    group: str
    name: str
    config: str
    value: float
    lo: float
    hi: float
    theory: float
    passed: bool
    note: str = ""

    @classmethod
    def from_estimate(cls, group: str, name: str, config: str, est: Estimate, target: float,
                      atol: float = 0.0, note: str = "") -> Check:
        """A row whose verdict is whether ``target`` lies in the decision interval."""
        lo, hi = est.ci(LEVEL)
        return cls(group, name, config, est.mean, lo, hi, float(target),
                   bool(est.agrees(target, DECISION_LEVEL, atol)), note)


@dataclass
class Report:
    """All checks of one validation run."""

    quick: bool
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data (NaN becomes null)."""

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"quick": self.quick, "passed": self.passed, "seconds": round(self.seconds, 2),
                "confidence_level": LEVEL, "decision_level": DECISION_LEVEL,
                "checks": [{k: clean(v) for k, v in asdict(c).items()} for c in self.checks]}


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4f}" if a < 10 else f"{v:.2f}"


def format_table(report: Report) -> str:
    """Render the checks as an aligned text table."""
    header = ("#", "check", "configuration", "simulated", "95% CI", "theory", "result")
    rows = []
    for c in report.checks:
        ci = "-" if not math.isfinite(c.lo) else f"[{_fmt(c.lo)}, {_fmt(c.hi)}]"
        rows.append((c.group, c.name, c.config, _fmt(c.value), ci, _fmt(c.theory),
                     "PASS" if c.passed else "FAIL"))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 5}

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(str(s).rjust(w) if i in right else str(s).ljust(w)
                         for i, (s, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    n_fail = sum(not c.passed for c in report.checks)
    out.append("")
    out.append(f"{len(report.checks) - n_fail}/{len(report.checks)} checks passed "
               f"({'quick' if report.quick else 'full'}, {report.seconds:.1f} s); "
               f"pass = theory inside the {DECISION_LEVEL:.1%} interval")
    notes = [f"  [{c.group} {c.name} {c.config}] {c.note}" for c in report.checks if c.note]
    if notes:
        out.append("notes:")
        out += notes
    return "\n".join(out)


def write_json(report: Report, path: str | Path) -> Path:
    """Write the report as JSON (never over a file that another program wrote)."""
    data = {"generator": "grassroots", "kind": "validation", **report.to_json()}
    return write_file(path, json.dumps(data, indent=2) + "\n", "validation", "--json")
