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
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.spec import SweepSpec, load_spec, spec_toml

TABLES = ("runs", "daily", "communities", "rt_hist", "timing")
ORDER = {"daily": ["day"], "communities": ["community"], "rt_hist": ["priority_order", "bin"]}
VERSION = 1


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

        Args:
            path: The folder.
            spec: The sweep.
            resume: Continue a store of the same sweep (run only what is missing).
            force: Delete an existing store (of any sweep) and start over.

        Returns:
            The store, ready for :meth:`write_run`.

        Raises:
            StoreError: If the folder holds something else, or a partly run copy of this
                sweep without ``resume``/``force`` (a finished or empty copy is reopened).
        """
        store = cls(path)
        state = store._state()
        if state == "store" and force:
            store._wipe()
            state = "empty"
        if state == "other":
            raise StoreError(f"{store.path}: exists and is not a sweep store; choose another "
                             f"--out")
        if state == "store":
            store._check_same(spec, resume)
        else:
            store._create(spec)
        store._clean_temporaries()
        return store

    def _state(self) -> str:
        if not self.path.exists():
            return "missing"
        if not self.path.is_dir():
            return "other"
        if (self.path / "manifest.json").is_file():
            return "store"
        return "other" if any(self.path.iterdir()) else "empty"

    def _wipe(self) -> None:
        for name in (*TABLES, "figures", "tables"):
            shutil.rmtree(self.path / name, ignore_errors=True)
        for name in ("manifest.json", "spec.toml", "base.toml", "design.parquet", "report.md"):
            (self.path / name).unlink(missing_ok=True)

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

    def _create(self, spec: SweepSpec) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            (self.path / name).mkdir(exist_ok=True)
        base = spec.scenario.with_overrides({"run.days": spec.days, "run.seed": spec.seed})
        self._write_text("base.toml", base.to_toml())
        self._write_text("spec.toml", spec_toml(spec))
        _atomic_parquet(pa.Table.from_pandas(spec.points, preserve_index=False),
                        self.path / "design.parquet")
        manifest = {"format": VERSION, "name": spec.name, "fingerprint": spec.fingerprint(),
                    "design": spec.design, "points": spec.n_points,
                    "replications": spec.replications, "runs": spec.n_runs,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self._write_text("manifest.json", json.dumps(manifest, indent=2) + "\n")

    def _write_text(self, name: str, text: str) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, self.path / name)

    def _clean_temporaries(self) -> None:
        for name in TABLES:
            for tmp in (self.path / name).glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    # -- contents ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The store's manifest."""
        path = self.path / "manifest.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.path}: not a sweep store ({exc})") from None

    def spec(self) -> SweepSpec:
        """The sweep spec kept in the store, with its stored design."""
        import tomllib

        data = tomllib.loads((self.path / "spec.toml").read_text())
        data["base"] = str((self.path / "base.toml").resolve())
        data["set"] = {}
        design = self.design()
        if data.get("design") == "custom":
            for key in ("factors", "design"):
                data.pop(key, None)
            return load_spec(design, **data)
        return dataclasses.replace(load_spec(data), points=design)

    def design(self) -> pd.DataFrame:
        """The design table (one row per point)."""
        return pd.read_parquet(self.path / "design.parquet")

    def part(self, table: str, rid: str) -> Path:
        """Path of one run's part file of ``table``."""
        return self.path / table / f"part-{rid}.parquet"

    def run_status(self) -> dict[str, str]:
        """Status of every recorded run by run id (``ok`` or ``failed``)."""
        out = {}
        for path in sorted((self.path / "runs").glob("part-*.parquet")):
            rid = path.stem.removeprefix("part-")
            out[rid] = pq.read_table(path, columns=["status"]).column(0)[0].as_py()
        return out

    def done_ids(self) -> set[str]:
        """Ids of the runs that finished successfully."""
        return {rid for rid, status in self.run_status().items() if status == "ok"}

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
        status = self.run_status()
        keep = set(status) if table in ("runs", "timing") else \
            {r for r, s in status.items() if s == "ok"}
        paths = [p for p in sorted((self.path / table).glob("part-*.parquet"))
                 if p.stem.removeprefix("part-") in keep]
        if not paths:
            return pd.DataFrame()
        merged = pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default")
        frame = merged.to_pandas()
        keys = ["point", "rep", *ORDER.get(table, [])]
        keys = [k for k in keys if k in frame.columns]
        if keys:
            frame = frame.sort_values(keys, kind="stable")
        return frame.drop(columns=["priority_order"], errors="ignore").reset_index(drop=True)


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
