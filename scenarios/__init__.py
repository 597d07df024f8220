"""Named scenario presets: TOML files in this folder, one per strategy or study world.

A preset is data only. ``default.toml`` is the reference city under the centralized baseline;
the others change only what their strategy needs, so that presets are comparable.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PRESET_DIR = Path(__file__).resolve().parent


def preset_path(name: str) -> Path | None:
    """Return the path of the preset called ``name`` (with or without ``.toml``), or None."""
    stem = name.removesuffix(".toml")
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        return None
    path = PRESET_DIR / f"{stem}.toml"
    return path if path.is_file() else None


def list_presets() -> list[tuple[str, str]]:
    """Return ``(name, one-line description)`` for every preset, sorted by name."""
    out = []
    for path in sorted(PRESET_DIR.glob("*.toml")):
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, OSError):
            continue
        out.append((path.stem, str(data.get("run", {}).get("description", ""))))
    return out
