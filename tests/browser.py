"""Pages opened in a real browser: headless Chromium (the Debian package) with a
profile of the test's own and no name it could resolve, so a page that fetched
anything would fail; its DOM parsed for the charts it draws."""

from __future__ import annotations

import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.tools import require_tool

WIDTH, HEIGHT = 1280, 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium(tmp_path: Path, *args: str) -> str:
    """Headless Chromium with a profile of the test's own and no network to reach."""
    result = subprocess.run(
        [
            require_tool("chromium"),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            # a page that fetched from anywhere but this machine would fail
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--window-size={WIDTH},{HEIGHT}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Charts(HTMLParser):
    """Each chart figure in a DOM: its key, how many lines it should draw, and the
    points drawn by each series' line paths."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, Any]] = []
        self._series: list[int | None] = []  # the serie-N of each open <g>, if any
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "figure" and "chart" in found.get("class", "").split():
            self.charts.append(
                {"key": found["data-chart"], "lines": int(found["data-lines"]), "drawn": {}}
            )
        elif tag == "g":
            index = re.search(r"\bserie-(\d+)\b", found.get("class", ""))
            self._series.append(int(index[1]) if index else None)
        elif tag == "path" and self.charts and "line" in found.get("class", "").split():
            series = next((s for s in reversed(self._series) if s is not None), None)
            if series is not None:
                points = len(re.findall(r"-?\d+(?:\.\d+)?", found.get("d", ""))) // 2
                drawn = self.charts[-1]["drawn"]
                drawn[series] = drawn.get(series, 0) + points

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self._series:
            self._series.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def dom(tmp_path: Path, page: Path | str) -> Charts:
    """The charts of `page` (a file or a URL) as Chromium's DOM has them."""
    parser = Charts()
    parser.feed(chromium(tmp_path, "--dump-dom", page.as_uri() if isinstance(page, Path) else page))
    return parser


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
