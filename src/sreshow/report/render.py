"""Write a run's reports: report.md and report.html next to its journal, JUnit XML where
asked. Every file is written as the journal is: atomically, private (0600).

A run writes them as soon as its journal is written; `sreshow report` writes them again
from a stored journal, with the same functions, so both give the same files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sreshow.errors import UsageError
from sreshow.files import write_atomically
from sreshow.report.journal import JOURNAL_FILE

MARKDOWN_FILE = "report.md"
HTML_FILE = "report.html"


def write_reports(journal: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write `directory/report.md` and `directory/report.html` for `journal`; their paths."""
    from sreshow.report.html import render_html
    from sreshow.report.markdown import render_markdown

    markdown, html = directory / MARKDOWN_FILE, directory / HTML_FILE
    write_atomically(markdown, render_markdown(journal))
    write_atomically(html, render_html(journal))
    return [markdown, html]


def write_junit(journal: Mapping[str, Any], path: Path) -> Path:
    """Write the JUnit XML of `journal` to `path` (its folder made if missing); `path`."""
    from sreshow.report.junit import render_junit

    write_atomically(path, render_junit(journal))
    return path


def check_junit_path(path: Path | None) -> None:
    """`--junit FILE` can be written: not a directory, and no file stands where its
    folder should be (exit 2 before a run, not after it)."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--junit {path} is a directory; give a file name, e.g. {path}/drill.xml")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(
                    f"--junit {path}: {parent} is a file, so the XML cannot go there; "
                    "give a path in a directory"
                )
            return


def read_journal(path: Path) -> dict[str, Any]:
    """The journal at `path` (a run's folder or its journal.json); UsageError naming the
    file when it cannot be read or is not a journal."""
    file = path / JOURNAL_FILE if path.is_dir() else path
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{file}: no journal there; `sreshow runs` lists the stored runs"
        ) from None
    except OSError as e:
        raise UsageError(f"{file}: cannot read it ({e.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{file}: not a journal (not JSON: {e})") from None
    if not isinstance(record, dict) or "scenario" not in record:
        raise UsageError(f"{file}: not a journal (no `scenario` in it)")
    return record
