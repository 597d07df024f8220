"""Layering: the model (sim/, agents/) never reaches up into the UI or the experiment layer."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"viz", "experiments", "solara", "dask", "distributed", "typer"}
MODULES = sorted(
    p for pkg in ("sim", "agents") for p in (ROOT / pkg).rglob("*.py")
    if p != ROOT / "sim" / "__main__.py"
)


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            # import_module("x") / __import__("x") with a literal name.
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"} and node.args and isinstance(
                    node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                roots.add(node.args[0].value.split(".")[0])
    return roots


def test_there_are_modules_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in MODULES}
    assert {"sim/model.py", "sim/dispatch.py", "agents/officer.py"} <= names
    assert "sim/__main__.py" not in names


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(ROOT).as_posix() for p in MODULES])
def test_model_layer_does_not_import_ui_or_experiments(path):
    bad = imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_checker_sees_imports_everywhere(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\n"
        "def f():\n"
        "    from viz.app import page\n"
        "    import dask.array as da\n"
        "    return import_module('typer')\n"
        "from . import sibling\n"
    )
    assert imported_roots(probe) == {"os", "viz", "dask", "typer"}


def test_importing_sim_creates_no_files(tmp_path):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT),
               HOME=str(tmp_path / "home"), MPLCONFIGDIR=str(tmp_path / "mpl"))
    # Also report which UI / cluster / CLI packages came along with the import.
    code = ("import sys, sim, sim.api, sim.model, agents; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(FORBIDDEN)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert proc.stdout.strip() == "[]"
