"""The parameter panel's model: every scenario parameter as a control, from the schema (no UI).

:func:`panel_fields` turns ``Scenario.params()`` (dotted name, value, :class:`ParamInfo`) into
:class:`ParamField` s, grouped by the scenario's parts (``run``, ``city``, ...). Nothing is
listed by hand: a parameter added to the schema, or by a strategy plug-in, appears in the page.

Which fields are shown (:func:`shown_fields`): ``strategy.*`` parameters only when a chosen
strategy uses them (:func:`sim.strategies.registry.users_of`), ``data.*`` parameters only when
the scenario names a calls file or a street file, and a search (:func:`matches`) filters by
name or justification. The few parameters set by the page's quick controls (:data:`QUICK`) are
listed as such, not offered twice.

What the browser sends is text (or a boolean): :func:`parse_params` turns it into values of the
declared type, refuses data-file paths outside the results root, and raises a one-line
:class:`sim.scenario.ScenarioError` naming the parameter; the schema then checks the bounds when
the scenario is built with :meth:`sim.scenario.Scenario.with_overrides`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.params import echo
from sim.scenario import Scenario, ScenarioError

QUICK: dict[str, str] = {
    "strategy.name": "Strategy",
    "police.officers": "Officers",
    "incidents.rate_per_1000_day": "Incident rate",
    "run.seed": "Seed",
    "strategy.sink_fraction": "Sink fraction",
    "strategy.tech": "Technology",
}
"""Parameters set by the quick controls above the panel: dotted name -> control."""

DATA_FILES = ("data.calls_file", "data.streets_graphml")
"""Parameters naming files the server would read (only paths inside the results root)."""

MAX_TEXT = 10_000
"""Longest text accepted for one parameter (characters)."""


@dataclass(frozen=True)
class ParamField:
    """One scenario parameter as a control of the panel.

    Attributes:
        name: Dotted name (``police.share_hq``); also the control's label.
        part: The scenario part it belongs to (``police``).
        kind: ``"bool"``, ``"int"``, ``"float"``, ``"choice"``, ``"text"`` or ``"list"``.
        value: Its value in the base scenario (preset or uploaded file).
        unit: Declared unit (``"-"`` if dimensionless).
        why: Declared justification.
        lo: Lower bound (None if unbounded).
        hi: Upper bound (None if unbounded).
        choices: Admissible texts of a ``choice`` field.
        users: For ``strategy.*``: the strategies that use it; None for other parts.
    """

    name: str
    part: str
    kind: str
    value: Any
    unit: str
    why: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None
    users: tuple[str, ...] | None = None

    @property
    def quick(self) -> str | None:
        """The quick control that sets it, if any."""
        return QUICK.get(self.name)

    @property
    def key(self) -> str:
        """The name without its part (``share_hq``)."""
        return self.name.split(".", 1)[1]

    @property
    def dom_id(self) -> str:
        """An HTML id for its description (``gr-param-police-share_hq``)."""
        return "gr-param-" + self.name.replace(".", "-")

    @property
    def hint(self) -> str:
        """Unit, bounds and justification in one line (tooltip and screen-reader text)."""
        bits = [] if self.unit in ("", "-") else [f"unit: {self.unit}"]
        if self.lo is not None or self.hi is not None:
            bits.append(f"range {_num(self.lo, '-inf')} to {_num(self.hi, 'inf')}")
        if self.choices:
            bits.append("one of " + ", ".join(self.choices))
        if self.kind == "list":
            bits.append("comma-separated")
        head = f"{self.name} ({'; '.join(bits)})" if bits else self.name
        return f"{head}: {self.why}" if self.why else head

    @property
    def step(self) -> str:
        """The ``step`` of a number input (``1`` for integers, ``any`` otherwise)."""
        return "1" if self.kind == "int" else "any"


def _num(x: float | None, missing: str) -> str:
    if x is None:
        return missing
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def kind_of(value: Any, choices: tuple[str, ...] | None) -> str:
    """The control kind of a parameter from its default value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, tuple | list):
        return "list"
    return "choice" if choices else "text"


_USERS: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}


def strategy_users(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``users_of`` of every ``[strategy]`` key, cached per set of registered strategies."""
    from sim.strategies.registry import available_strategies, users_of

    wanted = tuple(keys)
    cache_key = (*available_strategies(), "|", *wanted)
    found = _USERS.get(cache_key)
    if found is None:
        found = {k: tuple(users_of(k)) for k in wanted}
        _USERS[cache_key] = found
    return found


def panel_fields(scenario: Scenario | None = None) -> list[ParamField]:
    """Every parameter of ``scenario`` (the defaults if None) as a field, in schema order."""
    sc = scenario if scenario is not None else Scenario()
    params = sc.params()
    users_by = strategy_users(n.split(".", 1)[1] for n, _, _ in params
                              if n.startswith("strategy.") and n != "strategy.name")
    out = []
    for name, value, info in params:
        part = name.split(".", 1)[0]
        users = None
        if part == "strategy" and name != "strategy.name":
            users = users_by[name.split(".", 1)[1]]
        out.append(ParamField(name, part, kind_of(value, info.choices), value, info.unit,
                              info.why, info.lo, info.hi, info.choices, users))
    return out


def parts_of(scenario: Scenario | None = None) -> list[str]:
    """The scenario's parts (``run``, ``city``, ...), in declaration order."""
    return [f.name for f in dataclasses.fields(scenario or Scenario)]


def has_data_files(scenario: Scenario) -> bool:
    """Whether the scenario names a calls file or a street file (then ``data.*`` matter)."""
    return any(bool(getattr(scenario.data, name.split(".")[1], "")) for name in DATA_FILES)


def relevant(field: ParamField, strategies: Iterable[str], data: bool) -> bool:
    """Whether ``field`` matters for the chosen strategies and the scenario's data files."""
    if field.users is not None:
        return bool(set(field.users) & set(strategies))
    if field.part == "data":
        return data
    return True


def matches(field: ParamField, query: str) -> bool:
    """Whether every word of ``query`` occurs in the field's name or justification."""
    words = str(query or "").lower().split()
    text = f"{field.name} {field.why}".lower()
    return all(w in text for w in words)


def shown_fields(fields: Iterable[ParamField], strategies: Iterable[str], data: bool,
                 query: str = "") -> list[ParamField]:
    """The fields the panel shows: relevant ones (:func:`relevant`) matching ``query``."""
    chosen = tuple(strategies)
    return [f for f in fields if relevant(f, chosen, data) and matches(f, query)]


def grouped(fields: Iterable[ParamField]) -> dict[str, list[ParamField]]:
    """Fields by part, parts in their first-seen order."""
    out: dict[str, list[ParamField]] = {}
    for f in fields:
        out.setdefault(f.part, []).append(f)
    return out


def shown_text(field: ParamField, value: Any = None) -> Any:
    """What a control shows for ``value`` (the field's own value if None)."""
    value = field.value if value is None else value
    if field.kind == "bool":
        return bool(value)
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def parse_value(field: ParamField, raw: Any) -> Any:
    """The typed value of what the browser sent for ``field`` (bounds are the schema's).

    Raises:
        sim.scenario.ScenarioError: ``name: expected ..., got ...`` in one line.
    """
    name = field.name
    if isinstance(raw, str) and len(raw) > MAX_TEXT:
        raise ScenarioError(f"{name}: longer than {MAX_TEXT:,} characters")
    if field.kind == "bool":
        if isinstance(raw, bool):
            return raw
        raise ScenarioError(f"{name}: expected on or off, got {echo(raw)}")
    if field.kind in ("int", "float"):
        x = _number(name, raw)
        if field.kind == "int":
            if not math.isfinite(float(x)) or not float(x).is_integer():
                raise ScenarioError(f"{name}: expected a whole number, got {echo(raw)}")
            return int(x)
        return float(x)
    if field.kind == "list":
        if isinstance(raw, list | tuple):
            items = [str(v).strip() for v in raw]
        elif isinstance(raw, str):
            items = [p.strip() for p in raw.split(",")]
        else:
            raise ScenarioError(f"{name}: expected comma-separated text, got {echo(raw)}")
        return [p for p in items if p]
    if not isinstance(raw, str):
        raise ScenarioError(f"{name}: expected text, got {echo(raw)}")
    return raw.strip() if field.kind == "choice" else raw


def _number(name: str, raw: Any) -> int | float:
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip().replace("_", "")
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            pass
    raise ScenarioError(f"{name}: expected a number, got {echo(raw)}")


def check_data_path(name: str, value: Any, root: Path) -> str:
    """A data file path as the server may read it: inside the results root, resolved.

    Empty text (no file) is kept. Relative paths start at ``root``.

    Raises:
        sim.scenario.ScenarioError: ``data.calls_file: refused, ...`` if the path is outside
            ``root`` or not a valid path.
    """
    from viz.results import OutsideResultsError, resolve_in_root

    if not isinstance(value, str):
        raise ScenarioError(f"{name}: expected a file name, got {echo(value)}")
    if not value:
        return value
    try:
        return str(resolve_in_root(value, root))
    except OutsideResultsError as exc:
        if "outside" in str(exc):
            why = f"{echo(value)} is outside the results folder {root}"
        else:
            why = f"{echo(value)} is not a usable path"
        raise ScenarioError(f"{name}: refused, {why} (data files are read only from inside the "
                            "results folder)") from None


def parse_params(params: Iterable[tuple[str, Any]] | Mapping[str, Any],
                 fields: Iterable[ParamField], root: Path) -> dict[str, Any]:
    """Dotted overrides from the panel's entries (what the browser sent).

    Args:
        params: ``(dotted_name, raw)`` pairs.
        fields: The fields of the base scenario (:func:`panel_fields`).
        root: The results root (data-file paths must lie inside it).

    Returns:
        ``{dotted_name: typed value}`` for :meth:`Scenario.with_overrides`.

    Raises:
        sim.scenario.ScenarioError: One line naming the parameter and the problem.
    """
    known = {f.name: f for f in fields}
    pairs = params.items() if isinstance(params, Mapping) else params
    out: dict[str, Any] = {}
    for name, raw in pairs:
        if not isinstance(name, str):
            raise ScenarioError(f"{echo(name)}: not a parameter name")
        f = known.get(name)
        if f is None:
            raise ScenarioError(f"{echo(name)[1:-1]}: unknown parameter")
        value = parse_value(f, raw)
        if name in DATA_FILES:
            value = check_data_path(name, value, root)
        out[name] = value
    return out


def edits_after(edits: Mapping[str, Any], field: ParamField, raw: Any) -> dict[str, Any]:
    """The panel's entries after the user set ``field`` to ``raw`` (unchanged ones dropped)."""
    out = dict(edits)
    if raw == shown_text(field):
        out.pop(field.name, None)
    else:
        out[field.name] = raw
    return out


def apply(base: Scenario, params: Iterable[tuple[str, Any]] | Mapping[str, Any],
          root: Path, quick: Mapping[str, Any] | None = None) -> Scenario:
    """The scenario ``base`` with the panel's entries (then the quick controls) applied.

    Raises:
        sim.scenario.ScenarioError: One line naming the parameter and the problem.
    """
    overrides = parse_params(params, panel_fields(base), root)
    overrides.update(quick or {})
    return base.with_overrides(overrides) if overrides else base
