"""What every scenario data file shares: the one-line :class:`DataError` and its helpers.

Used by the calls file (:mod:`sim.calls`) and the street network (:mod:`sim.streets`): a
problem with a file is one short line that starts with the scenario field to fix, echoing
any value shortened by :func:`shorten`, and :func:`check_file` refuses a path that is not a
non-empty regular file before anything tries to read it.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

SHORT = 80
"""Longest echoed value in an error message (characters)."""


class DataError(ValueError):
    """A calls or street file cannot be used; the message names the file or column."""


def shorten(value: object, limit: int = SHORT) -> str:
    """Return a value as a quoted, escaped, one-line text of at most about ``limit`` characters.

    Long values keep their head and tail (the end of a file name is often what tells) around
    ``...``; newlines and control characters are escaped as in ``repr``.

    Args:
        value: Anything; non-strings are shown with ``str``.
        limit: Characters to keep.

    Returns:
        The quoted text, e.g. ``'2025-13-45'``.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        quoted = repr(text)
        if len(quoted) <= limit + 2:
            return quoted
    half = max((limit - 3) // 2, 1)
    head = repr(text[:half])[1:-1][:half]
    tail = repr(text[-half:])[1:-1][-half:]
    return f"'{head}...{tail}'"


def reason(exc: BaseException) -> str:
    """The first line of an exception's message, shortened and unquoted (never a traceback)."""
    lines = str(exc).strip().splitlines()
    return shorten(lines[0].strip() if lines else type(exc).__name__)[1:-1]


def check_file(path: str | Path, field_name: str) -> Path:
    """Return ``path`` if it names a non-empty regular file, else raise a one-line DataError.

    Args:
        path: The file name from the scenario.
        field_name: The scenario field it came from (starts the message).

    Returns:
        The path.
    """
    text = str(path)
    name = shorten(text)
    if "\x00" in text:
        raise DataError(f"{field_name}: the file name contains a NUL character ({name})")
    p = Path(text)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{field_name}: no such file {name}") from None
    except PermissionError:
        raise DataError(f"{field_name}: cannot open {name} (permission denied)") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise DataError(f"{field_name}: file name too long ({len(text):,} characters: "
                            f"{name})") from None
        raise DataError(f"{field_name}: cannot open {name} "
                        f"({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # a name the file system cannot take (e.g. not encodable)
        raise DataError(f"{field_name}: {name} is not a usable file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{field_name}: {name} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{field_name}: {name} is not a regular file")
    if st.st_size == 0:
        raise DataError(f"{field_name}: {name} is empty (0 bytes)")
    return p
