"""Run records: the journal (JSON) every run writes; renderers build on it."""
