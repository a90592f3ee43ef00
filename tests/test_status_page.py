"""The technician's page, in a real browser (headless Chromium) against the real daemon on JACK (dummy) and Xvfb."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from daemon.testing import OpenPage, config_for, gallery, page_dom, page_screenshot
from tests.test_supervision import SHORT_CYCLE

TOKEN = "page-s3cret"
CHANNELS = 8


class Dom(HTMLParser):
    """Every element's attributes and text, by id and by class, from the DOM Chromium printed."""

    def __init__(self, html: str):
        super().__init__()
        self.html = html
        self.elements: list[tuple[str, dict, list[str]]] = []
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), []))
        if tag not in ("img", "br", "meta", "link", "input", "polyline"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        while self._open:
            if self.elements[self._open.pop()][0] == tag:
                break

    def handle_data(self, data):
        for index in self._open:
            self.elements[index][2].append(data)

    def text(self, element_id: str) -> str:
        return "".join(next(text for _, attrs, text in self.elements if attrs.get("id") == element_id)).strip()

    def with_attribute(self, name: str) -> list[dict]:
        return [attrs for _, attrs, _ in self.elements if name in attrs]


def _image_row(dom: Dom) -> tuple[str, int] | None:
    """The image child's row in the page's table of children: its state and its restarts."""
    row = re.search(r'data-role="image"><td>image</td><td class="(\w+)">\w+</td><td>(\d+)</td>', dom.html)
    return (row.group(1), int(row.group(2))) if row else None


def _watch(page: OpenPage, until, timeout: float = 30.0) -> list[Dom]:
    """The open page looked at every half second until `until(dom)`; every look (AssertionError at `timeout`)."""
    looks: list[Dom] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        looks.append(Dom(page.dom()))
        with contextlib.suppress(StopIteration):  # an element not drawn yet
            if until(looks[-1]):
                return looks
        time.sleep(0.5)
    last = f"image row {_image_row(looks[-1])}, {looks[-1].html[:2000]}" if looks else ""
    raise AssertionError(f"the open page never showed it in {timeout} s; last: {last}")


def raw_get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_the_status_page_shows_what_plays_live_in_a_real_browser(tmp_path, mnist_root, classifier_file):
    cycle = SHORT_CYCLE.replace("heartbeat_timeout_seconds = 3.0", "heartbeat_timeout_seconds = 15.0")
    loaded = config_for(
        tmp_path,
        mnist_root,
        classifier_file,
        cycle.replace("[http]\nport = 0\n", f'[http]\nport = 0\ntoken = "{TOKEN}"\n')
        + "[streams]\ngrid_every_steps = 5\n",
    )
    with gallery(loaded.source, CHANNELS) as (daemon, _recorder):
        run = daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        port = [e for e in daemon.events if e["event"] == "http_listening"][-1]["port"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until both senses have said what they output, the picture moving
            status = json.loads(daemon.http_get("/status", TOKEN)[1])
            sound, image = (status["children"][role]["heartbeat"] for role in ("sound", "image"))
            grid_drawn = any((loaded.recordings_path / run["run_id"] / "grids").glob("step-*.png"))
            # The first looks may fall in the opening's fade from black: two black looks have changed by 0.
            moving = any((p.get("change") or 0) > 0.25 for p in (image.get("pictures") or {}).values())
            if sound.get("levels_dbfs") and moving and grid_drawn:
                break
            time.sleep(0.5)
        # The page obeys the token: nothing without it, the page with ?token=, which it keeps as a cookie.
        assert raw_get(port, "/")[0] == 401 and raw_get(port, "/status")[0] == 401
        code, body, headers = raw_get(port, f"/?token={TOKEN}")
        assert code == 200 and b"<title>Twos and Sevens</title>" in body and "HttpOnly" in headers["Set-Cookie"]
        cookie = headers["Set-Cookie"].split(";")[0]
        assert raw_get(port, "/page.js", {"Cookie": cookie})[0] == 200
        assert raw_get(port, "/page.js", {"Cookie": "twos_and_sevens_token=wrong"})[0] == 401
        assert b"https://" not in body + raw_get(port, "/page.js", {"Cookie": cookie})[1]  # nothing from a CDN
        grid = raw_get(port, "/grid.png", {"Cookie": cookie})
        assert grid[0] == 200 and grid[1][:8] == b"\x89PNG\r\n\x1a\n"

        url = f"http://127.0.0.1:{port}/?token={TOKEN}"
        looks = [Dom(page_dom(url)) for _ in range(3)]
        first = looks[0]
        assert first.text("run").startswith(run["preset"]) and run["run_id"] in first.text("run")
        # The plan: "step 12 of 2000", or on a machine too slow for it "of 650 (fitted: 2000 asked, …)".
        planned = re.search(
            r"step \d+ of (\d+)( \(fitted: (\d+) asked, [\d.]+ of [\d.]+ steps/s\))?", first.text("run")
        )
        assert planned, first.text("run")
        assert planned[2] is None or int(planned[1]) < int(planned[3])
        assert first.text("health") in ("healthy", "needs a look") and "open until" in first.text("open")
        meters = [dom.with_attribute("data-speaker") for dom in looks]
        assert [len(m) for m in meters] == [CHANNELS] * 3
        for speaker in range(CHANNELS):  # each speaker's meter moves from one look to the next
            assert len({float(m[speaker]["data-dbfs"]) for m in meters}) > 1, [m[speaker] for m in meters]
        projectors = first.with_attribute("data-projector")
        assert projectors and float(projectors[0]["data-change"]) > 0.25
        thumbnail = [a for a in first.with_attribute("src") if a["src"].startswith("data:image/jpeg;base64,")]
        assert thumbnail and len(thumbnail[0]["src"]) > 1000  # a picture, not a blank
        assert first.with_attribute("points")  # sparklines drawn from the streams' history
        states = {a["data-role"]: None for a in first.with_attribute("data-role")}
        assert set(states) == {"trainer", "sound", "image"}

        # One page held open, in real time, as on the technician's phone: it only polls /status, so it
        # must come through a child's restart and a reload by itself.
        with OpenPage(url) as page:
            watched = _watch(page, lambda dom: len(dom.with_attribute("data-speaker")) and _image_row(dom) is not None)
            assert watched[-1].text("name") == loaded.config.installation.name

            # A child killed while the page watches: it shows as restarted (its state while it restarts,
            # when a 2 s poll falls in that window, and its count of restarts), then playing again.
            row = _image_row(watched[-1])
            assert row is not None
            restarts = row[1]
            os.kill(status["children"]["image"]["pid"], signal.SIGKILL)
            seen: list[tuple[str, int] | None] = []

            def back_playing(dom: Dom) -> bool:
                seen.append(_image_row(dom))
                return seen[-1] is not None and seen[-1] == ("playing", restarts + 1)

            watched = _watch(page, back_playing, 90)
            assert "child_died" in watched[-1].text("log") or "child_died" in watched[-1].html

            # A reload (SIGHUP, as systemctl reload sends): the same page shows the reloaded config,
            # and its meters still move.
            renamed = '[installation]\nname = "Renamed by a reload"\n[http]'
            Path(loaded.source).write_text(Path(loaded.source).read_text().replace("[http]", renamed, 1))
            os.kill(daemon.process.pid, signal.SIGHUP)
            daemon.wait_for(lambda e: e["event"] == "config_reloaded", 10, "the reload")
            watched = _watch(page, lambda dom: dom.text("name") == "Renamed by a reload", 20)
            levels = [[m["data-dbfs"] for m in dom.with_attribute("data-speaker")] for dom in watched[-1:]]
            time.sleep(2.5)  # a poll later
            levels.append([m["data-dbfs"] for m in Dom(page.dom()).with_attribute("data-speaker")])
            assert len(levels[0]) == CHANNELS and levels[0] != levels[1], levels

        shot = page_screenshot(url, tmp_path / "status-page.png")
        assert shot.stat().st_size > 20_000
        if os.environ.get("TWOS_AND_SEVENS_SAVE_SCREENSHOT"):  # how docs/img/status-page.png is made
            shutil.copy(shot, Path(os.environ["TWOS_AND_SEVENS_SAVE_SCREENSHOT"]))
    assert daemon.exit_code == 0


def test_the_grid_served_is_the_newest_whole_png_never_one_being_written(tmp_path):
    from daemon.recording.recorder import save_png
    from daemon.supervision.page import latest_grid

    grids = tmp_path / "run-1" / "grids"
    grids.mkdir(parents=True)
    assert latest_grid(tmp_path, "run-1") is None
    save_png(grids / "step-0000005.png", np.zeros((4, 4), np.uint8))
    (grids / "step-0000010.png.partial.png").write_bytes(b"")  # the recorder in the middle of the next one
    assert latest_grid(tmp_path, "run-1") == (grids / "step-0000005.png").read_bytes()
    (grids / "step-0000010.png").write_bytes(b"\x89PN")  # not even a PNG's signature (a disk gone bad)
    assert latest_grid(tmp_path, "run-1") == (grids / "step-0000005.png").read_bytes()
    assert latest_grid(tmp_path, "../run-1") is None and latest_grid(tmp_path, "") is None


def test_the_token_as_a_cookie_survives_quoting_and_other_cookies_and_nan_reaches_the_browser_as_null():
    import math

    from daemon.config.schema import Http
    from daemon.supervision.monitor import Monitor

    token = "ab+c/d== x"  # what `openssl rand -base64` and a careless hand make
    status = {"healthy": True, "problems": [], "streams": {"similarity": math.nan, "rms": math.inf}, "run": {}}
    monitor = Monitor(Http(port=0, token=token), lambda: status)
    try:
        port = monitor.port
        code, _, headers = raw_get(port, "/?token=" + urllib.parse.quote(token, safe=""))
        assert code == 200
        cookie = headers["Set-Cookie"].split(";")[0]
        others = 'theirs={"a": 1}; broken="half; ' + cookie + "; last=1"  # another site's cookies on this host
        code, body, _ = raw_get(port, "/status", {"Cookie": others})
        assert code == 200, body
        assert json.loads(body)["streams"] == {"similarity": None, "rms": None}  # JSON.parse-able: no NaN
        assert b"NaN" not in body and b"Infinity" not in body
        assert raw_get(port, "/status", {"Cookie": "twos_and_sevens_token=" + urllib.parse.quote("ab c")})[0] == 401
        assert raw_get(port, "/status", {"Authorization": f"Bearer {token}"})[0] == 200
    finally:
        monitor.close()
