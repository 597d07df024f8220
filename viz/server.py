"""Serve the browser app with ``solara run`` in a subprocess.

``grassroots viz`` calls :func:`serve`. The default host ``127.0.0.1`` serves this machine
only; ``0.0.0.0`` exposes the app to the network, without authentication, so use it only on a
trusted network. The results view reads sweep stores only below the *results root*
(``--results DIR``, by default ``results/`` of the working folder), which :func:`serve`
resolves at start-up and hands to the app in the environment variable
:data:`viz.results.RESULTS_ENV`; paths outside it are refused.

Solara's page loads its front-end assets from ``/_solara/cdn/...``, which the server proxies
from a CDN and caches. With no network the cache must be filled beforehand from the npm
registry (``make setup`` runs ``scripts/populate_solara_cdn.sh``); :func:`missing_assets`
tells whether it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")
"""The Solara app file."""

KEY_ASSETS = ("@widgetti/solara-vuetify-app@10.1.1", "requirejs@2.3.6", "vega@5",
              "vega-lite@5", "vega-embed@6")
"""Asset folders the page cannot render without (Vue app, loader, charts)."""


def solara_command(host: str = "127.0.0.1", port: int = 8765,
                   production: bool = True) -> list[str]:
    """The ``solara run`` command line for the app.

    Args:
        host: Interface to bind.
        port: TCP port (0 lets the system choose).
        production: Production mode (no auto-reload, minified assets).

    Returns:
        The argument list (the current interpreter runs ``-m solara``).
    """
    cmd = [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port",
           str(int(port)), "--no-open"]
    if production:
        cmd.append("--production")
    return cmd


def missing_assets() -> list[str]:
    """Key front-end assets absent from Solara's CDN cache (empty when it is filled)."""
    try:
        from solara.server import settings
    except ImportError:  # pragma: no cover - solara is a dependency
        return list(KEY_ASSETS)
    cache = Path(settings.assets.proxy_cache_dir)
    return [spec for spec in KEY_ASSETS
            if not (cache / spec).is_dir() or not any((cache / spec).iterdir())]


DEFAULT_RESULTS = "results"
"""Default results root, relative to the working folder at start-up."""


def app_environment(results: str | os.PathLike[str] | None = None,
                    base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the ``solara run`` process: ``base`` plus the results root.

    Args:
        results: The results root (``results/`` of the working folder if None); resolved
            here, at start-up, so a later change of folder does not move it.
        base: The environment to extend (this process's if None).

    Returns:
        A new mapping with :data:`viz.results.RESULTS_ENV` set to the resolved root.
    """
    from viz.results import RESULTS_ENV, results_root

    env = dict(os.environ if base is None else base)
    env[RESULTS_ENV] = str(results_root(DEFAULT_RESULTS if results is None else results))
    return env


def serve(host: str = "127.0.0.1", port: int = 8765, production: bool = True,
          results: str | os.PathLike[str] | None = None) -> int:
    """Run the app until interrupted (blocks).

    Args:
        host: Interface to bind; ``0.0.0.0`` exposes the app to the network.
        port: TCP port.
        production: Production mode (no auto-reload).
        results: The only folder whose sweep stores the results view reads (``results/`` of
            the working folder if None). It need not exist; it is never created.

    Returns:
        The server's exit status (0 after Ctrl-C).
    """
    from viz.results import RESULTS_ENV

    env = app_environment(results)
    root = Path(env[RESULTS_ENV])
    note = "" if root.is_dir() else " (does not exist yet)"
    print(f"viz: results view reads sweep stores below {root}{note}", file=sys.stderr)
    missing = missing_assets()
    if missing:
        print(f"viz: Solara's asset cache lacks {', '.join(missing)}; without network access "
              "the page stays blank. Fill it with `make setup` "
              "(scripts/populate_solara_cdn.sh VENV).", file=sys.stderr)
    url_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"viz: serving http://{url_host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    proc = subprocess.Popen(solara_command(host, port, production), env=env)
    # SIGTERM (e.g. from a process manager) stops the server too, like Ctrl-C.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
