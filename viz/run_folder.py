"""Run folders written by ``grassroots run --out`` below the results root (no UI code).

A run folder holds ``summary.json``, ``incidents.parquet`` (and the run's other tables),
``scenario.toml`` and the marker :data:`sim.outputs.MARKER` of kind ``run``.
:func:`list_runs` finds them below the results root, :func:`scan_run` reads what the results
view shows (the summary, the scenario text, the tables' sizes) and :func:`read_table_head` the
first rows of one table; every file must resolve inside the root and is read size-limited.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.outputs import MARKER
from viz.formatting import error_message
from viz.results import ResultsFolder, _inside, _read_errors, list_stores

SUMMARY = "summary.json"
SCENARIO = "scenario.toml"
INCIDENTS = "incidents.parquet"
MAX_TEXT_BYTES = 1_000_000
"""Largest ``summary.json``, ``scenario.toml`` or marker read (bytes)."""

MAX_TABLES = 50


@dataclass(frozen=True)
class TableInfo:
    """One table of a run folder.

    Attributes:
        name: File stem (``incidents``).
        file: File name (``incidents.parquet``).
        rows: Number of rows (None if unreadable).
        columns: Column names.
        error: Why it could not be read (None if it could).
    """

    name: str
    file: str
    rows: int | None
    columns: tuple[str, ...] = ()
    error: str | None = None


def _read_small(path: Path, root: Path, limit: int = MAX_TEXT_BYTES) -> str | None:
    """The text of a file inside ``root`` of at most ``limit`` bytes, else None."""
    try:
        if not _inside(path, root) or not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def is_run_folder(folder: Path, root: Path) -> bool:
    """Whether ``folder`` (inside ``root``) is a ``grassroots run --out`` folder."""
    needed = (folder / SUMMARY, folder / INCIDENTS, folder / MARKER)
    try:
        if not all(p.is_file() and _inside(p, root) for p in needed):
            return False
    except OSError:
        return False
    text = _read_small(folder / MARKER, root, 64_000)
    try:
        marker = json.loads(text) if text is not None else None
    except ValueError:
        return False
    return isinstance(marker, dict) and marker.get("kind", "run") == "run"


def list_runs(root: Path, max_runs: int = 500) -> list[str]:
    """The run folders below ``root``, relative to it, sorted (symlinks out skipped)."""
    found = list_stores(root, max_stores=max_runs, marker=SUMMARY)
    return [name for name in found if is_run_folder(root / name, root)]


def _table_info(path: Path) -> TableInfo:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        names = tuple(meta.schema.to_arrow_schema().names)
        return TableInfo(path.stem, path.name, int(meta.num_rows), names)
    except _read_errors() as exc:
        return TableInfo(path.stem, path.name, None, error=error_message(exc, 200))


def scan_run(path: Path, root: Path, name: str) -> ResultsFolder:
    """What the results view shows of run folder ``path`` (inside ``root``).

    Args:
        path: The folder (resolved, inside ``root``).
        root: The results root.
        name: The folder's name relative to ``root`` (for messages).

    Returns:
        ``kind="run"`` with ``summary``, ``scenario`` and ``tables``; ``error`` says what could
        not be read.
    """
    errors = []
    summary = None
    text = _read_small(path / SUMMARY, root)
    if text is None:
        errors.append(f"{name}/{SUMMARY}: missing, unreadable or larger than "
                      f"{MAX_TEXT_BYTES // 1_000_000} MB")
    else:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            data = None
            errors.append(f"{name}/{SUMMARY}: not valid JSON ({error_message(exc, 120)})")
        if isinstance(data, dict):
            summary = data
        elif data is not None:
            errors.append(f"{name}/{SUMMARY}: not a table of indicators")
    scenario = _read_small(path / SCENARIO, root)
    try:
        files = sorted(p for p in path.glob("*.parquet") if p.is_file() and _inside(p, root))
    except OSError as exc:
        files = []
        errors.append(f"{name}: cannot list the folder ({exc.strerror or exc})")
    tables = [_table_info(p) for p in files[:MAX_TABLES]]
    errors += [f"{name}/{t.file}: cannot be read ({t.error})" for t in tables if t.error]
    return ResultsFolder(path, [], [], error="; ".join(errors) or None, kind="run",
                         summary=summary, scenario=scenario, tables=tables)


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """``(indicator, value)`` rows of a run summary, values written for display."""
    rows = []
    for key, value in summary.items():
        if isinstance(value, bool) or value is None:
            shown = str(value).lower() if value is not None else "n/a"
        elif isinstance(value, int):
            shown = str(value)
        elif isinstance(value, str):
            shown = value[:200]
        elif isinstance(value, float):
            shown = f"{value:.4g}" if math.isfinite(value) else "n/a"
        else:
            shown = json.dumps(value)[:200]
        rows.append((str(key)[:200], shown))
    return rows


def read_table_head(path: Path, root: Path, rows: int = 200) -> Any:
    """The first ``rows`` rows of a Parquet table inside ``root`` (a DataFrame), or None."""
    import pyarrow.parquet as pq

    if not _inside(path, root) or not path.is_file():
        return None
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=rows):
            return batch.to_pandas()
        return pf.schema_arrow.empty_table().to_pandas()
    except _read_errors():
        return None
