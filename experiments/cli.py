"""The ``grassroots`` command line: a thin layer over the Python API.

Every user error (bad scenario, bad override, existing output folder) ends with one line on
stderr naming the field and the problem, exit status 2, and nothing half-written.

Start-up is kept short (``--help`` and argument errors well under a second): this module
imports only typer and numpy-free parts of ``sim`` at the top; each command imports what it
needs inside its body, after the checks of its arguments that need nothing heavy (see
:func:`sim.scenario_input.precheck` and :func:`_spec_file`). Help is plain click text: rich's
formatter alone costs about as much as the rest of the start-up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sim.params import ScenarioError
from sim.rng import DEFAULT_SEED
from sim.scenario_input import parse_override, precheck

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Grassroots: simulate police force sinking (警力下沉) and compare strategies.",
)

MAX_LINE = 400
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a parameter: section.key=value (repeatable)."),
]


def fail(message: str, code: int = 2) -> None:
    """Print one line (at most :data:`MAX_LINE` characters) to stderr; exit with ``code``."""
    from sim.params import shorten

    typer.echo(f"error: {shorten(' '.join(message.split()), MAX_LINE)}", err=True)
    raise typer.Exit(code)


def _load(scenario: str, overrides: list[str] | None, **run_overrides: object):
    """Load a scenario with overrides; turn errors into one line and exit 2.

    The checks that need no model (file, TOML, override syntax, ``run.*`` values) run before
    :mod:`sim.scenario` and its sections are imported.
    """
    extra = [f"run.{k}={v}" for k, v in run_overrides.items() if v is not None]
    every = list(overrides or []) + extra
    try:
        precheck(scenario, every)
        from sim.scenario import load_scenario

        return load_scenario(scenario, every)
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
    spawn_key: Annotated[int | None, typer.Option(
        help="Replay replication N of a sweep: seed SeedSequence(run.seed, spawn_key=(N,)).",
        min=0)] = None,
) -> None:
    """Run one scenario, print a summary and write the tables to OUT."""
    sc = _load(scenario, set_, days=days, seed=seed)
    if out is not None:
        _check_out(out, "run", force)
    from sim.api import run as run_model
    from sim.api import write_outputs

    try:
        result = run_model(sc, seed=_sweep_seed(sc.run.seed, spawn_key),
                           progress=sys.stderr.isatty())
    except ValueError as exc:
        fail(str(exc))
    print_summary(result.summary)
    if out is not None:
        _publish(lambda: write_outputs(result, out, force=force))
        typer.echo(f"wrote {out}/ (summary.json, incidents/daily/communities.parquet, "
                   "scenario.toml)")


def _check_out(out: Path, kind: str, force: bool, option: str = "--out") -> None:
    """Refuse an output folder before any work (see sim.outputs)."""
    from sim.outputs import OutputError, prepare

    try:
        prepare(out, kind, force, option)
    except OutputError as exc:
        fail(str(exc))


def _publish(write: Callable[[], object]) -> None:
    """Write outputs; a failure that rescued them says where they are and exits 1."""
    from sim.outputs import OutputError, RescuedOutputError

    try:
        write()
    except RescuedOutputError as exc:
        fail(str(exc), 1)
    except OutputError as exc:
        fail(str(exc))


def _sweep_seed(seed: int, spawn_key: int | None):
    """The seed of replication ``spawn_key`` of a sweep rooted at ``seed`` (None: plain)."""
    if spawn_key is None:
        return None
    import numpy as np

    return np.random.SeedSequence(entropy=seed, spawn_key=(spawn_key,))


def print_summary(summary: dict[str, object]) -> None:
    """Print the headline indicators as an aligned two-column table."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        typer.echo(f"{key:<{width}}  {text}")


SHOW_VALUE_WIDTH = 24
"""Widest value column of ``grassroots show`` (longer values push their line only)."""


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
    from sim.strategies import available_strategies
    from sim.strategies.registry import users_of

    every = len(available_strategies())
    rows = []
    for name, value, info in sc.params():
        why = info.why
        if name.startswith("strategy.") and name != "strategy.name":
            users = users_of(name.removeprefix("strategy."))
            if len(users) < every:
                why += f" [used by: {', '.join(users)}]"
            if sc.strategy.name not in users:
                why += " [not used by this scenario's strategy]"
        text = json.dumps(list(value) if isinstance(value, tuple) else value,
                          ensure_ascii=False)
        rows.append((name, text, info.unit, why))
    w0 = max(len(r[0]) for r in rows)
    w1 = min(max(len(r[1]) for r in rows), SHOW_VALUE_WIDTH)
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


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (TOML), e.g. "
                                              "experiments/strategy_comparison.toml.")],
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per core; 1 runs in this process).",
        min=1)] = None,
    dask: Annotated[str | None, typer.Option(
        help="Run on a Dask scheduler (tcp://host:8786) or 'local' (a LocalCluster). "
             "For SLURM/PBS start workers with dask-jobqueue: see experiments/execute.py.",
    )] = None,
    out: Annotated[Path | None, typer.Option(
        help="Store folder (default: results/<spec name>).")] = None,
    resume: Annotated[bool, typer.Option(help="Run only the runs OUT is missing.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the sweep stored in OUT.")] = False,
    quick: Annotated[bool, typer.Option(
        help="Apply the spec's [quick] table (default 3 replications x 60 days).")] = False,
    set_: SetOpt = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar (default: when on a terminal).",
        show_default=False)] = None,
) -> None:
    """Run a sweep: every design point x replication, streamed to a Parquet store in OUT.

    Exit status: 0 when every run succeeded, 1 when any run failed (each is listed with the
    command that replays it), 2 for an invalid spec or output folder.
    """
    try:
        overrides = dict(parse_override(o) for o in set_ or [])
    except ScenarioError as exc:
        fail(str(exc))
    _spec_file(spec)
    from experiments.spec import SpecError, load_spec
    from experiments.store import StoreError

    try:
        sp = load_spec(spec, quick=quick, **({"set": overrides} if overrides else {}))
    except (SpecError, ScenarioError) as exc:
        fail(str(exc))
    out = out or Path("results") / sp.name
    _check_location(out)
    from experiments.sweep import run_sweep

    typer.echo(f"sweep {sp.name}: {sp.n_points} points x {sp.replications} replications = "
               f"{sp.n_runs} runs of {sp.days} days -> {out}", err=True)
    try:
        result = run_sweep(sp, out=out, workers=workers, dask=dask, resume=resume,
                           force=force, progress=progress)
    except (SpecError, StoreError, ValueError, OSError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: finished runs are kept in {out}; rerun with --resume", 130)
    _sweep_summary(result, out)


def _spec_file(spec: Path, long_names: bool = False) -> None:
    """Refuse a spec file that is missing or not TOML, before the experiment layer is imported.

    The messages are those of the spec loaders (``experiments.spec.load_spec``; with
    ``long_names``, ``experiments.optimize_spec.load_optimize_spec``), which check again.
    """
    from sim.params import shorten
    from sim.scenario_input import parse_toml_file

    try:
        is_file = spec.is_file()
    except (OSError, ValueError, TypeError):
        is_file = None
    if not is_file:
        name = str(spec)[:200] if long_names else shorten(spec)
        fail(f"{name}: {'not a usable file name' if is_file is None else 'no such spec file'}")
    try:
        parse_toml_file(spec, ScenarioError)
    except ScenarioError as exc:
        fail(str(exc))


def _check_location(out: Path) -> None:
    from sim.outputs import OutputError, check_location

    try:
        check_location(out, "--out")
    except OutputError as exc:
        fail(str(exc))


def _sweep_summary(result, out: Path) -> None:
    """Print what a sweep did; exit 1 if any run failed."""
    from experiments.sweep import replay_command

    if result.n_executed == 0:
        typer.echo(f"nothing to run: {out} holds all {len(result.runs)} runs of this sweep "
                   f"(--force runs it again)")
    else:
        typer.echo(f"{result.n_executed} runs in {result.elapsed_s:.1f} s "
                   f"({result.runs_per_minute:.1f} runs/min)")
    failed = result.failed
    for row in failed.head(10).itertuples():
        typer.echo(f"failed {row.run_id}: {row.error}\n  replay: "
                   f"{replay_command(out, result.spec, row.point, row.rep)}", err=True)
    ok = len(result.runs) - len(failed)
    typer.echo(f"{ok} ok, {len(failed)} failed; results in {out}/ "
               f"(next: grassroots report {out})")
    if len(failed):
        fail(f"{len(failed)} of {len(result.runs)} runs failed", 1)


@app.command()
def optimize(
    spec: Annotated[Path, typer.Argument(help="Optimisation spec (TOML), e.g. "
                                              "experiments/optimize_default.toml.")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for the search and its results (default: results/<spec name>).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per core; 1 runs in this process).",
        min=1)] = None,
    dask: Annotated[str | None, typer.Option(
        help="Evaluate on a Dask scheduler (tcp://host:8786) or 'local'.")] = None,
    resume: Annotated[bool, typer.Option(
        help="Continue the search stored in OUT from its last finished generation.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the search stored in OUT.")] = False,
    quick: Annotated[bool, typer.Option(
        help="Apply the spec's [quick] table: a small budget that finishes in minutes.")]
    = False,
) -> None:
    """Search the Pareto front of sinking plans (officers per station and community post).

    NSGA-II (optuna) over integer plans, every plan run on common random numbers; then the
    front is re-checked on fresh seeds against the built-in strategies. Writes front.parquet,
    plans/*.toml (scenario files), check.parquet, paired.csv, report.md and figures/ to OUT.
    """
    _spec_file(spec, long_names=True)
    from experiments.optimize_spec import load_optimize_spec
    from experiments.spec_model import SpecError

    try:
        sp = load_optimize_spec(spec, quick=quick)
    except (SpecError, ScenarioError) as exc:
        fail(str(exc))
    out = out or Path("results") / sp.name
    from experiments.optimize import OptimizeError, OptimizeStore, search
    from experiments.optimize_report import finish

    try:
        store = OptimizeStore.open(out, sp, resume=resume, force=force)
    except OptimizeError as exc:
        fail(str(exc))
    done = len(store.finished())
    typer.echo(f"optimize {sp.name}: {sp.plans} plans in {sp.generations} generations of "
               f"{sp.population}, {sp.replications} replications x {sp.days} days each"
               + (f" ({done} generations already stored)" if done else "") + f" -> {out}",
               err=True)
    try:
        trials = search(sp, store, workers=workers, dask=dask,
                        log=lambda line: typer.echo(line, err=True))
        typer.echo("checking the front on fresh seeds ...", err=True)
        figures = finish(sp, store, trials, workers=workers, dask=dask)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: finished generations are kept in {out}; rerun with --resume", 130)
    won = figures["winners"]
    typer.echo(f"{figures['evaluated']} plans evaluated, {figures['front']} on the front, "
               f"{figures['checked']} checked on fresh seeds; "
               + (f"winning plans: {', '.join(won)}" if won else
                  "no plan beats every built-in strategy on fresh seeds")
               + f". Report: {out}/report.md")


@app.command()
def report(
    store: Annotated[Path, typer.Argument(help="A sweep's store folder (the sweep's --out).")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for report.md, figures/ and tables/ (default: STORE).")] = None,
    baseline: Annotated[str | None, typer.Option(
        help="Level compared against (default: the spec's, else centralized).")] = None,
    factor: Annotated[str | None, typer.Option(
        help="Factor whose levels are paired against the baseline (default: "
             "strategy.name).")] = None,
    indicator: Annotated[list[str] | None, typer.Option(
        "--indicator", "-i", help="Indicator to feature (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option(help="Write the report without printing it.")] = False,
) -> None:
    """Print and write a sweep's report: CIs, paired differences, sensitivity, figures."""
    if not (store / "manifest.json").is_file():
        fail(f"{store}: not a sweep store (no manifest.json; see `grassroots sweep --out`)")
    from experiments.report import make_report
    from experiments.spec import SpecError
    from experiments.store import StoreError

    try:
        rep = make_report(store, out, baseline=baseline, baseline_factor=factor,
                          indicators=indicator)
    except (SpecError, StoreError, ValueError) as exc:
        fail(str(exc))
    if not quiet:
        typer.echo(rep.markdown)
    typer.echo(f"wrote {rep.path} and {len(rep.figures)} figures", err=True)


@app.command()
def audit(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (TOML) defining the comparison, e.g. "
                                              "experiments/strategy_comparison.toml.")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for audit.md, audit.csv and figures/ (default: "
             "results/<spec name>-audit).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per core; 1 runs in this process).",
        min=1)] = None,
    dask: Annotated[str | None, typer.Option(
        help="Run on a Dask scheduler (tcp://host:8786) or 'local' (a LocalCluster).")] = None,
    quick: Annotated[bool, typer.Option(
        help="Apply the spec's [quick] table, then at most 2 replications of 14 days.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an earlier audit folder.")] = False,
    indicator: Annotated[list[str] | None, typer.Option(
        "--indicator", "-i", help="Summary indicator to audit (repeatable; default: "
                                  "response time, clearance, satisfaction, trust).")] = None,
) -> None:
    """Re-run a comparison with every assumption at both ends of its plausible range.

    Flags the assumptions that reverse or halve a difference against the baseline and writes
    audit.md, audit.csv and a tornado figure per comparison and indicator to OUT. Exit status:
    0 when every run succeeded, 1 when any failed, 2 for an invalid spec or output folder.
    """
    _spec_file(spec)
    from experiments.audit import describe_plan, load_audit
    from experiments.spec import SpecError

    try:
        plan = load_audit(spec, quick=quick, indicators=indicator)
    except (SpecError, ScenarioError) as exc:
        fail(str(exc))
    out = out or Path("results") / f"{plan.spec.name}-audit"
    _check_out(out, "audit", force)
    from experiments.audit_output import summary_lines, write_audit
    from experiments.audit_run import run_audit

    typer.echo(f"audit {plan.spec.name}: {describe_plan(plan)} -> {out}", err=True)
    try:
        result = run_audit(plan, workers=workers, dask=dask)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    written = []
    _publish(lambda: written.append(write_audit(result, out, force=force)))
    for line in summary_lines(written[0]):
        typer.echo(line)
    typer.echo(f"wrote {out}/ (audit.md, audit.csv, audit_base.csv, audit_runs.csv, "
               f"{len(written[0].figures)} tornado figures)")
    if result.n_failed:
        fail(f"{result.n_failed} of {len(result.runs)} runs failed (see {out}/audit_runs.csv)",
             1)


@app.command()
def viz(
    port: Annotated[int, typer.Option(help="TCP port of the app.", min=1, max=65535)] = 8765,
    host: Annotated[
        str,
        typer.Option(help="Interface to bind. 127.0.0.1 serves this machine only; 0.0.0.0 "
                          "exposes the app to the network (no authentication: use only on a "
                          "trusted network)."),
    ] = "127.0.0.1",
    results: Annotated[
        Path | None,
        typer.Option("--results", help="The only folder whose sweep stores the Results view "
                                        "reads (default: ./results, resolved at start-up; "
                                        "other paths are refused)."),
    ] = None,
) -> None:
    """Serve the interactive browser app: watch, steer and compare strategies."""
    from viz.server import serve

    raise typer.Exit(serve(host=host, port=port, results=results))


@app.command()
def validate(
    quick: Annotated[bool, typer.Option("--quick", help="Few points, short runs (< 1 min).")]
    = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results "
                                                   "as JSON to this file.")] = None,
    seed: Annotated[int, typer.Option(help="Root seed of the validation runs.")] = DEFAULT_SEED,
) -> None:
    """Check the model against queueing theory and geometry; exit 1 on any FAIL."""
    from sim.outputs import OutputError, check_file

    if json_out is not None:
        try:
            check_file(json_out, "validation", "--json")
        except OutputError as exc:
            fail(str(exc))
    from experiments.validate import format_table, run_validation, write_json

    report = run_validation(quick=quick, seed=seed,
                            echo=lambda msg: typer.echo(f"running: {msg}", err=True))
    typer.echo(format_table(report))
    if json_out is not None:
        try:
            write_json(report, json_out)
        except OutputError as exc:
            fail(str(exc))
        typer.echo(f"wrote {json_out}")
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def calibrate(
    scenario: Annotated[str, typer.Argument(help="Scenario with [data] calls_file.")],
    train: Annotated[str | None, typer.Option(
        help="Training days START..END (ISO dates, both included; default: first 70%).")]
    = None,
    test: Annotated[str | None, typer.Option(
        help="Held-out days START..END (default: the days after --train).")] = None,
    seeds: Annotated[int, typer.Option(help="Replications of each replay.")] = 3,
    compare: Annotated[bool, typer.Option(
        help="Only compare a run of the scenario as it is with the recorded calls.")] = False,
    days: Annotated[int | None, typer.Option(help="Days (default: the data's span).")] = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for calibrated.toml, calibration.md and the CSV tables.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an earlier calibration folder.")] = False,
) -> None:
    """Fit on the training days, predict the held-out days: estimates and errors with 95% CIs.

    Estimates on-scene times by class, the command chain's delays and the hourly speed of cars
    from the recorded durations, writes the calibrated scenario, and compares a replay of the
    test calls with what was recorded (see docs/CALIBRATE.md). With --compare, the scenario as
    it is is compared with the recorded calls instead (in replay mode only response times).
    """
    sc = _load(scenario, set_, days=days)  # --days is checked as run.days
    if out is not None:
        _check_out(out, "calibration", force)
    from experiments.calibrate import calibrate as run_calibration
    from experiments.calibrate import write_report
    from experiments.calibrate_fit import fit_and_predict
    from experiments.calibrate_fit_report import summary, write_fit

    try:
        if not compare:
            fit = fit_and_predict(sc, train, test, seeds=seeds, days=days)
        else:
            cal = run_calibration(sc, days=days)
    except ValueError as exc:
        fail(str(exc))
    if not compare:
        if out is not None:
            _publish(lambda: write_fit(fit, out, force=force))
        typer.echo(summary(fit, out))
        return
    if out is not None:
        _publish(lambda: write_report(cal, out, force=force))
    typer.echo(cal.summary(cal.files() if out is not None else None, out))


def main() -> None:
    """Console-script entry point: no exception reaches the user as a traceback.

    Errors of the machine (a full disk, a vanished folder, no memory) end with one line and
    exit 2; anything else is a defect of grassroots, reported in one line with exit 1
    (``GRASSROOTS_DEBUG=1`` shows the traceback).
    """
    import os

    from typer import _click as click  # typer vendors click: its exceptions are these
    from typer.exceptions import Abort

    _show_data_warnings()
    try:
        code = app(standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:  # a usage error: one line naming the option
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except (Abort, KeyboardInterrupt):
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as exc:
        if os.environ.get("GRASSROOTS_DEBUG"):
            raise
        typer.echo(f"error: {describe_failure(exc)}", err=True)
        sys.exit(2 if isinstance(exc, OSError | MemoryError | RecursionError) else 1)
    sys.exit(code if isinstance(code, int) else 0)


def _show_data_warnings() -> None:
    """Print each :class:`sim.datafile.DataWarning` as one ``warning:`` line on stderr."""
    import warnings

    from sim.datafile import DataWarning

    plain = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: object,
             **kwargs: object) -> None:
        if issubclass(category, DataWarning):
            typer.echo(f"warning: {' '.join(str(message).split())}", err=True)
        else:
            plain(message, category, *args, **kwargs)  # type: ignore[arg-type]

    warnings.showwarning = show  # type: ignore[assignment]
    warnings.simplefilter("default", DataWarning)  # each distinct message once


def describe_failure(exc: BaseException) -> str:
    """One short line for an exception that escaped a command."""
    from sim.outputs import shorten

    if isinstance(exc, OSError):
        where = f" ({shorten(exc.filename)})" if exc.filename else ""
        return f"{(exc.strerror or str(exc)).lower()}{where}"
    if isinstance(exc, MemoryError):
        return "out of memory: the scenario or sweep is too large for this machine"
    if isinstance(exc, RecursionError):
        return "input nested too deeply"
    text = shorten(" ".join(str(exc).split()), 200)
    return f"internal error ({type(exc).__name__}: {text}); please report it " \
           f"(GRASSROOTS_DEBUG=1 shows the traceback)"


if __name__ == "__main__":
    main()
