"""`sreshow --help` stays instant (style rule 10): it loads none of the slow libraries.

How long it takes is measured by bench/cli_startup.py against a bare interpreter, never
asserted here; what it loads is checked here, the same on every machine.
"""

from __future__ import annotations

import subprocess
import sys

# Each belongs inside the command that needs it (Rich: the commands that print).
SLOW_PACKAGES = {
    "rich", "pydantic", "yaml", "httpx", "fastapi", "uvicorn", "prometheus_client", "psutil",
    "kubernetes", "boto3",
}  # fmt: skip

HELP_THEN_MODULES = """
import sys
from sreshow.cli.app import main
code = main(["--help"])
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
sys.exit(code)
"""


def test_help_loads_none_of_the_slow_libraries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HELP_THEN_MODULES], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: sreshow")
    loaded = sorted(SLOW_PACKAGES & set(done.stderr.split()))
    assert loaded == [], f"`sreshow --help` imports {', '.join(loaded)}; import it in its command"
