"""Files sreshow writes that others read while it writes them: stack records, target
lists, secrets, journals."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE = 0o600


def write_atomically(path: Path, text: str, *, mode: int = PRIVATE) -> None:
    """Replace `path` with `text` in one rename, so a reader never sees half a file;
    the file has `mode` from its first byte (private unless told otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
