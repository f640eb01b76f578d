"""The drill report in a real headless browser (Debian's chromium): a real drill of the bundled
example (`failover drill` against the embedded emulator, which runs every job, through the real SDK), its page rendered,
screenshotted (kept as a test artifact) and its DOM read back.

The screenshot's path is printed (pytest -s, or the captured output of a failure); with
USQLRW_TEST_ARTIFACTS=DIR it is also copied there."""
import os
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from usqlrw.failover import load_plan

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(.ci/run installs it as root: apt-get install -y chromium)")
WIDTH, HEIGHT = 1280, 1400
OK_GREEN = (0x1A, 0x7F, 0x37)      # --ok in the page's CSS: succeeded steps and timeline bars


def chromium(*args, home: Path) -> subprocess.CompletedProcess:
    """Headless Chromium as the machine guide says it runs here (also as root), with its own empty profile."""
    profile = home / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    env = dict(os.environ, HOME=str(home))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)


def png_pixels(data: bytes):
    """(width, height, rows of RGB tuples) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


class Dom(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.ids, self.tags = set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    d = tmp_path_factory.mktemp("drill")
    shutil.copytree(ROOT / "examples", d, dirs_exist_ok=True)
    usqlrw = [sys.executable, "-m", "usqlrw"]
    for args in (["failover", "drill", "-c", "dr.toml", "--out", "plan", "project"],   # the README's drill
                 ["failover", "report", "--html", "plan"]):
        p = subprocess.run(usqlrw + args, cwd=d, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, (args, p.stderr)
    return d


def test_the_report_page_renders_in_chromium(drill, tmp_path):
    page = drill / "plan" / "report.html"
    shot = tmp_path / "failover-report.png"
    p = chromium(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri(), home=tmp_path)
    assert shot.is_file(), p.stderr[-2000:]
    print(f"\nscreenshot of the drill report: {shot}")
    if os.environ.get("USQLRW_TEST_ARTIFACTS"):
        Path(os.environ["USQLRW_TEST_ARTIFACTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["USQLRW_TEST_ARTIFACTS"]) / shot.name)
    w, h, rows = png_pixels(shot.read_bytes())
    assert (w, h) == (WIDTH, HEIGHT)
    pixels = [px for row in rows for px in row]
    not_white = sum(px != (255, 255, 255) for px in pixels)
    assert 0.02 < not_white / len(pixels) < 0.6           # text, tables and bars on a white page
    assert len(set(pixels)) > 50                           # anti-aliased text, several colours: not blank
    green = [(y, x) for y, row in enumerate(rows) for x, px in enumerate(row)
             if all(abs(px[i] - OK_GREEN[i]) <= 6 for i in range(3))]
    assert len(green) > 2000, "the timeline's bars and the succeeded badges are drawn"
    # the timeline's bars lie in the right part of the page, each step's on its own row
    bar_rows = {y for y, x in green if x > WIDTH // 3}
    assert len(bar_rows) > 6 * 8


def test_the_rendered_dom_holds_every_step(drill, tmp_path):
    page = drill / "plan" / "report.html"
    p = chromium("--dump-dom", page.as_uri(), home=tmp_path)
    assert p.returncode == 0 and "</html>" in p.stdout, p.stderr[-2000:]
    dom = Dom(p.stdout)
    steps = load_plan(drill / "plan").steps
    assert len(steps) == 6
    for s in steps:
        assert f"step-{s['id']}" in dom.ids and f"tl-{s['id']}" in dom.ids
    assert {"timeline", "steps", "tables", "outcome"} <= dom.ids and "script" not in dom.tags
    assert 'id="outcome">complete<' in p.stdout
