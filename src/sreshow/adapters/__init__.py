"""One module per external system; each is the one place that talks to it."""
