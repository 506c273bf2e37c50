"""sreshow: stand up a production-shaped service, break it on purpose, measure what happens."""

__version__ = "0.1.0"
