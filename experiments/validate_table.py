"""Results of a validation run: the rows, the report, its text table and its JSON file.

One interval per row: the table prints the :data:`~experiments.validate_stats.LEVEL` (99.5%)
confidence interval of the simulated estimate, and a row passes when the theoretical value
lies inside that printed interval. A row judged by any other rule (a p-value threshold, an
extra exact condition) carries that rule in :attr:`Check.rule`; the table marks it ``*`` and
prints the rule under the table.

Numbers are printed with four significant digits and without exponents between 1e-4 and
1e6 (counts as whole numbers with thousands separators, ``22,350``). Configuration values
(``c``, ``rho``, officers, days, ...) are the row's :attr:`Check.config`, printed as plain
values in the configuration column and never as estimates with an interval.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from experiments.validate_stats import LEVEL, Estimate
from sim.outputs import write_file

ConfigValue = int | float | str
PASS_RULE = (f"PASS when the theory value lies inside the {LEVEL:.1%} confidence interval "
             "printed for the simulated estimate")


def fmt_number(v: float, count: bool = False) -> str:
    """A number for a table: 4 significant digits, no exponent in [1e-4, 1e6).

    Args:
        v: The number.
        count: Whether it counts something: whole values print as integers with thousands
            separators (``22,350``).

    Returns:
        The text (``-`` for NaN or infinity).
    """
    if not math.isfinite(v):
        return "-"
    if count and float(v).is_integer():
        return f"{int(v):,}"
    a = abs(v)
    if a == 0:
        return "0"
    if a < 1e-4 or a >= 1e6:
        return f"{v:.3e}"
    if a >= 1000:
        return f"{v:,.0f}"
    decimals = max(0, 3 - math.floor(math.log10(a)))
    text = f"{v:.{decimals}f}"
    return f"{round(v):,}" if abs(float(text)) >= 1000 else text


def fmt_config_value(v: ConfigValue) -> str:
    """A configuration value as set: integers with separators, floats without padding."""
    if isinstance(v, bool | str):
        return str(v)
    if isinstance(v, int) or float(v).is_integer():
        return f"{int(v):,}"
    text = fmt_number(float(v))
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def config_text(config: str | Mapping[str, ConfigValue]) -> str:
    """The configuration column: ``key=value`` pairs (a plain string is kept as is)."""
    if isinstance(config, str):
        return config
    return " ".join(f"{k}={fmt_config_value(v)}" for k, v in config.items())


@dataclass
class Check:
    """One row of the validation table.

    Attributes:
        group: The check family (``"1"`` M/M/c ... ``"5"`` Little's law).
        name: What is estimated.
        config: The configuration of the run(s): set values, never estimates.
        value: The simulated estimate.
        lo: Lower end of its :data:`LEVEL` confidence interval (NaN if none).
        hi: Upper end.
        theory: The theoretical value.
        passed: The verdict.
        note: Anything a reader needs to interpret the row.
        count: Whether ``value`` and ``theory`` count things (printed as integers).
        rule: The pass rule when it is not "theory inside the printed interval".
    """

    group: str
    name: str
    config: str | dict[str, ConfigValue]
    value: float
    lo: float
    hi: float
    theory: float
    passed: bool
    note: str = ""
    count: bool = False
    rule: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.config, Mapping):
            self.config = dict(self.config)
            if self.name in self.config:
                raise ValueError(f"check {self.name!r}: a configuration value is not an "
                                 "estimate; it belongs in the configuration column")

    @classmethod
    def from_estimate(cls, group: str, name: str, config: str | dict[str, ConfigValue],
                      est: Estimate, target: float, atol: float = 0.0, note: str = "",
                      count: bool = False, rule: str = "") -> Check:
        """A row whose verdict is whether ``target`` lies in the printed interval.

        A tolerance ``atol`` widens the interval for the verdict only; the row's ``rule``
        then says so (the printed interval stays the estimate's own).
        """
        lo, hi = est.ci(LEVEL)
        if atol > 0 and not rule:
            rule = f"theory inside the printed CI widened by +/-{fmt_number(atol)}"
        return cls(group, name, config, est.mean, lo, hi, float(target),
                   bool(est.agrees(target, LEVEL, atol)), note, count, rule)

    @property
    def config_text(self) -> str:
        """The configuration as printed."""
        return config_text(self.config)


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
        """The report as plain JSON-able data (NaN becomes null).

        ``ci_level`` is the level of every row's ``lo``/``hi`` and of the pass rule.
        """

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"quick": self.quick, "passed": self.passed, "seconds": round(self.seconds, 2),
                "ci_level": LEVEL, "pass_rule": PASS_RULE + " (unless the row names a rule)",
                "checks": [{k: clean(v) for k, v in asdict(c).items()} for c in self.checks]}


def format_table(report: Report) -> str:
    """Render the checks as an aligned text table, the pass rule and the notes."""
    header = ("#", "check", "configuration", "simulated", f"{LEVEL:.1%} CI", "theory",
              "result")
    rows = []
    for c in report.checks:
        ci = "-" if not math.isfinite(c.lo) else \
            f"[{fmt_number(c.lo, c.count)}, {fmt_number(c.hi, c.count)}]"
        verdict = ("PASS" if c.passed else "FAIL") + ("*" if c.rule else "")
        rows.append((c.group, c.name, c.config_text, fmt_number(c.value, c.count), ci,
                     fmt_number(c.theory, c.count), verdict))
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
               f"({'quick' if report.quick else 'full'}, {report.seconds:.1f} s)")
    out.append(f"rule: {PASS_RULE}; * = judged by the rule given below instead.")
    ruled = [f"  * [{c.group} {c.name} | {c.config_text}] {c.rule}"
             for c in report.checks if c.rule]
    out += ruled
    # A note shared by every row of one check is printed once, without a configuration.
    shared: dict[tuple[str, str, str], int] = {}
    for c in report.checks:
        if c.note:
            shared[(c.group, c.name, c.note)] = shared.get((c.group, c.name, c.note), 0) + 1
    notes, seen = [], set()
    for c in report.checks:
        key = (c.group, c.name, c.note)
        if not c.note or key in seen:
            continue
        if shared[key] > 1:
            seen.add(key)
            notes.append(f"  [{c.group} {c.name}] {c.note}")
        else:
            notes.append(f"  [{c.group} {c.name} | {c.config_text}] {c.note}")
    if notes:
        out.append("notes:")
        out += notes
    return "\n".join(out)


def write_json(report: Report, path: str | Path) -> Path:
    """Write the report as JSON (never over a file that another program wrote)."""
    data = {"generator": "grassroots", "kind": "validation", **report.to_json()}
    return write_file(path, json.dumps(data, indent=2) + "\n", "validation", "--json")
