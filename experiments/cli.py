"""The ``grassroots`` command line: a thin layer over the Python API.

Every user error (bad scenario, bad override, existing output folder) ends with one line on
stderr naming the field and the problem, exit status 2, and nothing half-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.scenario import ScenarioError, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Grassroots: simulate police force sinking (警力下沉) and compare strategies.",
)

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a parameter: section.key=value (repeatable)."),
]


def fail(message: str, code: int = 2) -> None:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _load(scenario: str, overrides: list[str] | None, **run_overrides: object):
    """Load a scenario with overrides; turn errors into one line and exit 2."""
    extra = [f"run.{k}={v}" for k, v in run_overrides.items() if v is not None]
    try:
        return load_scenario(scenario, list(overrides or []) + extra)
    except ScenarioError as exc:
        fail(str(exc))
    raise AssertionError  # unreachable


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Preset name or path to a scenario TOML.")],
    days: Annotated[int | None, typer.Option(help="Simulated days (overrides run.days).")] = None,
    seed: Annotated[int | None, typer.Option(help="Root seed (overrides run.seed).")] = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the tables.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
) -> None:
    """Run one scenario, print a summary and write the tables to OUT."""
    from sim.api import run as run_model
    from sim.api import write_outputs

    sc = _load(scenario, set_, days=days, seed=seed)
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())) \
            and not force:
        fail(f"--out: {out} exists and is not empty (use --force to replace it)")
    try:
        result = run_model(sc, progress=sys.stderr.isatty())
    except ValueError as exc:
        fail(str(exc))
    print_summary(result.summary)
    if out is not None:
        write_outputs(result, out, force=force)
        typer.echo(f"wrote {out}/ (summary.json, incidents/daily/communities.parquet, "
                   "scenario.toml)")


def print_summary(summary: dict[str, object]) -> None:
    """Print the headline indicators as an aligned two-column table."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        typer.echo(f"{key:<{width}}  {text}")


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="Preset name or path.")] = "default",
    set_: SetOpt = None,
    as_toml: Annotated[bool, typer.Option("--toml", help="Print the resolved TOML.")] = False,
) -> None:
    """Show every parameter of a scenario with its unit and justification."""
    sc = _load(scenario, set_)
    if as_toml:
        typer.echo(sc.to_toml())
        return
    rows = [(name, json.dumps(value), info.unit, info.why) for name, value, info in sc.params()]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    for name, value, unit, why in rows:
        typer.echo(f"{name:<{w0}}  {value:>{w1}}  {unit:<{w2}}  {why}")


@app.command()
def scenarios() -> None:
    """List the scenario presets shipped in scenarios/."""
    from scenarios import list_presets

    presets = list_presets()
    width = max((len(n) for n, _ in presets), default=0)
    for name, desc in presets:
        typer.echo(f"{name:<{width}}  {desc}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
