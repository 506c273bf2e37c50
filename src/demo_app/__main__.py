"""`python -m demo_app [--host H] [--port P]`: serve the demo app (the container's CMD)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from demo_app.config import ENV_BROKEN, ENV_HOST, ENV_PORT, AppConfig, Broken, ConfigError


def main(argv: list[str] | None = None) -> int:
    try:
        config = AppConfig.from_env()
    except ConfigError as e:
        print(f"demo_app: error: {e}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m demo_app", description=__doc__)
    parser.add_argument("--host", default=config.host, help=f"address to bind (env {ENV_HOST})")
    parser.add_argument(
        "--port", type=int, default=config.port, help=f"port to listen on (env {ENV_PORT})"
    )
    args = parser.parse_args(argv)
    config = replace(config, host=args.host, port=args.port)

    if config.broken is Broken.CRASH:
        print(
            f"demo_app: {ENV_BROKEN}=crash: this release crashes at start-up "
            "(a simulated bad release)",
            file=sys.stderr,
        )
        return 1

    # Imported here so a bad setting is reported without loading the web stack.
    from demo_app.app import create_app
    from demo_app.server import build_server

    server = build_server(create_app(config), config)
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
