"""The demo service sreshow stands up, breaks on purpose and measures.

`python -m demo_app` starts it; `create_app()` builds the ASGI app for tests.
"""

__version__ = "1.0.0"

# The admin token's variables, which the CLI names too (`sreshow --help`): here rather than
# in demo_app.config, so naming them does not build the app's configuration classes.
ENV_ADMIN_TOKEN = "SRESHOW_ADMIN_TOKEN"  # noqa: S105 (a variable name)
ENV_ADMIN_TOKEN_FILE = "SRESHOW_ADMIN_TOKEN_FILE"  # noqa: S105
# The header that carries the admin token past a proxy that takes `Authorization` for
# itself (the Kubernetes API server's pod proxy); see demo_app.admin.
FORWARDED_AUTHORIZATION = "X-Forwarded-Authorization"
