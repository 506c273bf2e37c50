"""One module per command: parse, call the platform, render, exit."""
