"""The results view (Solara): open a sweep store below the results root and show it.

It shows the store's report figures, Markdown files and runs table; what may be read is
decided by :mod:`viz.results` (only folders and files inside the results root).
"""

from __future__ import annotations

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
    start = solara.use_memo(lambda: first_store(stores) if initial is None else initial, [])
    folder, set_folder = solara.use_state(start)
    opened, set_opened = solara.use_state(start)
    figure, set_figure = solara.use_state(None)
    found = solara.use_memo(lambda: safe_scan(opened, base), [opened, base, refresh])

    def pick(name: str | None) -> None:
        if name in stores:  # a client may send any value: only listed stores are opened
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
            solara.Button("Refresh", outlined=True, on_click=lambda: set_refresh(refresh + 1))
        if not stores:
            solara.Info(f"No sweep stores (folders with {MANIFEST}) below {base} yet.")
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
