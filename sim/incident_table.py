"""The incidents table of a run, read lazily from the parts a long run streamed to disk.

A long run streams its old, final incidents to Parquet part files in a temporary folder the
program creates itself (:class:`SpillFolder`, see :meth:`sim.demand.Demand.spill`). The
:class:`IncidentTable` of a run is those parts followed by the rows that were still in memory
when the tables were collected (the *tail*, a pandas DataFrame). Nothing is assembled until
asked for: :func:`len` reads the parts' metadata, :meth:`IncidentTable.column` and
:meth:`IncidentTable.batches` read only the columns named, :meth:`IncidentTable.to_parquet`
writes part by part, and :meth:`IncidentTable.to_pandas` builds the whole table (exactly the
table a run that kept every incident in memory returns).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

PART_PREFIX = "incidents-"
"""Part files are ``incidents-00000.parquet``, ``incidents-00001.parquet``, ..."""


def _remove_parts(path: Path) -> None:
    """Delete the part files this program wrote in ``path``, then the folder if empty."""
    with contextlib.suppress(OSError):
        for child in path.iterdir():
            if child.name.startswith(PART_PREFIX) and child.suffix == ".parquet":
                with contextlib.suppress(OSError):
                    child.unlink()
        os.rmdir(path)  # fails, harmlessly, if someone put a file of their own in it


class SpillFolder:
    """A new temporary folder for a run's incident parts, removed when no longer used.

    The folder is created here (``tempfile.mkdtemp``); when the last object referring to this
    one (the incident log, any :class:`IncidentTable`) is gone, or at exit, the part files
    in it are deleted and then the folder, only if nothing else was put in it.

    Attributes:
        path: The folder.
    """

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="grassroots-log-"))
        weakref.finalize(self, _remove_parts, self.path)


class IncidentTable:
    """One row per incident of a run: Parquet parts streamed to disk, then an in-memory tail.

    Row order, columns and dtypes are those of the table a run keeping every incident in
    memory produces (:func:`sim.incidents.incidents_frame`); ``to_pandas()`` returns it.

    Args:
        parts: Part files, in incident-id order (all rows before ``tail``'s).
        tail: The rows held in memory, after every part's.
        folder: The folder holding ``parts``, kept alive as long as this table.
    """

    def __init__(self, parts: Sequence[Path], tail: pd.DataFrame,
                 folder: SpillFolder | None = None) -> None:
        self._parts = list(parts)
        self._tail = tail
        self._folder = folder
        self._part_rows: list[int] | None = None

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._tail.columns)

    @property
    def spilled(self) -> bool:
        """Whether some rows live in part files on disk."""
        return bool(self._parts)

    def parts(self) -> list[Path]:
        """The part files, in order (empty if nothing was streamed to disk)."""
        return list(self._parts)

    def __len__(self) -> int:
        if self._part_rows is None:
            import pyarrow.parquet as pq

            self._part_rows = [pq.ParquetFile(p).metadata.num_rows for p in self._parts]
        return sum(self._part_rows) + len(self._tail)

    def __repr__(self) -> str:
        return (f"IncidentTable({len(self):,} rows, {len(self.columns)} columns, "
                f"{len(self._parts)} parts on disk)")

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The table piece by piece: each part, then the tail (only ``columns`` if given).

        Args:
            columns: Columns to read (default: all), in this order.

        Yields:
            DataFrames with a default index; one per part file, then the tail.
        """
        cols = None if columns is None else list(columns)
        for path in self._parts:
            table = _read(path, cols)
            frame = table.to_pandas(use_threads=False)
            del table
            release_arrow_memory()
            yield frame
        yield self._tail if cols is None else self._tail[cols]

    def column(self, name: str) -> pd.Series:
        """One whole column (reads only that column of each part)."""
        return self.to_pandas([name])[name]

    def to_pandas(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The whole table (or only ``columns``) as one DataFrame.

        Without parts this is the tail itself (no copy); with parts it is assembled anew at
        every call, so keep the result rather than calling this in a loop.
        """
        if not self._parts:
            return self._tail if columns is None else self._tail[list(columns)]
        return pd.concat(list(self.batches(columns)), ignore_index=True)

    def to_parquet(self, path: str | Path) -> None:
        """Write the table to one Parquet file, part by part (never assembled in memory).

        Read back with ``pd.read_parquet`` it equals :meth:`to_pandas`'s table; a table
        without parts is written exactly as ``to_pandas().to_parquet(path, index=False)``.
        """
        if not self._parts:
            self._tail.to_parquet(path, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.Schema.from_pandas(self._tail, preserve_index=False)
        with pq.ParquetWriter(path, schema) as writer:
            for part in self._parts:
                writer.write_table(_read(part, None).cast(schema))
                release_arrow_memory()
            writer.write_table(pa.Table.from_pandas(self._tail, schema=schema,
                                                    preserve_index=False))


def release_arrow_memory() -> None:
    """Hand memory Arrow freed (reading or writing a part) back to the operating system.

    Arrow's allocator keeps freed blocks for reuse; after each part that adds up to tens of
    megabytes over a long run.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _read(path: Path, columns: list[str] | None) -> Any:
    """One part as an Arrow table, read on this thread only.

    Arrow's thread pool (as ``pd.read_parquet`` uses it) keeps megabytes in per-thread
    allocators after a read; one thread keeps the peak near the part's own size.
    """
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read(columns=columns, use_threads=False)
