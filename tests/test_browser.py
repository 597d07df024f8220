"""End-to-end tests of the browser app: `solara run` + Debian's headless Chromium (Playwright).

The server is started on 127.0.0.1 on a free port as a subprocess and always stopped at the
end, with a fresh results root (the only folder its Results view may read). Each test loads
the page in a fresh tab (a fresh session on the server), records console errors and failed
requests, and keeps screenshots in ``test-artifacts/``.

Skipped, with the reason, only when ``/usr/bin/chromium`` is missing and ``CI`` is not set; on
CI (``CI=true``) a missing browser is a failure (``make test`` installs it).
"""

from __future__ import annotations

import io
import itertools
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("GRASSROOTS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
ON_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
START_TIMEOUT_S = 60.0
VIEWPORT = {"width": 1700, "height": 2400}  # tall enough for the whole page in one shot
CLOCK_RE = re.compile(r"t = (\d+) h")


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    if ON_CI:
        pytest.fail(f"{CHROMIUM} is missing on CI (make browsers installs Debian's chromium)")
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium); browser tests need it")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `solara run` of the app, reading sweep stores below ``results``."""

    url: str
    proc: subprocess.Popen
    log_path: Path
    results: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start the app with `solara run` on 127.0.0.1 and wait for HTTP 200; always stop it."""
    _require_browser()
    from viz.server import app_environment, solara_command

    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    log_path = ARTIFACTS / "browser_server.log"
    results = tmp_path_factory.mktemp("results")
    with log_path.open("w") as log:
        proc = subprocess.Popen(solara_command("127.0.0.1", port), cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=app_environment(results))
    server = Server(f"http://127.0.0.1:{port}/", proc, log_path, results.resolve())
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"solara exited with {proc.returncode}:\n{server.log()[-3000:]}")
            try:
                with urllib.request.urlopen(server.url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no HTTP 200 from {server.url} in {START_TIMEOUT_S:.0f} s:\n"
                            f"{server.log()[-3000:]}")
            time.sleep(0.25)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def browser(app_server: Server) -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Tab:
    """A browser tab on the app, with what went wrong in it."""

    page: object
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def clock_hours(self) -> int:
        text = self.page.locator(".grassroots-clock").inner_text()
        return int(CLOCK_RE.search(text).group(1))

    def wait_hours(self, hours: int, timeout_s: float = 60) -> None:
        self.page.wait_for_function(
            "h => { const e = document.querySelector('.grassroots-clock');"
            " const m = e && e.textContent.match(/t = (\\d+) h/); return m && +m[1] === h; }",
            arg=hours, timeout=timeout_s * 1000)

    def button(self, name: str) -> object:
        return self.page.get_by_role("button", name=name, exact=True)

    def assert_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.failed, f"failed requests: {self.failed}"


@pytest.fixture
def tab(browser: object, app_server: Server) -> Iterator[Tab]:
    """A fresh tab with the page loaded (the Step button, the map and the charts shown)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    t = Tab(page)
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: t.errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: t.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: t.failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(app_server.url)
    t.button("Step").wait_for()
    t.wait_hours(0)
    try:
        yield t
    finally:
        context.close()


def map_drawn(page: object, index: int = 0) -> bool:
    """Whether map ``index`` is a loaded, non-empty image."""
    return page.locator("img.grassroots-map").nth(index).evaluate(
        "img => img.complete && img.naturalWidth > 300 && img.naturalHeight > 300")


def charts_drawn(page: object) -> int:
    """Number of Vega charts whose canvas has drawn pixels."""
    return page.evaluate("""() => [...document.querySelectorAll('.vega-embed canvas')]
        .filter(c => {
            if (!c.width || !c.height) return false;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
            return ink > 500;
        }).length""")


def wait_quiet(page: object, quiet_ms: int = 800) -> None:
    """Wait until the page has not changed for ``quiet_ms`` (charts redrawn, images swapped)."""
    page.evaluate("""ms => new Promise(resolve => {
        let timer;
        const obs = new MutationObserver(() => {
            clearTimeout(timer);
            timer = setTimeout(done, ms);
        });
        function done() { obs.disconnect(); resolve(true); }
        obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                    characterData: true});
        timer = setTimeout(done, ms);
    })""", quiet_ms)


def wait_charts(page: object, n: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while charts_drawn(page) < n:
        assert time.monotonic() < deadline, f"only {charts_drawn(page)} of {n} charts drawn"
        time.sleep(0.25)


def test_page_draws_map_and_charts(tab: Tab, app_server: Server) -> None:
    page = tab.page
    page.locator("img.grassroots-map").wait_for()
    assert map_drawn(page)
    page.locator("img.grassroots-legend").wait_for()
    wait_charts(page, 6)
    assert page.locator(".grassroots-summary").inner_text().count("min") >= 4
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_initial.png"), full_page=True)
    tab.assert_clean()
    assert "Could not load URL" not in app_server.log(), "an asset was missing from the cache"


def test_step_play_strategy_reset_compare(tab: Tab, app_server: Server) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.button("Step").click()
    tab.wait_hours(1)
    tab.button("6 h").click()
    tab.button("Step").click()
    tab.wait_hours(7)

    tab.button("Play").click()
    tab.button("Pause").wait_for()
    page.wait_for_function(
        "() => +document.querySelector('.grassroots-clock').textContent"
        ".match(/t = (\\d+) h/)[1] >= 25", timeout=60_000)
    tab.button("Pause").click()
    tab.button("Play").wait_for()
    wait_quiet(page, 1000)  # a step already under way when Pause was pressed still lands
    stopped = tab.clock_hours()
    time.sleep(1.0)
    assert tab.clock_hours() == stopped, "Play did not stop"
    assert stopped % 6 == 1
    wait_charts(page, 6)
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_after_play.png"), full_page=True)

    # change the strategy: pending until Reset, then a fresh run at t = 0 with it
    page.get_by_label("Strategy", exact=True).click(force=True)
    page.get_by_role("option", name="station", exact=True).click()
    expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_be_visible()
    tab.button("Reset").click()
    tab.wait_hours(0)
    expect(page.get_by_text("station · day 0, 00:00")).to_be_visible()
    expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_have_count(0)
    tab.button("Step").click()
    tab.wait_hours(6)

    # compare: B (another strategy, same seed) catches up with A, then both step together
    tab.button("Compare").click()
    expect(page.locator("img.grassroots-map")).to_have_count(2, timeout=60_000)
    expect(page.get_by_text("A: station · day 0, 06:00")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^B: \w+ · day 0, 06:00$"))).to_be_visible()
    tab.button("Step").click()
    tab.wait_hours(12)
    expect(page.get_by_text("A: station · day 0, 12:00")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^B: \w+ · day 0, 12:00$"))).to_be_visible()
    assert map_drawn(page, 0) and map_drawn(page, 1)
    wait_charts(page, 2 * 6 + 3)
    summary = page.locator(".grassroots-summary").inner_text()
    assert "B − A" in summary and "pp" in summary
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_compare.png"), full_page=True)
    tab.assert_clean()


def test_results_view_shows_a_sweep_folder(tab: Tab, app_server: Server,
                                           tmp_path: Path) -> None:
    import pandas as pd
    from matplotlib.figure import Figure
    from playwright.sync_api import expect

    store = app_server.results / "strategy_comparison"
    (store / "runs").mkdir(parents=True, exist_ok=True)
    (store / "manifest.json").write_text('{"format": 1, "name": "strategy_comparison"}\n')
    pd.DataFrame({"strategy": ["centralized", "community"], "response_time_mean": [9.8, 8.1]}
                 ).to_parquet(store / "runs" / "part-0000.parquet")
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.bar(["centralized", "community"], [9.8, 8.1])
    ax.set_title("Mean response time (min)")
    fig.savefig(store / "response_time.png")
    (store / "report.md").write_text("# Strategy comparison\n\nCommunity is faster.\n\n"
                                     "![response time](response_time.png)\n")
    # outside the root: a store elsewhere, reachable only by a link or a path
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "manifest.json").write_text("{}")
    (tmp_path / "elsewhere" / "report.md").write_text("Outside secret.")
    link = app_server.results / "link-out"
    if not link.is_symlink():
        link.symlink_to(tmp_path / "elsewhere")

    page = tab.page
    tab.button("Results").click()
    # the listing holds the store inside the root only, and opens it first
    page.get_by_label("Sweep store").click(force=True)
    options = page.get_by_role("option")
    expect(options).to_have_count(1)
    assert options.all_inner_texts() == ["strategy_comparison"]
    page.keyboard.press("Escape")
    figure = page.locator("img.grassroots-report-figure")
    figure.wait_for()
    assert figure.evaluate("img => img.complete && img.naturalWidth > 100")
    expect(page.get_by_text("Community is faster.")).to_be_visible()
    expect(page.get_by_text("2 rows from 1 part files")).to_be_visible()
    embedded = page.get_by_role("img", name="response time")  # the report's own figure link
    embedded.wait_for()
    assert embedded.evaluate("img => img.complete && img.naturalWidth > 100")
    expect(page.get_by_text("community").first).to_be_visible()
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_results.png"), full_page=True)

    # typed paths outside the root are refused in the page, nothing is read
    field = page.get_by_label("Sweep folder")
    for text in ("/etc", "../..", "link-out", str(tmp_path / "elsewhere")):
        field.fill(text)
        tab.button("Open").click()
        expect(page.locator(".grassroots-results-error")).to_contain_text(
            "outside the results folder")
        expect(page.locator("img.grassroots-report-figure")).to_have_count(0)
        expect(page.get_by_text("Outside secret.")).to_have_count(0)
    tab.assert_clean()
    assert "Traceback" not in app_server.log()



# -- the parameter panel, scenario files, run folders ---------------------------------------------
def params_shown(page: object) -> list[str]:
    """Dotted names of the parameter controls in the page, in order."""
    return page.locator(".grassroots-panel [data-param]").evaluate_all(
        "els => els.map(e => e.dataset.param)")


def test_parameter_panel_groups_search_and_aria_labels(tab: Tab) -> None:
    from playwright.sync_api import expect

    from sim.scenario import load_scenario
    from viz.panel import grouped, panel_fields, shown_fields

    page = tab.page
    fields = panel_fields(load_scenario("default"))
    useful = grouped(shown_fields(fields, ["centralized"], data=False))
    groups = page.locator(".grassroots-param-groups .grassroots-param-group")
    expect(groups).to_have_count(len(useful))  # data.* hidden: no calls or street file
    assert [t.strip() for t in groups.all_inner_texts()] == [
        f"{part} ({len(members)})" for part, members in useful.items()]
    assert params_shown(page) == []  # every group starts closed

    groups.filter(has_text="police").click()
    share = page.locator("[data-param='police.share_hq']")
    share.locator("input").wait_for()
    hint = next(f for f in fields if f.name == "police.share_hq").hint
    assert share.get_attribute("title") == hint  # the tooltip: unit, range and justification
    field = page.get_by_label("police.share_hq", exact=True)
    assert field.get_attribute("type") == "number"
    assert (field.get_attribute("min"), field.get_attribute("max")) == ("0", "1")
    described = field.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").text_content() == hint  # read by screen readers
    assert params_shown(page) == [f.name for f in useful["police"]]

    # every slider and input of the controls has a non-empty accessible label
    labels = page.evaluate("""() => [...document.querySelectorAll(
        '.grassroots-controls [role=slider], .grassroots-controls input:not([type=hidden])')]
        .map(e => [e.getAttribute('role') || e.type, e.getAttribute('aria-label') || ''])""")
    assert sum(kind == "slider" for kind, _ in labels) == 4
    assert len(labels) > 25 and all(label.strip() for _, label in labels), labels

    page.get_by_label("Search parameters").fill("near_repeat")
    expected = [f.name for f in shown_fields(fields, ["centralized"], False, "near_repeat")]
    page.wait_for_function(
        "n => document.querySelectorAll('.grassroots-panel [data-param]').length === n",
        arg=len(expected))
    assert params_shown(page) == expected
    expect(page.locator(".grassroots-param-results .grassroots-param-group")).to_have_text(
        ["hazard"])
    assert page.get_by_label("hazard.near_repeat", exact=True).get_attribute(
        "type") == "checkbox"
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_panel_search.png"), full_page=True)
    page.get_by_label("Search parameters").fill("no such parameter at all")
    expect(page.get_by_text("No parameter matches")).to_be_visible()
    page.get_by_label("Search parameters").fill("")
    expect(groups).to_have_count(len(useful))
    tab.assert_clean()


def test_parameter_change_applies_and_downloads(tab: Tab) -> None:
    import tomllib

    from playwright.sync_api import expect

    page = tab.page
    page.get_by_label("Search parameters").fill("city.width")
    field = page.get_by_label("city.width", exact=True)
    field.fill("0")
    field.press("Enter")
    expect(page.locator(".grassroots-param-changes")).to_contain_text("Changed (1): city.width")
    expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_be_visible()
    tab.button("Apply").click()
    expect(page.locator(".grassroots-error")).to_have_text("city.width: must be >= 1, got 0")
    field.fill("24")
    field.press("Enter")
    tab.button("Apply").click()
    expect(page.locator(".grassroots-error")).to_have_count(0)
    expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_have_count(0)
    tab.wait_hours(0)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download scenario (TOML)").click()
    scenario = tomllib.loads(Path(info.value.path()).read_text())
    assert scenario["city"]["width"] == 24 and scenario["strategy"]["name"] == "centralized"
    assert info.value.suggested_filename.endswith(".toml")

    tab.button("Step").click()
    tab.wait_hours(1)
    with page.expect_download() as info:
        page.get_by_role("button", name="daily.csv").click()
    daily = Path(info.value.path()).read_text().splitlines()
    assert daily[0].startswith("day,incidents_true,") and len(daily) == 2
    with page.expect_download() as info:
        page.get_by_role("button", name="communities.csv").click()
    assert Path(info.value.path()).read_text().startswith("community,")
    tab.assert_clean()


def test_upload_a_scenario_file(tab: Tab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from sim.scenario import load_scenario
    from viz.upload import MAX_UPLOAD_BYTES

    page = tab.page
    upload = page.locator(".grassroots-upload input[type=file]")
    assert upload.get_attribute("aria-label") == "Upload scenario (TOML)"
    good = tmp_path / "mine.toml"
    good.write_text(load_scenario("community").with_overrides(
        {"police.officers": 90, "run.name": "mine"}).to_toml())
    upload.set_input_files(str(good))
    expect(page.locator(".grassroots-upload-ok")).to_contain_text("Loaded mine.toml")
    expect(page.get_by_text("Scenario: uploaded file mine.toml")).to_be_visible()
    expect(page.get_by_text("community · day 0, 00:00")).to_be_visible()
    expect(page.get_by_text("Officers: 90", exact=True)).to_be_visible()

    cases = {
        "bad.toml": (b"[run\nname = 1", "bad.toml: not valid TOML"),
        "outside.toml": (b"[data]\ncalls_file = '/etc/passwd'\n",
                         "outside.toml: data.calls_file: refused"),
        "big.toml": (b"#" * (MAX_UPLOAD_BYTES + 10), "big.toml: larger than"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        upload.set_input_files(str(tmp_path / name))
        error = page.locator(".grassroots-upload-error")
        expect(error).to_contain_text(message)
        assert "\n" not in error.inner_text().strip()
    expect(page.get_by_text("community · day 0, 00:00")).to_be_visible()  # nothing changed
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_upload.png"), full_page=True)
    tab.assert_clean()


def test_results_view_opens_a_run_folder(tab: Tab, app_server: Server, tmp_path: Path) -> None:
    import json
    import sys

    from playwright.sync_api import expect

    out = app_server.results / "runs" / "day2"
    if not (out / "summary.json").is_file():
        exe = Path(sys.executable).with_name("grassroots")
        proc = subprocess.run([str(exe), "run", "default", "--days", "2", "--out", str(out)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              check=False)
        assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())

    page = tab.page
    tab.button("Results").click()
    page.get_by_label("Run folder").click(force=True)
    page.get_by_role("option", name="runs/day2", exact=True).click()
    table = page.locator("table.grassroots-run-summary")
    expect(table).to_contain_text("response_time_mean")
    expect(table.locator("tbody tr")).to_have_count(len(summary))
    # the run folder's table listing (the Export buttons carry the same name, as buttons)
    expect(page.locator("td code").get_by_text("incidents.parquet", exact=True)).to_be_visible()
    expect(page.locator(".grassroots-results-error")).to_have_count(0)
    page.get_by_text("Scenario (scenario.toml)").click()
    expect(page.get_by_text(re.compile(r"days = 2"))).to_be_visible()
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / "browser_run_folder.png"), full_page=True)
    tab.assert_clean()
    assert "Traceback" not in app_server.log()


# -- issue 17: the app for research work ----------------------------------------------------------
def shot(page: object, name: str) -> Path:
    """Keep a full-page screenshot in ``test-artifacts/`` (and ``$GRASSROOTS_ARTIFACTS``)."""
    import shutil

    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("GRASSROOTS_ARTIFACTS", "").strip()
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


def map_src(page: object, index: int = 0) -> str:
    return page.locator("img.grassroots-map").nth(index).get_attribute("src") or ""


def wait_map_change(page: object, before: str, index: int = 0, timeout_s: float = 60) -> None:
    page.wait_for_function(
        "([i, old]) => { const e = document.querySelectorAll('img.grassroots-map')[i];"
        " return e && e.src !== old && e.complete && e.naturalWidth > 300; }",
        arg=[index, before], timeout=timeout_s * 1000)


def choose(page: object, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click(force=True)
    page.get_by_role("option", name=option, exact=True).click()


def slider_disabled(page: object, label: str) -> bool:
    return page.locator(f"[role=slider][aria-label='{label}']").evaluate(
        "e => e.getAttribute('aria-disabled') === 'true' ||"
        " !!e.closest('.v-input--is-disabled')")


def test_map_overlays_switch_and_layers_redraw(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.locator("img.grassroots-map").wait_for()
    tab.button("1 day").click()
    tab.button("Step").click()
    tab.wait_hours(24)
    wait_quiet(page)
    # the default city has no street network file: travel runs on the grid, said in the page
    expect(page.locator(".grassroots-no-streets")).to_be_visible()
    for label in ("Community ids", "Beat borders", "Street network", "Officer markers",
                  "Incident markers"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    before = map_src(page)
    page.get_by_label("Beat borders", exact=True).check(force=True)
    wait_map_change(page, before)
    shot(page, "browser_map_risk_beats.png")
    page.locator("img.grassroots-map").screenshot(path=str(ARTIFACTS / "browser_map_only.png"))
    for layer in ("Mean response time", "Population", "Trust"):
        before = map_src(page)
        choose(page, "Map background", layer)
        wait_map_change(page, before)
    before = map_src(page)
    page.get_by_label("Community ids", exact=True).uncheck(force=True)
    wait_map_change(page, before)
    page.locator("img.grassroots-map").screenshot(path=str(ARTIFACTS / "browser_map_trust.png"))
    tab.assert_clean()


def test_idle_controls_are_disabled_with_a_reason(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    note = page.locator(".grassroots-idle-sink_fraction")
    expect(note).to_contain_text("centralized moves no HQ officers down")
    assert slider_disabled(page, "Sink fraction")
    assert not slider_disabled(page, "Incident rate (per 1,000 persons per day)")
    choose(page, "Strategy", "station")
    expect(note).to_have_count(0)
    assert not slider_disabled(page, "Sink fraction")
    choose(page, "Strategy", "smart")
    expect(page.locator(".grassroots-idle-tech")).to_contain_text("smart always runs")
    choose(page, "Scenario preset", "replay_synthetic")
    expect(page.locator(".grassroots-idle-incident_rate")).to_contain_text(
        "recorded calls (data.calls_file, replay)")
    assert slider_disabled(page, "Incident rate (per 1,000 persons per day)")
    wait_quiet(page)
    shot(page, "browser_idle_controls.png")
    tab.assert_clean()


def test_compare_says_why_true_incidents_drift(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.button("Compare").click()
    expect(page.locator("img.grassroots-map")).to_have_count(2, timeout=60_000)
    tab.button("1 day").click()
    for hours in (24, 48):
        tab.button("Step").click()
        tab.wait_hours(hours)
    note = page.locator(".grassroots-compare-note")
    expect(note).to_contain_text("Same incident stream at the start")
    expect(note).to_contain_text("deterrence")
    expect(note).to_contain_text("near-repeat")
    text = note.inner_text()
    m = re.search(r"True incidents so far: A ([\d,]+), B ([\d,]+) \(B - A ([+-]?[\d,]+)\)",
                  text)
    assert m, text
    a, b, d = (int(g.replace(",", "")) for g in m.groups())
    assert b - a == d and a > 0
    wait_quiet(page)
    shot(page, "browser_compare_note.png")
    tab.assert_clean()


def test_export_tables_and_figures(tab: Tab) -> None:
    import pandas as pd

    page = tab.page
    tab.button("6 h").click()
    tab.button("Step").click()
    tab.wait_hours(6)
    got = {}
    for name in ("incidents.parquet", "daily.parquet", "map.png", "charts.png"):
        with page.expect_download() as info:
            page.get_by_role("button", name=name, exact=True).click()
        got[name] = Path(info.value.path())
        assert "-t6h" in info.value.suggested_filename
    incidents = pd.read_parquet(got["incidents.parquet"])
    assert len(incidents) > 0 and str(incidents["priority"].dtype) == "category"
    assert (incidents["t_occur"] <= 6 * 60).all()
    assert len(pd.read_parquet(got["daily.parquet"])) == 1
    from PIL import Image

    for name in ("map.png", "charts.png"):
        data = got[name].read_bytes()
        assert data.startswith(b"\x89PNG"), name
        with Image.open(io.BytesIO(data)) as image:
            assert image.size[0] >= 1000, name
    import shutil

    shutil.copy(got["map.png"], ARTIFACTS / "browser_export_map.png")
    shutil.copy(got["charts.png"], ARTIFACTS / "browser_export_charts.png")
    tab.assert_clean()


def test_a_large_city_steps_and_plays_responsively(tab: Tab, tmp_path: Path) -> None:
    """200 x 200 cells and 2,000 officers: a day per Step; Play redraws and Pause stops."""
    import json

    from playwright.sync_api import expect

    from sim.scenario import load_scenario

    page = tab.page
    big = tmp_path / "large.toml"
    big.write_text(load_scenario("community").with_overrides(
        {"city.width": 200, "city.height": 200, "police.officers": 2000,
         "run.name": "large"}).to_toml())
    started = time.monotonic()
    page.locator(".grassroots-upload input[type=file]").set_input_files(str(big))
    expect(page.get_by_text("community · day 0, 00:00")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Officers: 2000", exact=True)).to_be_visible()
    build_s = time.monotonic() - started
    tab.button("1 day").click()
    before = map_src(page)
    started = time.monotonic()
    tab.button("Step").click()
    tab.wait_hours(24, timeout_s=120)
    wait_map_change(page, before)
    step_s = time.monotonic() - started
    tab.button("Play").click()
    tab.button("Pause").wait_for()
    page.wait_for_function(
        "() => +document.querySelector('.grassroots-clock').textContent"
        ".match(/t = (\\d+) h/)[1] >= 96", timeout=180_000)
    started = time.monotonic()
    tab.button("Pause").click()
    tab.button("Play").wait_for(timeout=20_000)
    pause_s = time.monotonic() - started
    wait_quiet(page, 1500)
    stopped = tab.clock_hours()
    time.sleep(2.0)
    assert tab.clock_hours() == stopped, "Play did not stop"
    figures = {"build_and_first_draw_s": round(build_s, 2),
               "step_one_day_to_new_map_s": round(step_s, 2),
               "pause_reaction_s": round(pause_s, 2), "stopped_at_h": stopped}
    (ARTIFACTS / "browser_large_city.json").write_text(json.dumps(figures, indent=1))
    shot(page, "browser_large_city.png")
    assert pause_s < 15, figures
    tab.assert_clean()


def chart_specs(page: object) -> list[dict]:
    """The Vega-Lite specifications of the charts in the page (from their Vue components)."""
    return page.evaluate("""() => [...document.querySelectorAll('.vega-embed')].map(e => {
        for (let el = e; el; el = el.parentElement) {
            const vm = el.__vue__;
            if (vm && vm.spec && vm.spec.data) return vm.spec;
        }
        return null;
    }).filter(s => s)""")


def summary_cells(page: object, label: str) -> list[str]:
    from playwright.sync_api import expect

    row = page.locator(".grassroots-summary tr").filter(
        has=page.get_by_text(label, exact=True))
    expect(row).to_have_count(1, timeout=30_000)  # the panel may be re-rendering just now
    return [t.strip() for t in row.locator("td").all_inner_texts()]


def test_satisfaction_charts_are_in_time_and_b_minus_a_ends_at_the_table(tab: Tab) -> None:
    """The HISTORY_KEYS defect: each day's point shows that day's value; B - A ends at the table."""
    from playwright.sync_api import expect

    page = tab.page
    tab.button("Compare").click()
    expect(page.locator("img.grassroots-map")).to_have_count(2, timeout=60_000)
    tab.button("1 day").click()
    for day in range(1, 11):
        tab.button("Step").click()
        tab.wait_hours(24 * day)
    wait_charts(page, 2 * 6 + 3)
    wait_quiet(page, 1200)
    specs = {s["title"]["text"]: s for s in chart_specs(page)}
    public = [s for s in chart_specs(page)
              if s["title"]["text"] == "Satisfaction and trust (residents)"]
    assert len(public) == 2, sorted(specs)
    diff = specs["B - A: satisfaction and trust"]["data"]["values"]
    for spec in public:
        values = spec["data"]["values"]
        days = [v["day"] for v in values]
        assert len(values) == 241 and days[0] == 0 and days[-1] == 10  # one point an hour
        assert all(b > a for a, b in itertools.pairwise(days))
    a_sat, b_sat, d_sat = summary_cells(page, "Resident satisfaction")[1:4]
    a_trust, b_trust, d_trust = summary_cells(page, "Trust in police")[1:4]
    def near(chart_value: float, shown: str) -> bool:
        # the chart holds 4 decimals, the table shows 3: within half a unit of the table's
        return abs(chart_value - float(shown.replace("−", "-"))) <= 0.0005 + 0.00005

    for spec, sat, trust in zip(public, (a_sat, b_sat), (a_trust, b_trust), strict=True):
        last = spec["data"]["values"][-1]
        assert near(last["satisfaction"], sat) and near(last["trust"], trust)
    assert diff[-1]["day"] == 10
    assert near(diff[-1]["satisfaction"], d_sat) and near(diff[-1]["trust"], d_trust)
    # the defect drew the first half of the data across the axis: day 10 showed day 5
    day5 = next(v for v in public[0]["data"]["values"] if v["day"] == 5)
    assert day5["satisfaction"] != public[0]["data"]["values"][-1]["satisfaction"]
    shot(page, "browser_history_in_time.png")
    tab.assert_clean()


def test_running_totals_after_old_incidents_went_to_disk(tab: Tab, tmp_path: Path) -> None:
    """A long run with ``run.log_rows`` small: the totals still count every incident."""
    import pandas as pd
    from playwright.sync_api import expect

    from sim.scenario import load_scenario

    page = tab.page
    spill = tmp_path / "spill.toml"
    spill.write_text(load_scenario("default").with_overrides(
        {"city.width": 8, "city.height": 8, "city.community_cells": 4,
         "city.population": 8000, "police.officers": 12, "residents.agents": 300,
         "run.days": 60, "run.log_rows": 100, "run.name": "spill"}).to_toml())
    page.locator(".grassroots-upload input[type=file]").set_input_files(str(spill))
    expect(page.get_by_text("Officers: 12", exact=True)).to_be_visible(timeout=120_000)
    tab.button("1 day").click()
    tab.button("Play").click()
    page.wait_for_function(
        "() => +document.querySelector('.grassroots-clock').textContent"
        ".match(/t = (\\d+) h/)[1] >= 34 * 24", timeout=180_000)
    tab.button("Pause").click()
    tab.button("Play").wait_for()
    wait_quiet(page, 1500)
    hours = tab.clock_hours()
    with page.expect_download() as info:
        page.get_by_role("button", name="incidents.parquet", exact=True).click()
    incidents = pd.read_parquet(info.value.path())
    assert f"-t{hours}h" in info.value.suggested_filename
    assert incidents["incident_id"].is_unique and len(incidents) > 300  # > 3 x log_rows
    shown = summary_cells(page, "Incidents (true)")[1]
    assert int(shown.replace(",", "")) == len(incidents)
    rt = incidents["response_time"].dropna()
    assert summary_cells(page, "Response time, mean")[1] == f"{rt.mean():.1f}"
    shot(page, "browser_spilled_totals.png")
    tab.assert_clean()


def test_replay_map_draws_the_street_network_travel_uses(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    expect(page.locator(".grassroots-no-streets")).to_be_visible()  # default: plain grid
    choose(page, "Scenario preset", "replay_synthetic")
    expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_be_visible()
    before = map_src(page)
    tab.button("Reset").click()
    try:
        expect(page.get_by_text("Controls changed: press Reset to apply them.")).to_have_count(
            0, timeout=120_000)
        wait_map_change(page, before, timeout_s=120)
    finally:
        shot(page, "browser_replay_reset.png")
    tab.wait_hours(0)
    expect(page.locator(".grassroots-no-streets")).to_have_count(0)
    before = map_src(page)
    page.get_by_label("Street network", exact=True).uncheck(force=True)
    wait_map_change(page, before)
    expect(page.locator(".grassroots-no-streets")).to_have_count(0)
    page.get_by_label("Street network", exact=True).check(force=True)
    page.locator("img.grassroots-map").screenshot(path=str(ARTIFACTS / "browser_replay_map.png"))
    tab.assert_clean()
