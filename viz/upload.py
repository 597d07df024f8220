"""Scenario files sent from the browser, read as data with the project's loader (no UI code).

:func:`read_upload` takes the bytes of an uploaded file: at most :data:`MAX_UPLOAD_BYTES`,
parsed as TOML by :func:`sim.scenario.parse_toml_file` on a temporary copy (data only: nothing
is ever executed) and validated by :func:`sim.scenario.from_dict`. A scenario naming a data file
(``data.calls_file``, ``data.streets_graphml``) is accepted only if the path resolves inside the
app's results root (relative paths start there); anything else is refused with one line.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

from sim.params import shorten
from sim.scenario import Scenario, ScenarioError, from_dict, parse_toml_file
from viz.panel import DATA_FILES, check_data_path

MAX_UPLOAD_BYTES = 1_000_000
"""Largest scenario file accepted (bytes); the presets are a few kB."""


def display_name(name: Any) -> str:
    """The uploaded file's name for a message (its last part, shortened, escaped)."""
    text = name if isinstance(name, str) else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1] or "uploaded file"
    return shorten(text, 60)


def check_data_paths(data: dict[str, Any], root: Path) -> None:
    """Refuse data-file paths outside ``root``; make the others absolute (in place).

    Raises:
        sim.scenario.ScenarioError: ``data.calls_file: refused, ...`` in one line.
    """
    section = data.get("data")
    if not isinstance(section, dict):
        return
    for name in DATA_FILES:
        key = name.split(".", 1)[1]
        if key in section:
            section[key] = check_data_path(name, section[key], root)


def scenario_from_data(data: Any, root: Path) -> Scenario:
    """A validated scenario from parsed TOML tables, with data paths checked against ``root``.

    Raises:
        sim.scenario.ScenarioError: One line naming the field and the problem.
    """
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a table of sections")
    check_data_paths(data, root)
    return from_dict(data)


def scenario_from_source(text: str, root: Path) -> Scenario:
    """The scenario of a resolved TOML text (as kept after an upload), checked again."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        raise ScenarioError(f"uploaded scenario: not valid TOML ({shorten(exc, 120)})") from None
    return scenario_from_data(data, root)


def read_upload(name: Any, data: bytes, root: Path,
                limit: int = MAX_UPLOAD_BYTES) -> Scenario:
    """The scenario in an uploaded file.

    Args:
        name: The file's name as the browser gave it (only shown in messages).
        data: Its bytes.
        root: The results root (data files must lie inside it).
        limit: Largest size accepted (bytes).

    Returns:
        The validated scenario.

    Raises:
        sim.scenario.ScenarioError: ``NAME: problem`` in one line (too large, not TOML, not
            a scenario, a data path outside the root, ...).
    """
    shown = display_name(name)
    if not isinstance(data, bytes | bytearray):
        raise ScenarioError(f"{shown}: no file content received")
    if len(data) > limit:
        raise ScenarioError(f"{shown}: larger than {limit // 1000:,} kB; not a scenario file")
    with tempfile.TemporaryDirectory(prefix="grassroots-upload-") as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_bytes(bytes(data))
        try:
            raw = parse_toml_file(path, ScenarioError)
        except ScenarioError as exc:
            text = str(exc)
            prefix = shorten(path)
            if text.startswith(prefix):
                text = text[len(prefix):].lstrip(": ")
            raise ScenarioError(f"{shown}: {text}") from None
    try:
        return scenario_from_data(raw, root)
    except ScenarioError as exc:
        raise ScenarioError(f"{shown}: {' '.join(str(exc).split())}") from None
