"""What the user hands in: scenario files, preset names and ``section.key=value`` overrides.

Reading and checking these needs neither numpy nor the model, so the command line can refuse
a missing file, broken TOML, a malformed override or a bad ``run.*`` value (``--days -1``)
before it imports anything heavy: :func:`precheck`. :mod:`sim.scenario` re-exports every
name here and remains the one place a scenario is built.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from sim.params import ScenarioError, echo, info_of, shorten

__all__ = ["MAX_FILE_BYTES", "MAX_OVERRIDE", "check_value", "parse_override",
           "parse_toml_file", "precheck", "read_toml", "resolve_source"]

MAX_OVERRIDE = 10_000
MAX_FILE_BYTES = 10_000_000


def check_value(name: str, value: Any, default: Any, info: Any) -> Any:
    """Validate one leaf value against its declared type and bounds; return it coerced.

    Args:
        name: The dotted name, for the message.
        value: What the user gave.
        default: The declared default (its type is the expected type).
        info: The :class:`sim.params.ParamInfo` (bounds, choices).

    Returns:
        The value, coerced (an integral float to int, an int to float, a list to a tuple).

    Raises:
        ScenarioError: One line naming ``name`` and the problem.
    """
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{name}: expected a list of text, got {echo(value)}")
        return tuple(value)
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


def precheck(source: str | Path | None, overrides: list[str]) -> None:
    """Check what can be checked without building the scenario (nor importing the model).

    The source must name a readable TOML file or preset, every override must parse, and
    every override of a ``run`` parameter must be valid. Each problem is reported exactly
    as :func:`sim.scenario.load_scenario` reports it; what passes here may still be refused
    there (an unknown key, say).

    Args:
        source: A path, a preset name, or None for the defaults.
        overrides: ``["run.days=30", ...]`` as typed on the command line.

    Raises:
        ScenarioError: With a one-line message naming the file or field and the problem.
    """
    if source is not None:
        read_toml(resolve_source(source))
    pairs = dict(parse_override(o) for o in overrides)
    _check_run(pairs)


def _check_run(pairs: dict[str, Any]) -> None:
    """Check overrides ``run.<parameter>`` against their declarations."""
    import dataclasses

    from sim.run_config import RunConfig

    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    defaults = RunConfig()
    for key, value in pairs.items():
        section, _, name = key.partition(".")
        if section == "run" and name in fields:
            check_value(key, value, getattr(defaults, name), info_of(fields[name]))


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
