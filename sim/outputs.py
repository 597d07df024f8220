"""Output folders that never destroy what the program did not write.

Every folder Grassroots writes (a run's tables, a sweep store, a report, a calibration)
carries a marker file, :data:`MARKER`, naming its kind and the files written into it. The
rules, applied *before* any work starts:

* an output location is refused if it is ``/``, the home folder, the current folder, the
  project's folder, or an ancestor of any of them, a file, or a name the file system cannot
  hold;
* an existing, non-empty folder is replaced only with ``force`` and only if its marker says
  this program wrote it and it holds nothing else (a file the user added is never deleted);
* a folder is replaced by writing the new one beside it (a hidden *staging* folder) and
  swapping the two with renames; the old folder's own files are removed only after the swap.

If the output location cannot be written when the results are ready (it vanished, the disk is
full, it became read-only), the results are saved in a *rescue* folder and
:class:`RescuedOutputError` says where.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

from sim.params import shorten

MARKER = ".grassroots.json"
STAGING = "grassroots-tmp"
RETIRED = "grassroots-old"
NAME_MAX = 255
PATH_MAX = 4096


class OutputError(ValueError):
    """An output location cannot be used; the one-line message names the option."""


class RescuedOutputError(OutputError):
    """The results could not be written where asked and were saved elsewhere.

    Attributes:
        saved: The folder that holds the results.
    """

    def __init__(self, message: str, saved: Path) -> None:
        super().__init__(message)
        self.saved = saved


# -- where outputs may go -----------------------------------------------------------------
def project_root() -> Path | None:
    """The source checkout this package runs from (None when installed elsewhere)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def _protected() -> list[tuple[Path, str]]:
    places = [(Path.cwd().resolve(), "the current folder")]
    home = Path.home()
    with contextlib.suppress(OSError, RuntimeError):
        places.append((home.resolve(), "the home folder"))
    root = project_root()
    if root is not None:
        places.append((root, "the project folder"))
    return places


def check_location(path: str | Path, option: str = "--out") -> Path:
    """Check that ``path`` may ever be used as an output folder (its contents aside).

    Args:
        path: The folder as given by the user.
        option: The option or field named in errors.

    Returns:
        The path, absolute, with symbolic links resolved.

    Raises:
        OutputError: Naming ``option`` and the problem.
    """
    text = os.fspath(path)
    if not text or "\x00" in text:
        raise OutputError(f"{option}: not a usable folder name ({shorten(text)!r})")
    if len(text) > PATH_MAX or any(len(p) > NAME_MAX for p in Path(text).parts):
        raise OutputError(f"{option}: name too long ({shorten(text)})")
    try:
        target = Path(os.path.abspath(text)).resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"{option}: cannot use {shorten(text)} ({_reason(exc)})") from None
    if target == Path(target.anchor):
        raise OutputError(f"{option}: refusing the file-system root {target}")
    for place, what in _protected():
        if target == place or place.is_relative_to(target):
            rel = "is" if target == place else "contains"
            raise OutputError(f"{option}: {shorten(text)} {rel} {what}; choose a new "
                              f"folder such as results/NAME")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{option}: {shorten(text)} is a file, not a folder")
    _check_parent(target, option, text)
    return target


def _check_parent(target: Path, option: str, text: str) -> None:
    """The nearest existing ancestor must be a folder in which we can create one."""
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option}: {shorten(text)}: {parent} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{STAGING}-probe-", dir=parent))
    except OSError as exc:
        raise OutputError(f"{option}: cannot write in {shorten(parent)} "
                          f"({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return shorten(exc) or type(exc).__name__


# -- markers and ownership ----------------------------------------------------------------
def read_marker(folder: Path) -> dict[str, object] | None:
    """The marker of a folder this program wrote, or None."""
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("generator") == "grassroots" else None


def write_marker(folder: Path, kind: str, files: Iterable[str] | None = None,
                 patterns: Iterable[str] = ()) -> None:
    """Mark ``folder`` as written by this program.

    Args:
        folder: The folder.
        kind: What it holds (``run``, ``sweep``, ``report``, ``calibration``...).
        files: Files written into it, relative (None: every file now in it).
        patterns: Glob patterns of files it may gain later (e.g. a sweep's parts).
    """
    listed = sorted(files) if files is not None else list_files(folder)
    data = {"generator": "grassroots", "kind": kind, "version": 1,  # no time: byte-identical
            "files": [f for f in listed if f != MARKER], "patterns": list(patterns)}
    tmp = folder / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, folder / MARKER)


def list_files(folder: Path) -> list[str]:
    """Every file below ``folder`` as a relative POSIX path, sorted."""
    out = []
    for base, _, names in os.walk(folder):
        rel = Path(base).relative_to(folder)
        out += [(rel / n).as_posix() for n in names]
    return sorted(out)


def foreign_files(folder: Path, marker: dict[str, object] | None,
                  patterns: Iterable[str] = ()) -> list[str]:
    """Files in ``folder`` that its marker (or ``patterns``) does not claim."""
    claimed = set(cast("Iterable[str]", marker.get("files", []) if marker else []))
    globs = [*(marker.get("patterns", []) if marker else []), *patterns]  # type: ignore[misc]
    return [f for f in list_files(folder) if f != MARKER and f not in claimed
            and not any(fnmatch.fnmatchcase(f, g) for g in globs)]


def check_replaceable(target: Path, option: str, kind: str, force: bool,
                      patterns: Iterable[str] = (), legacy: Callable[[Path], bool] | None = None,
                      hint: str = "use --force to replace it") -> None:
    """Refuse an existing folder that this call may not replace.

    Args:
        target: The resolved output folder.
        option: Named in errors.
        kind: The kind this call writes; a folder of another kind is refused.
        force: Whether the user asked to replace an earlier output.
        patterns: Files of this kind not listed in a marker (e.g. sweep parts).
        legacy: Recognises a folder of this kind written before markers existed.
        hint: What to do when ``force`` is missing.

    Raises:
        OutputError: If the folder is not empty and may not be replaced.
    """
    if not target.is_dir() or not any(target.iterdir()):
        return
    marker = read_marker(target)
    ours = marker is not None or (legacy is not None and legacy(target))
    if not ours:
        raise OutputError(f"{option}: {shorten(target)} exists, is not empty and was not "
                          f"written by grassroots; choose another folder (nothing was "
                          f"changed)")
    if marker is not None and marker.get("kind") != kind:
        raise OutputError(f"{option}: {shorten(target)} holds a grassroots "
                          f"{marker.get('kind')} output, not a {kind}; choose another folder")
    if not force:
        raise OutputError(f"{option}: {shorten(target)} exists and is not empty ({hint})")
    extra = foreign_files(target, marker, patterns)
    if extra:
        raise OutputError(f"{option}: {shorten(target)} holds files grassroots did not write "
                          f"({shorten(', '.join(extra[:3]))}); move them or choose another "
                          f"folder")


# -- staging and swapping -----------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def make_stage(target: Path) -> Path:
    """A new, empty hidden folder beside ``target`` (parents created as needed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    prefix = f".{target.name}.{STAGING}-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))


def clean_stale(target: Path, patterns: Iterable[str] = ()) -> None:
    """Remove staging and retired folders beside ``target`` left by killed processes."""
    with contextlib.suppress(OSError):
        for sibling in target.parent.glob(f".{target.name}.grassroots-*-*-*"):
            pid = sibling.name.removeprefix(f".{target.name}.").split("-")[2]
            if pid.isdigit() and not _pid_alive(int(pid)):
                # a staging folder killed before its marker was written holds only ours
                remove_own(sibling, patterns, anything=read_marker(sibling) is None
                           and f".{STAGING}-" in sibling.name)


def remove_own(folder: Path, patterns: Iterable[str] = (), anything: bool = False) -> bool:
    """Delete the files this program wrote in ``folder``, then the folder if empty.

    Args:
        folder: A folder written by this program.
        patterns: Further globs of files it owns (beside those its marker lists).
        anything: Delete every file (only for staging folders this program created).

    Returns:
        Whether the folder is gone (False: something not ours was left in place).
    """
    marker = read_marker(folder)
    foreign = set() if anything else set(foreign_files(folder, marker, patterns))
    for rel in list_files(folder):
        if rel not in foreign:
            with contextlib.suppress(OSError):
                (folder / rel).unlink()
    for base, _, _ in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(base)
    return not folder.exists()


def swap_in(stage: Path, target: Path, patterns: Iterable[str] = ()) -> Path | None:
    """Put the finished ``stage`` folder in place of ``target``.

    ``target`` must be missing, empty or a folder this program wrote (checked before). The old
    folder is moved aside first and only its own files are deleted afterwards.

    Args:
        stage: The complete new folder (beside ``target``).
        target: The destination.
        patterns: Files of the old folder owned beyond those its marker lists.

    Returns:
        None, or the path where the old folder was left because it held foreign files.
    """
    try:
        os.replace(stage, target)  # works onto a missing or an empty folder
        return None
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    retired = target.with_name(f".{target.name}.{RETIRED}-{os.getpid()}-"
                               f"{secrets.token_hex(3)}")
    os.rename(target, retired)
    os.rename(stage, target)
    return None if remove_own(retired, patterns) else retired


def rescue_folder(target: Path) -> Path:
    """A new folder for results that could not be written to ``target``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for base in (Path.cwd(), Path(tempfile.gettempdir()), Path.home()):
        with contextlib.suppress(OSError):
            return Path(tempfile.mkdtemp(prefix=f"grassroots-rescued-{target.name}-{stamp}-",
                                         dir=base))
    raise OutputError(f"cannot write {target} and found no folder to save the results in")


def publish(path: str | Path, kind: str, fill: Callable[[Path], None], option: str = "--out",
            force: bool = False) -> Path:
    """Write an output folder completely, then swap it into place.

    Args:
        path: The output folder (check it with :func:`prepare` before the work that
            produces its contents).
        kind: What it holds (written to its marker).
        fill: Writes the files into the folder it is given.
        option: Named in errors.
        force: Whether an earlier output of this kind may be replaced.

    Returns:
        The resolved destination.

    Raises:
        RescuedOutputError: If the destination could not be used or written (it is checked
            again: a long run may have passed); the results are in ``exc.saved``.
    """
    stage: Path | None = None
    target = Path(os.path.abspath(os.fspath(path) or "."))
    try:
        target = check_location(path, option)
        check_replaceable(target, option, kind, force)
        stage = make_stage(target)
        fill(stage)
        write_marker(stage, kind)
        swap_in(stage, target)
        return target
    except (OSError, OutputError) as exc:
        if stage is not None and stage.exists():
            remove_own(stage, anything=True)
        why = _reason(exc) if isinstance(exc, OSError) else str(exc).removeprefix(
            f"{option}: ")
        saved = rescue_folder(target)
        fill(saved)
        write_marker(saved, kind)
        raise RescuedOutputError(f"{option}: cannot write {shorten(target)} ({shorten(why, 200)}); "
                            f"the results were saved in {saved}", saved) from None
    except BaseException:
        if stage is not None and stage.exists():
            remove_own(stage, anything=True)
        raise


def prepare(path: str | Path, kind: str, force: bool, option: str = "--out") -> Path:
    """All checks of an output folder, before any work: location and contents.

    Args:
        path: As given by the user.
        kind: What will be written.
        force: Whether an earlier output of this kind may be replaced.
        option: Named in errors.

    Returns:
        The resolved target.
    """
    target = check_location(path, option)
    check_replaceable(target, option, kind, force)
    return target


def write_file(path: str | Path, text: str, kind: str, option: str) -> Path:
    """Write one text file atomically, never over a file this program did not write.

    A file is ours when it is JSON with ``"generator": "grassroots"`` and the same ``kind``.

    Args:
        path: The file.
        text: Its content (JSON carrying the generator and kind).
        kind: What it holds.
        option: Named in errors.

    Returns:
        The path.
    """
    target = check_file(path, kind, option)
    tmp = target.with_name(f".{target.name}.{STAGING}-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"{option}: cannot write {shorten(target)} ({_reason(exc)})") \
            from None
    return target


def check_file(path: str | Path, kind: str, option: str) -> Path:
    """Check a single output file before any work (see :func:`write_file`)."""
    text = os.fspath(path)
    if not text or "\x00" in text or len(text) > PATH_MAX or \
            any(len(p) > NAME_MAX for p in Path(text).parts):
        raise OutputError(f"{option}: not a usable file name ({shorten(text)!r})")
    target = Path(os.path.abspath(text))
    if target.is_dir():
        raise OutputError(f"{option}: {shorten(text)} is a folder, not a file")
    if target.exists():
        try:
            data = json.loads(target.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            data = None
        if not (isinstance(data, dict) and data.get("generator") == "grassroots"
                and data.get("kind") == kind):
            raise OutputError(f"{option}: {shorten(text)} exists and was not written by "
                              f"grassroots {kind}; choose another file (nothing was changed)")
    _check_parent(target, option, text)
    return target
