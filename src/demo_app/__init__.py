"""The demo service sreshow stands up, breaks on purpose and measures.

`python -m demo_app` starts it; `create_app()` builds the ASGI app for tests.
"""

__version__ = "1.0.0"
