"""Sweep folders the results view may read, and what they hold (no UI code).

:func:`scan_results` lists what a sweep folder written by ``grassroots sweep`` (or a run folder
written by ``grassroots run --out``, see :mod:`viz.run_folder`) holds, and :func:`list_stores`
the sweep stores, both only below the *results root* given at start-up
(:func:`results_root`, ``grassroots viz --results DIR``): any other path is refused by
:func:`resolve_in_root` with a message, never read.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viz.formatting import error_message, shown_value

RESULTS_ENV = "GRASSROOTS_RESULTS"
"""Environment variable holding the results root (set by :func:`viz.server.serve`)."""

DEFAULT_RESULTS_DIR = "results"
"""The results root when :data:`RESULTS_ENV` is not set: ``results/`` of the working folder."""

MANIFEST = "manifest.json"
"""The file that makes a folder a sweep store (see :mod:`experiments.store`)."""

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255
MAX_IMAGE_BYTES = 20_000_000
"""Largest figure sent to the browser (bytes)."""


class OutsideResultsError(ValueError):
    """A path the user supplied is refused: outside the results root, or not a valid name."""


def results_root(value: str | os.PathLike[str] | None = None) -> Path:
    """The folder the results view may read, resolved (symlinks followed).

    Args:
        value: The folder; if None, :data:`RESULTS_ENV`, else ``results/`` of the working
            folder.

    Returns:
        The absolute, resolved folder (it need not exist).
    """
    if value is None:
        value = os.environ.get(RESULTS_ENV, "").strip() or DEFAULT_RESULTS_DIR
    path = Path(value).expanduser()
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: keep the folder as given
        return path.absolute()


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) to ``root`` or below it."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return False


def resolve_in_root(text: str | os.PathLike[str], root: Path) -> Path:
    """The folder ``text`` names, resolved, if it lies inside ``root``.

    Relative paths start at ``root``; absolute paths are accepted only if they resolve into
    it. Symlinks are followed before the check, so a link inside ``root`` to a folder
    elsewhere is refused, as are ``..`` escapes.

    Args:
        text: What the user typed or picked.
        root: The results root (resolved, see :func:`results_root`).

    Returns:
        The resolved path (it need not exist).

    Raises:
        OutsideResultsError: If the path is outside ``root`` or not a valid path (NUL bytes,
            control characters, over-long names); the message says so.
    """
    raw = os.fspath(text) if isinstance(text, os.PathLike) else text
    if not isinstance(raw, str):
        raise OutsideResultsError(f"{shown_value(raw)}: not a folder name")
    shown = shown_value(raw)
    where = f"only folders inside the results folder {root} can be opened"
    if "\x00" in raw:
        raise OutsideResultsError(f"{shown}: refused, a path cannot contain a NUL byte ({where})")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise OutsideResultsError(f"{shown}: refused, control characters in the path ({where})")
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise OutsideResultsError(f"{shown}: refused, not a valid path ({where})") from None
    if len(encoded) > MAX_PATH_CHARS or any(
            len(part.encode("utf-8")) > MAX_NAME_BYTES for part in Path(raw).parts):
        raise OutsideResultsError(f"{shown}: refused, the name is too long ({where})")
    path = Path(raw)
    candidate = path if path.is_absolute() else root / path
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError, ValueError):  # symlink loops, names the OS refuses
        raise OutsideResultsError(f"{shown}: refused, the path cannot be resolved ({where})"
                             ) from None
    if not resolved.is_relative_to(root):
        raise OutsideResultsError(f"{shown} is outside the results folder {root}: {where}")
    return resolved


def list_stores(root: Path, max_depth: int = 4, max_stores: int = 500,
                max_dirs: int = 5000, marker: str = MANIFEST) -> list[str]:
    """The sweep stores (folders holding ``manifest.json``) below ``root``.

    Only folders that resolve inside ``root`` count: symlinks leading elsewhere are skipped
    (and never descended into), so nothing outside the root is ever listed. A store's own
    subfolders are not searched.

    Args:
        root: The results root (resolved).
        max_depth: Deepest level searched below ``root``.
        max_stores: At most this many stores.
        max_dirs: At most this many folders visited.
        marker: The file that makes a folder count (:data:`MANIFEST`: a sweep store).

    Returns:
        Paths relative to ``root`` (``"."`` for the root itself), sorted.
    """
    if not root.is_dir():
        return []
    found: set[str] = set()

    def check(folder: Path) -> bool:
        manifest = folder / marker
        if _inside(folder, root) and manifest.is_file() and _inside(manifest, root):
            found.add(folder.relative_to(root).as_posix() or ".")
            return True
        return False

    for visited, (dirpath, dirnames, _files) in enumerate(os.walk(root, followlinks=False), 1):
        here = Path(dirpath)
        if check(here) or len(here.relative_to(root).parts) >= max_depth:
            dirnames[:] = []
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            check(here / name)  # a link to a store inside the root; never descended into
        if visited >= max_dirs or len(found) >= max_stores:
            break
    return sorted(found)[:max_stores]


def _walk_files(folder: Path, root: Path, suffixes: tuple[str, ...], limit: int,
                max_depth: int = 6) -> list[Path]:
    """Files below ``folder`` with one of ``suffixes`` that resolve inside ``root``.

    Returns:
        Paths relative to ``folder``, sorted, at most ``limit``.
    """
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        if len(here.relative_to(folder).parts) >= max_depth:
            dirnames[:] = []
        for name in filenames:
            p = here / name
            if p.suffix.lower() in suffixes and p.is_file() and _inside(p, root):
                out.append(p.relative_to(folder))
        if len(out) >= 10 * limit:
            break
    return sorted(out)[:limit]


@dataclass
class ResultsFolder:
    """What a sweep folder holds, as found by :func:`scan_results`.

    Attributes:
        path: The folder (resolved; the results root if the folder was refused).
        figures: PNG files (sorted, relative paths below ``path``).
        documents: Markdown files (sorted, relative paths).
        runs: The concatenated ``runs/*.parquet`` part files (None if there are none).
        n_parts: Number of part files read.
        error: Why the folder could not be read (None if it could).
        kind: ``"sweep"``, or ``"run"`` for a ``grassroots run --out`` folder.
        summary: A run folder's ``summary.json`` (None otherwise).
        scenario: A run folder's ``scenario.toml`` text (None if absent).
        tables: A run folder's tables (:class:`viz.run_folder.TableInfo`).
    """

    path: Path
    figures: list[Path]
    documents: list[Path]
    runs: Any = None
    n_parts: int = 0
    error: str | None = None
    kind: str = "sweep"
    summary: dict[str, Any] | None = None
    scenario: str | None = None
    tables: list[Any] = field(default_factory=list)


_IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".svg": "image/svg+xml"}


def read_image(path: Path, root: Path, limit: int = MAX_IMAGE_BYTES) -> bytes | None:
    """The bytes of an image file inside ``root`` (None if outside, missing or too large)."""
    if not _inside(path, root):
        return None
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def inline_images(text: str, base: Path, root: Path) -> str:
    """Embed the images a Markdown file links by relative path as ``data:`` URIs.

    The browser cannot fetch files of the results folder, so ``![x](figures/a.png)`` in a
    report would show a broken image. Only files inside ``root`` are embedded; other links
    are left as they are.

    Args:
        text: Markdown text.
        base: Folder of the Markdown file (relative links start there).
        root: The results folder.

    Returns:
        The text with embedded images.
    """
    root = root.resolve()

    def embed(match: re.Match[str]) -> str:
        alt, target = match.groups()
        if ":" in target or target.startswith("/") or "\x00" in target:
            return match.group(0)
        path = base / target
        mime = _MIME.get(path.suffix.lower())
        data = None if mime is None else read_image(path, root)
        if data is None:
            return match.group(0)
        return f"![{alt}](data:{mime};base64,{base64.b64encode(data).decode('ascii')})"

    return _IMAGE_LINK.sub(embed, text)


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a Parquet file can raise besides bugs (OS, format and Arrow errors)."""
    errors: tuple[type[BaseException], ...] = (OSError, ValueError, TypeError, KeyError,
                                               NotImplementedError, MemoryError)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return errors
    return (*errors, pa.ArrowException)


def scan_results(folder: str | Path, root: str | Path | None = None, max_files: int = 200,
                 max_rows: int = 5000) -> ResultsFolder:
    """List the report figures, documents and run table of a sweep folder inside ``root``.

    Nothing outside ``root`` is read: the folder itself and every file in it must resolve
    (symlinks followed) below ``root``; anything else is refused with a message.

    Args:
        folder: A folder written by ``grassroots sweep``, relative to ``root`` or absolute.
        root: The results root (:func:`results_root` if None).
        max_files: At most this many figures and documents each.
        max_rows: At most this many rows of the runs table.

    Returns:
        The folder's contents; ``error`` says why nothing (or not everything) was read.
    """
    base = results_root(root) if root is not None else results_root()
    if isinstance(folder, str) and not folder.strip():
        return ResultsFolder(base, [], [], error="Choose a sweep store.")
    if not base.is_dir():
        return ResultsFolder(base, [], [], error=f"The results folder {base} does not exist.")
    try:
        path = resolve_in_root(folder, base)
    except OutsideResultsError as exc:
        return ResultsFolder(base, [], [], error=str(exc))
    name = path.relative_to(base).as_posix() or "."
    if not path.is_dir():
        return ResultsFolder(path, [], [], error=f"{name}: no such folder in the results "
                                                 f"folder {base}")
    from viz.run_folder import is_run_folder, scan_run

    if is_run_folder(path, base):
        return scan_run(path, base, name)
    try:
        figures = _walk_files(path, base, (".png",), max_files)
        documents = _walk_files(path, base, (".md",), max_files)
        runs_dir = path / "runs"
        parts = sorted(p for p in runs_dir.glob("*.parquet")
                       if p.is_file() and _inside(p, base)) if runs_dir.is_dir() else []
    except OSError as exc:
        return ResultsFolder(path, [], [], error=f"{name}: cannot list the folder "
                                                 f"({exc.strerror or exc})")
    runs = None
    error = None
    if parts:
        import pandas as pd

        try:
            frames = []
            rows = 0
            for part in parts:
                frames.append(pd.read_parquet(part))
                rows += len(frames[-1])
                if rows >= max_rows:
                    break
            runs = pd.concat(frames, ignore_index=True).head(max_rows)
        except _read_errors() as exc:
            runs = None
            error = f"{name}/runs: cannot read the part files ({error_message(exc, 300)})"
    if not figures and not documents and runs is None and error is None:
        error = (f"{name}: no PNG, Markdown or runs/*.parquet files found (nor the "
                 "summary.json and incidents.parquet of a run folder)")
    return ResultsFolder(path, figures, documents, runs, len(parts), error)
