"""Presenter mode: a tour of scenarios shown full screen, at the speaker's pace."""
