"""The HTML report in headless Chromium, driven over the Chrome DevTools Protocol (CDP).

Needs Debian's ``chromium`` (``apt-get install chromium``); skips without it, fails under CI=true.
"""

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from report_helpers import XSS, report_run

pytestmark = [pytest.mark.system, pytest.mark.slow]

websocket = pytest.importorskip("websocket", reason="pip install websocket-client (dev extras)")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One Chromium tab over CDP: send commands, keep every event that arrives meanwhile."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.ws.recv()))

    def js(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self):
        """Console errors, uncaught exceptions, error log entries (CSP, failed loads) and dialogs."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown" or m == "Page.javascriptDialogOpening":
                out.append(e)
            elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append(e)
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(e)
        return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return report_run(tmp_path_factory.getbasetemp() / "report-run")[3]


@pytest.fixture(scope="module")
def page(run_dir, tmp_path_factory):
    if CHROMIUM is None:
        message = "chromium not found: install it with `apt-get install chromium`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert proc.poll() is None, f"chromium exited with {proc.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port within 30 s"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            target = next(t for t in json.load(resp) if t["type"] == "page")
        tab = Page(target["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log"):
            tab.send(f"{domain}.enable")
        tab.send("Emulation.setDeviceMetricsOverride", width=1400, height=1000, deviceScaleFactor=1,
                 mobile=False)
        tab.send("Page.navigate", url=(run_dir / "index.html").as_uri())
        tab.wait_for("Page.loadEventFired")
        yield tab
        tab.ws.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _rows(page, column):
    """Texts of ``column`` in the visible page of the per-VM table (a shown column)."""
    return page.js(
        f"""(() => {{ const i = [...document.querySelectorAll('#vm-table thead th:not([hidden])')]
              .findIndex(th => th.textContent.replace(/ [\\u25B2\\u25BC]$/, '') === {json.dumps(column)});
            return [...document.querySelectorAll('#vm-table tbody tr')]
              .map(tr => tr.cells[i].textContent); }})()"""
    )


def _search(page, text):
    page.js(f"(() => {{ const s = document.getElementById('vm-search'); s.value = {json.dumps(text)}; "
            f"s.dispatchEvent(new Event('input')); }})()")


def _filter(page, column, value):
    page.js(f"""(() => {{ const c = document.getElementById('vm-filter-col');
        c.value = [...c.options].find(o => o.textContent === {json.dumps(column)}).value;
        c.dispatchEvent(new Event('change'));
        const v = document.getElementById('vm-filter-val'); v.value = {json.dumps(value)};
        v.dispatchEvent(new Event('change')); }})()""")


def _click_header(page, column):
    page.js(f"[...document.querySelectorAll('#vm-table thead th')]"
            f".find(th => th.textContent.startsWith({json.dumps(column)})).click()")


def _status(page):
    return page.js("document.getElementById('vm-status').textContent")


def test_report_loads_without_console_errors(page):
    # the table script ran: 100 generated VMs, the first page of 100 rows shown
    assert _status(page) == "100 of 100 VMs · page 1 of 1"
    assert page.js("document.querySelectorAll('#vm-table tbody tr').length") == 100
    assert page.problems() == []


def test_hostile_vm_name_shows_as_text_and_runs_nothing(page):
    page.js("window.scrollTo(0, 0)")
    assert page.js("document.querySelectorAll('img').length") == 0
    cells = page.js(f"[...document.querySelectorAll('#vm-table td')].filter(td => td.textContent === "
                    f"{json.dumps(XSS)}).length")
    assert cells == 1  # the VM's name cell, as text
    # the same name in the per-wave and concern lists is text too (escaped by Jinja2)
    assert page.js(f"document.getElementById('waves').textContent.includes({json.dumps(XSS)})")
    assert page.js(f"document.getElementById('concerns').textContent.includes({json.dumps(XSS)})")
    assert not any(e["method"] == "Page.javascriptDialogOpening" for e in page.events)


def test_vm_table_sorts_by_clicked_column(page, run_dir):
    import pandas as pd

    vms = pd.read_parquet(run_dir / "tables" / "vms.parquet")
    _search(page, "")
    _click_header(page, "vCPU")
    ascending = [int(v) for v in _rows(page, "vCPU")]
    assert ascending == sorted(vms["vcpus"].astype(int))  # all 100 rows on one page, smallest first
    _click_header(page, "vCPU")
    descending = [int(v) for v in _rows(page, "vCPU")]
    assert descending[0] == vms["vcpus"].max() and descending == sorted(descending, reverse=True)


def test_vm_table_filters_by_search_and_value(page, run_dir):
    import pandas as pd

    readiness = pd.read_parquet(run_dir / "tables" / "readiness.parquet")
    _search(page, "onerror")
    assert _rows(page, "VM") == [XSS]
    assert _status(page) == "1 of 100 VMs · page 1 of 1"
    _search(page, "")
    _filter(page, "Verdict", "excluded")
    excluded = sorted(readiness.loc[readiness["verdict"] == "excluded", "name"])
    assert len(excluded) >= 2  # the sample plants templates and an SRM placeholder
    assert sorted(_rows(page, "VM")) == excluded
    assert _status(page) == f"{len(excluded)} of 100 VMs · page 1 of 1"
    _filter(page, "Verdict", "")
    assert _status(page) == "100 of 100 VMs · page 1 of 1"


def test_wave_button_filters_the_table_to_that_wave(page, run_dir):
    import pandas as pd

    plan = pd.read_parquet(run_dir / "tables" / "wave_plan.parquet")
    in_wave_1 = int((plan["wave"] == 1).sum())
    page.js("document.querySelector('.show-wave[data-wave=\"1\"]').click()")
    assert set(_rows(page, "Wave")) == {"1"} and len(_rows(page, "Wave")) == in_wave_1


def test_screenshot_saved_under_reports(page):
    import base64

    page.js("window.scrollTo(0, 0)")
    shot = page.send("Page.captureScreenshot", format="png")
    path = ROOT / "reports" / "screenshot-report.png"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.problems() == []


def test_large_table_embedded_compressed_renders_the_same(page, run_dir, tmp_path_factory, monkeypatch):
    import assess.report.html as report_html

    estate, results, summary, *_ = report_run(tmp_path_factory.getbasetemp() / "report-run")
    monkeypatch.setattr(report_html, "COMPRESS_ROWS", 50)  # 100 rows > 50: gzip + base64
    html = report_html.render_report(estate, results, summary)
    block = html.split('data-encoding="gzip-base64">')[1].split("</script>")[0]
    assert "onerror" not in block  # the names are inside the compressed block
    path = run_dir / "index-gzip.html"
    path.write_text(html, encoding="utf-8")
    page.events.clear()
    page.send("Page.navigate", url=path.as_uri())
    page.wait_for("Page.loadEventFired")
    deadline = time.monotonic() + 10
    while not _status(page) and time.monotonic() < deadline:  # inflated asynchronously
        time.sleep(0.05)
    assert _status(page) == "100 of 100 VMs · page 1 of 1"
    _search(page, "onerror")
    assert _rows(page, "VM") == [XSS]
    assert page.js("document.querySelectorAll('img').length") == 0
    assert page.problems() == []


SECTIONS = ["summary", "inventory", "readiness-overview", "readiness", "sizing", "cost", "waves", "concerns",
            "vms", "assumptions", "warnings"]
SHOTS = ROOT / "reports" / "screenshots"


def _open(page, url, width):
    page.events.clear()
    page.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
              mobile=width < 600)
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")
    deadline = time.monotonic() + 10
    while not _status(page) and time.monotonic() < deadline:
        time.sleep(0.05)


def _shoot_sections(page, width):
    """One PNG per section at ``width`` under reports/screenshots (at most 3,000 px tall each)."""
    import base64

    SHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for section in page.js("[...document.querySelectorAll('main > section')].map(s => s.id)"):
        y, h = page.js(f"(() => {{ const r = document.getElementById('{section}')"
                       f".getBoundingClientRect(); return [r.y + window.scrollY, r.height]; }})()")
        shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": y, "width": width, "height": min(h, 3000), "scale": 1})
        path = SHOTS / f"{width}-{section}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        written.append(section)
    return written


@pytest.mark.parametrize("width", [1400, 390])
def test_each_section_screenshot_without_overflow_or_console_errors(page, run_dir, width):
    _open(page, (run_dir / "index.html").as_uri(), width)
    # the default columns of the per-VM table and every section fit: nothing scrolls the page sideways
    assert page.js("document.documentElement.scrollWidth") <= width
    if width == 1400:
        assert page.js("(() => { const s = document.querySelector('#vm-table').parentElement;"
                       " return s.scrollWidth <= s.clientWidth; })()")
    assert _shoot_sections(page, width) == SECTIONS
    assert all((SHOTS / f"{width}-{s}.png").read_bytes()[:4] == b"\x89PNG" for s in SECTIONS)
    assert page.problems() == []


def test_dependency_map_has_edges_between_named_groups(page, run_dir):
    _open(page, (run_dir / "index.html").as_uri(), 1400)
    arcs = page.js("[...document.querySelectorAll('svg.depmap path')].map(p => p.querySelector('title')"
                   ".textContent)")
    assert len(arcs) >= 5 and all(" \u2194 " in a and "traffic" in a for a in arcs)
    assert not any(re.search(r"\bg\d{4}\b", a) for a in arcs if "\u00b7" not in a)  # names, not bare ids


def test_every_chart_has_a_title_and_its_axis_units(page, run_dir):
    _open(page, (run_dir / "index.html").as_uri(), 1400)
    charts = page.js("""[...document.querySelectorAll('figure.chart')].map(f => ({
        title: f.dataset.title, units: f.dataset.units,
        text: [...f.querySelectorAll('svg text')].map(t => t.textContent).join(' | ')}))""")
    assert len(charts) == 7  # clusters, OS, readiness, node fill, programme, calendar, dependency map
    for chart in charts:
        assert chart["title"] and chart["title"] in chart["text"], chart["title"]
        assert chart["units"] and chart["units"] in chart["text"], (chart["title"], chart["units"])


def test_a_heading_reached_from_the_navigation_is_not_under_it(page, run_dir):
    _open(page, (run_dir / "index.html").as_uri(), 1400)
    for target in ("waves", "vms", "assumptions"):
        page.js(f"document.querySelector('nav a[href=\"#{target}\"]').click()")
        time.sleep(0.1)
        nav_bottom = page.js("document.querySelector('nav').getBoundingClientRect().bottom")
        heading_top = page.js(f"document.querySelector('#{target} h2').getBoundingClientRect().top")
        assert heading_top >= nav_bottom, target


def test_column_chooser_shows_a_hidden_column(page, run_dir):
    _open(page, (run_dir / "index.html").as_uri(), 1400)
    shown = page.js("[...document.querySelectorAll('#vm-table thead th:not([hidden])')]"
                    ".map(t => t.textContent)")
    assert shown[:2] == ["VM", "Verdict"] and "Node" not in shown and "Confidence" in shown
    page.js("(() => { const b = [...document.querySelectorAll('#vm-column-list input')]"
            ".find(i => i.parentElement.textContent.trim() === 'Node'); b.click(); })()")
    nodes = _rows(page, "Node")
    assert len(nodes) == 100 and any(n.startswith("2s-64c") for n in nodes)
    stars = page.js("[...document.querySelectorAll('#vm-table tbody td')]"
                    ".filter(td => /^[\\u2605\\u2606]{5}$/.test(td.textContent)).map(td => td.title)")
    assert stars and all(stars)  # each confidence shows its reason on hover
