"""The results view (Solara): open a sweep store or a run folder below the results root.

It shows a sweep store's report figures, Markdown files and runs table, and a run folder's
(``grassroots run --out``) summary, scenario and tables; what may be read is decided by
:mod:`viz.results` and :mod:`viz.run_folder` (only folders and files inside the results root).
"""

from __future__ import annotations

import html
import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import solara

from viz.formatting import error_message
from viz.results import (
    MANIFEST,
    ResultsFolder,
    inline_images,
    list_stores,
    read_image,
    results_root,
    scan_results,
)
from viz.run_folder import list_runs, read_table_head, summary_rows

log = logging.getLogger(__name__)

PREFERRED_STORE = "strategy_comparison"
"""The store opened first when the results root holds it (``make main`` writes it)."""


def first_store(stores: Sequence[str]) -> str:
    """The store the results view opens first.

    Args:
        stores: The stores listed (see :func:`viz.results.list_stores`).

    Returns:
        ``strategy_comparison`` if listed, else the first one, else ``""`` (nothing).
    """
    if PREFERRED_STORE in stores:
        return PREFERRED_STORE
    return stores[0] if stores else ""


def safe_scan(folder: str, root: Path) -> ResultsFolder:
    """:func:`viz.results.scan_results`, with any unexpected failure turned into ``error``."""
    try:
        return scan_results(folder, root)
    except Exception as exc:  # shown in the page; a bug, so the log keeps the traceback
        log.error("viz: reading %r failed:\n%s", folder, "".join(traceback.format_exception(exc)))
        return ResultsFolder(root, [], [], error=f"{folder}: cannot be read "
                                                 f"({error_message(exc, 300)})")


@solara.component
def ResultsView(root: str | Path | None = None, initial: str | None = None) -> None:  # noqa: N802
    """Open a sweep store below the results root: its figures, Markdown files and runs table.

    Only folders inside ``root`` are listed or read (see :func:`viz.results.resolve_in_root`);
    anything else typed in is refused with a message.

    Args:
        root: The results root (:func:`viz.results.results_root` if None).
        initial: Folder opened first, relative to ``root`` (:func:`first_store` if None).
    """
    base = solara.use_memo(lambda: results_root(root) if root is not None else results_root(),
                           [str(root)])
    refresh, set_refresh = solara.use_state(0)
    stores = solara.use_memo(lambda: list_stores(base), [base, refresh])
    runs = solara.use_memo(lambda: list_runs(base), [base, refresh])
    start = solara.use_memo(lambda: (first_store(stores) or first_store(runs))
                            if initial is None else initial, [])
    folder, set_folder = solara.use_state(start)
    opened, set_opened = solara.use_state(start)
    figure, set_figure = solara.use_state(None)
    found = solara.use_memo(lambda: safe_scan(opened, base), [opened, base, refresh])

    def pick(name: str | None) -> None:
        if name in stores or name in runs:  # a client may send anything: only listed ones
            set_folder(name)
            set_opened(name)

    with solara.Column():
        solara.Text(f"Results folder: {base}", classes=["grassroots-results-root"],
                    style={"font-size": "12px", "color": "#555"})
        if not base.is_dir():
            solara.Warning(f"The results folder {base} does not exist. Write a sweep into it "
                           f"(`grassroots sweep SPEC.toml --out {base}/NAME`) or start the "
                           "app with `grassroots viz --results DIR`.")
            solara.Button("Refresh", outlined=True, on_click=lambda: set_refresh(refresh + 1))
            return
        with solara.Row(style={"align-items": "center"}):
            if stores:
                solara.Select("Sweep store", values=list(stores),
                              value=opened if opened in stores else None, on_value=pick,
                              style={"min-width": "300px"})
            if runs:
                solara.Select("Run folder", values=list(runs),
                              value=opened if opened in runs else None, on_value=pick,
                              style={"min-width": "300px"})
            solara.Button("Refresh", outlined=True, on_click=lambda: set_refresh(refresh + 1))
        if not stores and not runs:
            solara.Info(f"No sweep stores (folders with {MANIFEST}) or run folders "
                        f"(`grassroots run --out`) below {base} yet.")
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Sweep folder (inside the results folder)", value=folder,
                             on_value=set_folder, continuous_update=True,
                             style={"min-width": "420px"})
            solara.Button("Open", color="primary", on_click=lambda: set_opened(folder))
        if found.error:
            solara.Warning(found.error, classes=["grassroots-results-error"])
        ResultsContent(found, figure, set_figure)


@solara.component
def ResultsContent(  # noqa: N802
    found: ResultsFolder, figure: str | None, set_figure: Any,
) -> None:
    """The figures, documents and runs table of an opened folder (all read inside it)."""
    if found.kind == "run":
        RunContent(found)
        return
    if found.figures:
        names = [str(p) for p in found.figures]
        current = figure if figure in names else names[0]
        solara.Select("Report figure", values=names, value=current, on_value=set_figure)
        _figure(found.path / current, found.path, classes=["grassroots-report-figure"])
        with solara.Details(f"All figures ({len(names)})"), \
                solara.Row(style={"flex-wrap": "wrap"}):
            for p in found.figures:
                with solara.Column(gap="2px"):
                    solara.Text(str(p), style={"font-size": "11px"})
                    _figure(found.path / p, found.path, width="280px")
    for doc in found.documents:
        with solara.Details(f"{doc}", expand=doc.name.lower().startswith("report")):
            path = found.path / doc
            solara.Markdown(inline_images(_read_text(path), path.parent, found.path))
    if found.runs is not None:
        solara.Markdown(f"**Runs** ({len(found.runs)} rows from {found.n_parts} part "
                        "files in `runs/`)")
        solara.DataFrame(found.runs, items_per_page=15, scrollable=True)


@solara.component
def RunContent(found: ResultsFolder) -> None:  # noqa: N802
    """A run folder: its summary as a table, its scenario and its tables (with a preview)."""
    names = [t.name for t in found.tables if t.rows is not None]
    table, set_table = solara.use_state(None)
    current = table if table in names else (names[0] if names else None)
    head = solara.use_memo(
        lambda: None if current is None else read_table_head(
            found.path / f"{current}.parquet", found.path), [str(found.path), current])
    if found.summary is not None:
        solara.Markdown(f"**Run summary** ({len(found.summary)} indicators, `summary.json`)")
        solara.HTML(tag="div", unsafe_innerHTML=summary_table(summary_rows(found.summary)))
    if found.scenario is not None:
        with solara.Details("Scenario (scenario.toml)"):
            solara.Markdown(f"```toml\n{found.scenario}\n```")
    if found.tables:
        lines = ["| table | rows | columns |", "|---|---:|---:|"]
        for t in found.tables:
            rows = "unreadable" if t.rows is None else f"{t.rows:,}"
            lines.append(f"| `{t.file}` | {rows} | {len(t.columns)} |")
        solara.Markdown(f"**Tables** ({len(found.tables)})\n\n" + "\n".join(lines),
                        style={"font-size": "13px"})
    if current is not None:
        solara.Select("Table", values=names, value=current, on_value=set_table)
        if head is None:
            solara.Warning(f"{current}.parquet: cannot be read")
        else:
            solara.Text(f"First {len(head)} rows of {current}.parquet",
                        style={"font-size": "12px"})
            solara.DataFrame(head, items_per_page=15, scrollable=True)


def summary_table(rows: list[tuple[str, str]]) -> str:
    """HTML table of ``(indicator, value)`` rows (escaped)."""
    body = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>"
                   f"{html.escape(v)}</td></tr>" for k, v in rows)
    return ("<table class='grassroots-run-summary' style='font-size:13px;"
            "border-collapse:collapse'><thead><tr><th style='text-align:left'>indicator</th>"
            f"<th style='text-align:right'>value</th></tr></thead><tbody>{body}</tbody></table>")


def _figure(path: Path, root: Path, **kwargs: Any) -> None:
    data = read_image(path, root)
    if data is None:
        solara.Text(f"{path.name}: cannot be shown (missing, too large or unreadable)",
                    style={"color": "#a00", "font-size": "12px"})
    else:
        solara.Image(data, format="png", **kwargs)


def _read_text(path: Path, limit: int = 200_000) -> str:
    try:
        return path.read_text(errors="replace")[:limit]
    except OSError as exc:
        return f"*cannot read {path.name}: {exc.strerror}*"
