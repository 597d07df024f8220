"""The result store: a folder of Parquet part files written as runs finish.

Layout of a store folder::

    manifest.json         spec fingerprint, name, size (a different sweep is refused)
    spec.toml             the resolved spec
    base.toml             the base scenario with [set], run.days and run.seed (for replays)
    design.parquet        one row per design point
    runs/part-<id>.parquet          one row per run (design point, seeds, status, indicators)
    daily/part-<id>.parquet         the run's daily series
    communities/part-<id>.parquet   the run's per-community table
    rt_hist/part-<id>.parquet       the run's response-time histogram
    timing/part-<id>.parquet        wall time and worker of the run
    report.md, figures/, tables/    written by `grassroots report DIR` (experiments.report)

Every part is written to a temporary file and renamed into place, and a run's ``runs`` part
is written last: a run counts as done once its ``runs`` part exists with ``status == "ok"``.
A killed sweep therefore loses only the runs in flight. Tables are consolidated on read,
sorted by (point, replication), so they do not depend on the order in which runs finished.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.spec import SweepSpec, load_spec, spec_toml
from sim.outputs import (
    OutputError,
    check_location,
    foreign_files,
    make_stage,
    read_marker,
    remove_own,
    shorten,
    swap_in,
    write_marker,
)

TABLES = ("runs", "daily", "communities", "rt_hist", "timing")
# Every file a store may hold (what `--force` may delete; anything else is the user's).
PATTERNS = ("manifest.json", "spec.toml", "base.toml", "design.parquet", "report.md", ".*.tmp",
            *(f"{t}/part-*.parquet" for t in TABLES), *(f"{t}/.part-*.tmp" for t in TABLES),
            "figures/*.png", "tables/*.csv", ".*.grassroots-*")
ORDER = {"daily": ["day"], "communities": ["community"], "rt_hist": ["priority_order", "bin"]}
VERSION = 1
DAMAGED = "damaged"


class StoreError(ValueError):
    """The output folder cannot be used for this sweep (message names the folder)."""


def run_id(point: int, rep: int) -> str:
    """The id of replication ``rep`` at design point ``point`` (sorts in design order)."""
    return f"p{point:04d}-r{rep:03d}"


class Store:
    """A sweep's result folder.

    Args:
        path: The folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, spec: SweepSpec, resume: bool = False,
             force: bool = False) -> Store:
        """Create a store for ``spec``, or reopen one holding the same sweep.

        A new store is built completely in a hidden folder beside ``path`` and renamed into
        place, so a sweep killed at any moment leaves either no store or a complete one. With
        ``force`` an earlier store is replaced the same way (its own files are deleted after
        the swap; a folder holding anything else is refused, never emptied).

        Args:
            path: The folder.
            spec: The sweep.
            resume: Continue a store of the same sweep (run only what is missing).
            force: Replace an earlier sweep store (of any sweep) and start over.

        Returns:
            The store, ready for :meth:`write_run`.

        Raises:
            StoreError: If the folder may not be used (the message names ``--out``), holds
                something else, or a partly run copy of this sweep without
                ``resume``/``force`` (a finished or empty copy is reopened).
        """
        try:
            target = check_location(path, "--out")
        except OutputError as exc:
            raise StoreError(str(exc)) from None
        store = cls(target)
        state = store._state()
        if state == "other":
            raise StoreError(f"--out: {shorten(path)} exists, is not empty and is not a sweep "
                             f"store written by grassroots; choose another --out (nothing was "
                             f"changed)")
        if state == "incomplete" and not (resume or force):
            raise StoreError(f"--out: {shorten(path)} holds an unfinished sweep store (it was "
                             f"interrupted while being created); use --resume or --force")
        if state == "store" and not force:
            store._check_same(spec, resume)
            store._repair(spec)
        else:
            if state in ("store", "incomplete"):
                store._check_own()
            store._create(spec)
        store._clean_temporaries()
        return store

    def _state(self) -> str:
        if not self.path.exists():
            return "missing"
        if not self.path.is_dir():
            return "other"
        if not any(self.path.iterdir()):
            return "empty"
        marker = read_marker(self.path)
        if marker is not None and marker.get("kind") != "sweep":
            return "other"
        if (self.path / "manifest.json").is_file():
            try:
                self.manifest()
                return "store"
            except StoreError:
                pass
        own = marker is not None or not foreign_files(self.path, None, PATTERNS)
        return "incomplete" if own else "other"

    def _check_own(self) -> None:
        foreign = foreign_files(self.path, read_marker(self.path), PATTERNS)
        if foreign:
            raise StoreError(f"--out: {shorten(self.path)} holds files grassroots did not "
                             f"write ({shorten(', '.join(foreign[:3]))}); move them or choose "
                             f"another --out")

    def _check_same(self, spec: SweepSpec, resume: bool) -> None:
        manifest = self.manifest()
        if manifest.get("fingerprint") != spec.fingerprint():
            raise StoreError(f"{self.path}: holds a different sweep ({manifest.get('name')!r}, "
                             f"other settings); use another --out, or --force to replace it")
        done = len(self.done_ids())
        if not resume and 0 < done < spec.n_runs:
            raise StoreError(f"{self.path}: already holds this sweep ({done} of "
                             f"{spec.n_runs} runs done); use --resume to finish it or --force "
                             f"to start over")

    def _repair(self, spec: SweepSpec) -> None:
        """Rewrite the sweep's own description files if they were damaged or removed.

        The manifest's fingerprint matched ``spec``, so the files are exactly recomputable.
        """
        for name in TABLES:
            (self.path / name).mkdir(exist_ok=True)
        if not self._described():
            _describe_sweep(self.path, spec)

    def _described(self) -> bool:
        """Whether base.toml, spec.toml and design.parquet are all readable."""
        import tomllib

        try:
            for name in ("base.toml", "spec.toml"):
                tomllib.loads((self.path / name).read_text())
            pq.read_metadata(self.path / "design.parquet")
        except (OSError, ValueError, pa.ArrowException):
            return False
        return True

    def _create(self, spec: SweepSpec) -> None:
        """Build the store in a staging folder beside :attr:`path`, then swap it in."""
        stage = make_stage(self.path)
        try:
            for name in TABLES:
                (stage / name).mkdir()
            _describe_sweep(stage, spec)
            manifest = {"format": VERSION, "name": spec.name, "fingerprint": spec.fingerprint(),
                        "design": spec.design, "points": spec.n_points,
                        "replications": spec.replications, "runs": spec.n_runs,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            write_marker(stage, "sweep", patterns=PATTERNS)
            left = swap_in(stage, self.path, PATTERNS)
        except BaseException:
            remove_own(stage, anything=True)
            raise
        if left is not None:
            warnings.warn(f"the replaced store was kept in {left}: it held files grassroots "
                          f"did not write", stacklevel=2)

    def _clean_temporaries(self) -> None:
        for name in TABLES:
            for tmp in (self.path / name).glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    # -- contents ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The store's manifest."""
        path = self.path / "manifest.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{shorten(self.path)}: not a sweep store "
                             f"({shorten(exc, 120)})") from None
        if not isinstance(data, dict):
            raise StoreError(f"{shorten(self.path)}: not a sweep store (bad manifest.json)")
        return data

    def spec(self) -> SweepSpec:
        """The sweep spec kept in the store, with its stored design."""
        import tomllib

        try:
            data = tomllib.loads((self.path / "spec.toml").read_text())
            data["base"] = str((self.path / "base.toml").resolve())
            data["set"] = {}
            design = self.design()
            if data.get("design") == "custom":
                for key in ("factors", "design"):
                    data.pop(key, None)
                return load_spec(design, **data)
            return dataclasses.replace(load_spec(data), points=design)
        except (OSError, ValueError, RecursionError) as exc:
            raise StoreError(f"{shorten(self.path)}: the sweep's description is damaged "
                             f"({shorten(exc, 120)}); `grassroots sweep SPEC --out "
                             f"{shorten(self.path)} --resume` rewrites it") from None

    def design(self) -> pd.DataFrame:
        """The design table (one row per point)."""
        try:
            return pd.read_parquet(self.path / "design.parquet")
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{shorten(self.path)}/design.parquet: damaged or missing "
                             f"({shorten(exc, 120)})") from None

    def part(self, table: str, rid: str) -> Path:
        """Path of one run's part file of ``table``."""
        return self.path / table / f"part-{rid}.parquet"

    def run_status(self) -> dict[str, str]:
        """Status of every recorded run by run id (``ok`` or ``failed``)."""
        out = {}
        for path in sorted((self.path / "runs").glob("part-*.parquet")):
            rid = path.stem.removeprefix("part-")
            try:
                out[rid] = str(pq.read_table(path, columns=["status"]).column(0)[0].as_py())
            except (OSError, pa.ArrowException, IndexError, KeyError):
                out[rid] = DAMAGED  # rerun by --resume, left out of every table
        return out

    def done_ids(self, status: dict[str, str] | None = None) -> set[str]:
        """Ids of the runs that finished successfully and whose parts are all intact.

        Args:
            status: :meth:`run_status`, if already read.
        """
        status = self.run_status() if status is None else status
        return {rid for rid, s in status.items() if s == "ok" and self._intact(rid)}

    def _intact(self, rid: str) -> bool:
        for name in TABLES:
            path = self.part(name, rid)
            if path.exists():
                try:
                    pq.read_metadata(path)
                except (OSError, pa.ArrowException):
                    return False
        return True

    # -- writing ----------------------------------------------------------------------------
    def write_run(self, rid: str, tables: dict[str, pd.DataFrame]) -> None:
        """Write one finished run: every table's part, the ``runs`` part last.

        Args:
            rid: The run id.
            tables: Table name to the run's rows (``runs`` is required).
        """
        for name in TABLES:
            if name != "runs":
                path = self.part(name, rid)
                if name in tables:
                    _atomic_parquet(_to_arrow(tables[name]), path)
                else:
                    path.unlink(missing_ok=True)
        _atomic_parquet(_to_arrow(tables["runs"]), self.part("runs", rid))

    # -- reading ----------------------------------------------------------------------------
    def read(self, table: str) -> pd.DataFrame:
        """One table of every recorded run, sorted by (point, replication).

        Parts of runs without a ``runs`` part (killed mid-write) are left out, as are parts
        of runs that failed.

        Args:
            table: One of :data:`TABLES`.

        Returns:
            The consolidated table (empty if no run recorded it).
        """
        return self.read_all((table,))[table]

    def read_all(self, tables: tuple[str, ...] = TABLES) -> dict[str, pd.DataFrame]:
        """Several tables as :meth:`read` gives them, reading the runs' status once."""
        status = self.run_status()
        done = self.done_ids(status)
        return {table: self._read(table, status, done) for table in tables}

    def _read(self, table: str, status: dict[str, str], done: set[str]) -> pd.DataFrame:
        keep = {r for r, s in status.items() if s in ("ok", "failed") and
                (s == "failed" or r in done)} if table in ("runs", "timing") else done
        paths = [p for p in sorted((self.path / table).glob("part-*.parquet"))
                 if p.stem.removeprefix("part-") in keep]
        parts = [t for t in (_read_part(p, required=table != "timing") for p in paths)
                 if t is not None]
        if not parts:
            return pd.DataFrame()
        merged = pa.concat_tables(parts, promote_options="default")
        frame = merged.to_pandas()
        keys = ["point", "rep", *ORDER.get(table, [])]
        keys = [k for k in keys if k in frame.columns]
        if keys:
            frame = frame.sort_values(keys, kind="stable")
        return frame.drop(columns=["priority_order"], errors="ignore").reset_index(drop=True)


def _read_part(path: Path, required: bool) -> pa.Table | None:
    """One part file; a damaged one is an error naming it (or skipped if not required)."""
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        if not required:
            return None
        raise StoreError(f"{shorten(path)}: damaged ({shorten(exc, 100)}); delete it and "
                         f"rerun the sweep with --resume to redo that run") from None


def _describe_sweep(folder: Path, spec: SweepSpec) -> None:
    """Write the files that describe a sweep: base scenario, spec and design."""
    base = spec.scenario.with_overrides({"run.days": spec.days, "run.seed": spec.seed})
    for name, text in (("base.toml", base.to_toml()), ("spec.toml", spec_toml(spec))):
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, folder / name)
    _atomic_parquet(pa.Table.from_pandas(spec.points, preserve_index=False),
                    folder / "design.parquet")


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    """Write a Parquet file to a temporary name in the same folder, then rename it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
