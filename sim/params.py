"""Parameter declarations: a default, a unit, bounds and a reason for every number.

Every field of every scenario section is declared with :func:`param`, which stores the unit,
the admissible range and a one-line justification (a citation or a stated assumption) in the
dataclass field's metadata. The loader validates against these bounds, ``grassroots show``
prints them, and ``docs/ODD.md``'s parameter table is generated from them, so the three can
never drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_ECHO = 80


class ScenarioError(ValueError):
    """A scenario or override is invalid; the message names the field and the problem."""


def shorten(value: object, limit: int = MAX_ECHO) -> str:
    """A value as text for a one-line error message, cut to ``limit`` characters.

    Args:
        value: Anything (an integer too long to print is described by its size).
        limit: Longest result.

    Returns:
        ``str(value)`` on one line, control characters escaped, shortened with ``...``.
    """
    try:
        text = str(value)
    except ValueError:  # an int beyond Python's digit limit
        text = f"<integer of {value.bit_length() if isinstance(value, int) else '?'} bits>"
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def echo(value: object, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` shortened like :func:`shorten` (for values quoted in errors)."""
    try:
        text = repr(value)
    except ValueError:
        text = f"<integer of {value.bit_length() if isinstance(value, int) else '?'} bits>"
    return shorten(text, limit)


@dataclass(frozen=True)
class ParamInfo:
    """What is known about one parameter besides its value.

    Attributes:
        unit: Physical unit, or ``"-"`` for dimensionless quantities.
        why: One-line justification: a citation or a stated assumption.
        lo: Smallest admissible value (inclusive), or None.
        hi: Largest admissible value (inclusive), or None.
        choices: Admissible values for text parameters, or None.
        plausible: For a parameter whose value is an assumption, the ends of its plausible
            range (the assumption audit re-runs a comparison at both), or None.
    """

    unit: str
    why: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None
    plausible: tuple[float, float] | None = None


def param(
    default: Any,
    unit: str,
    why: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    plausible: tuple[float, float] | None = None,
) -> Any:
    """Declare a scenario parameter.

    Args:
        default: The default value (int, float, bool or str).
        unit: Unit of the value, ``"-"`` if dimensionless.
        why: Justification of the default (citation or assumption).
        lo: Inclusive lower bound, if any.
        hi: Inclusive upper bound, if any.
        choices: Allowed values of a text parameter, if any.
        plausible: Ends of the plausible range of an assumed value (for the audit).

    Returns:
        A dataclass field carrying a :class:`ParamInfo` in its metadata.
    """
    info = ParamInfo(unit=unit, why=why, lo=lo, hi=hi, choices=choices, plausible=plausible)
    return field(default=default, metadata={"param": info})


def section(factory: Callable[[], Any]) -> Any:
    """Declare a nested section (a sub-table in TOML).

    Args:
        factory: The dataclass type of the section.

    Returns:
        A dataclass field whose default is ``factory()``.
    """
    return field(default_factory=factory, metadata={"section": True})


def keyed_sections(factory: Callable[[], dict[str, Any]], item: type) -> Any:
    """Declare a table of named sections of one type (e.g. ``[incidents.classes.NAME]``).

    Args:
        factory: Returns the default sections by name.
        item: The dataclass type of every section.

    Returns:
        A dataclass field whose default is ``factory()``.
    """
    return field(default_factory=factory, metadata={"sections": item})


def sections_type(f: dataclasses.Field) -> type | None:
    """The section type of a :func:`keyed_sections` field, else None."""
    return f.metadata.get("sections")


def info_of(f: dataclasses.Field) -> ParamInfo | None:
    """Return the :class:`ParamInfo` of a dataclass field, or None for sections."""
    return f.metadata.get("param")


def is_section(f: dataclasses.Field) -> bool:
    """Tell whether a dataclass field is a nested section."""
    return bool(f.metadata.get("section"))


def iter_params(obj: Any, prefix: str = "") -> list[tuple[str, Any, ParamInfo]]:
    """List every parameter of a (nested) dataclass instance.

    Args:
        obj: A dataclass instance (a scenario or one of its sections).
        prefix: Dotted prefix prepended to each name.

    Returns:
        ``(dotted_name, value, info)`` for every leaf parameter, in declaration order.
    """
    out: list[tuple[str, Any, ParamInfo]] = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if is_section(f):
            out.extend(iter_params(value, prefix=f"{name}."))
        elif sections_type(f) is not None:
            for key, sub in value.items():
                out.extend(iter_params(sub, prefix=f"{name}.{key}."))
        else:
            info = info_of(f)
            if info is not None:
                out.append((name, value, info))
    return out


def show_value(value: Any) -> str:
    """A parameter value as written in tables: 4 significant digits, TOML-style booleans."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)


def markdown_table(obj: Any) -> str:
    """Render every parameter of a scenario as a Markdown table.

    Columns: name, unit, default, range, justification. ``docs/ODD.md`` embeds this output
    and a test keeps the two identical.

    Args:
        obj: A scenario (or section) instance, usually the defaults.

    Returns:
        The table as Markdown text ending with a newline.
    """
    lines = ["| parameter | unit | default | range | justification |",
             "|---|---|---|---|---|"]
    for name, value, info in iter_params(obj):
        if info.choices:
            rng = " / ".join(info.choices)
        elif isinstance(value, bool):
            rng = "true / false"
        else:
            lo = "" if info.lo is None else f"{info.lo:g}"
            hi = "" if info.hi is None else f"{info.hi:g}"
            rng = f"{lo} .. {hi}" if (lo or hi) else ""
        if info.plausible:
            rng += f" (plausible {info.plausible[0]:.4g} .. {info.plausible[1]:.4g})"
        shown = show_value(value)
        why = info.why.replace("|", "/")
        lines.append(f"| `{name}` | {info.unit} | {shown} | {rng} | {why} |")
    return "\n".join(lines) + "\n"
