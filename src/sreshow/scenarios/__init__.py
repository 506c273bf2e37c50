"""Named failure scenarios: their files (spec), the steps, the runner and the load."""
