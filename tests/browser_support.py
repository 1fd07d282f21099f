"""A live server and Debian's chromium for the browser tests.

The app runs in a thread on a free port through werkzeug's real HTTP server;
Playwright drives the system ``chromium`` (never a downloaded browser).
``ROTAPOOL_TEST_CHROMIUM`` (set by ``.ci/run``) names the binary: when it is
set the browser tests must run; when it is not and no chromium is installed
they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import BaseWSGIServer, make_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Chromium as root in a container, with nothing reaching out to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The chromium binary, or a skip when none is installed and CI did not ask for one."""
    named = os.environ.get("ROTAPOOL_TEST_CHROMIUM")
    if named:
        if not Path(named).is_file():
            pytest.fail(f"ROTAPOOL_TEST_CHROMIUM={named} does not exist")
        return named
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    return found


class LiveServer:
    """An app served over real HTTP on 127.0.0.1 until ``stop``."""

    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def screenshot_path(name: str) -> Path:
    """Where a page's screenshot goes (git-ignored; CI keeps it as an artifact)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def launch_options() -> dict[str, object]:
    return {"executable_path": chromium_path(), "args": CHROMIUM_ARGS, "headless": True}


def server_for(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


AXE = Path(__file__).resolve().parent / "assets" / "axe-core-4.14.1.min.js"
# axe-core's verdict on the page: the violations a person would be stopped by.
RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ['violations']});
  return found.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): '
      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; '));
}"""


def axe_violations(page: Page) -> list[str]:
    """Serious and critical accessibility violations axe-core finds on the page as it is.

    The page's own Content-Security-Policy forbids injected scripts: the browser
    context that runs axe is opened with ``bypass_csp``.
    """
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return list(page.evaluate(RUN_AXE))
