"""Speaker notes for a tour, in Markdown: each step's cue, what the audience will see
and when (the scenario's expectations at the chosen time scale), and how long it
should take."""

from __future__ import annotations

from collections.abc import Sequence

from sreshow.core.timeline import format_seconds
from sreshow.scenarios import spec as s
from sreshow.scenarios.plan import RunClock, describe_expectation
from sreshow.walkthrough.timing import Expected
from sreshow.walkthrough.tour import Stop, Tour


def speaker_notes(
    tour: Tour, stops: Sequence[Stop], clock: RunClock, expected: Sequence[Expected | None]
) -> str:
    """The notes of `tour` at `clock`'s time scale; `expected`: each stop's length."""
    scale = clock.time_scale
    known = [e for e in expected if e is not None]
    total = sum(e.seconds for e in known) + tour.auto_pause * len(stops)
    lines = [
        f"# {tour.title}: speaker notes",
        "",
        tour.summary,
        "",
        f"Time scale {scale:g}"
        + (
            f": every clock of the stack {1 / scale:g}x faster than real time."
            if scale != 1
            else ": real time."
        ),
        f"Expected length: {_length(total, all(e.measured for e in known))}, "
        f"with {format_seconds(tour.auto_pause)} at each cue.",
        "",
        "Keys: space or → next · p pause · r repeat · q quit · x emergency stop.",
    ]
    for stop, length in zip(stops, expected, strict=True):
        lines += ["", f"## {stop.number}. {stop.step.title}", ""]
        lines += [f"> {line}" if line else ">" for line in stop.step.cue.strip().splitlines()]
        lines.append("")
        if stop.spec is None:
            lines.append("The scorecard: detect, notify, recover and RTO of every step so far.")
            continue
        lines.append(f"Runs `{stop.spec.name}` ({stop.spec.summary}); takes {_length_of(length)}.")
        for expectation in stop.spec.expectations:
            lines.append(f"- {_expected_at(expectation, stop.spec, clock)}")
    return "\n".join(lines) + "\n"


def _expected_at(expectation: s.Expectation, spec: s.ScenarioSpec, clock: RunClock) -> str:
    """An expectation with its limits at the time scale: `… (24 s at time scale 0.1)`."""
    text = describe_expectation(expectation, spec.slo)
    limits = [
        getattr(expectation, name)
        for name in (
            "firing_within",
            "notified_within",
            "resolved_within",
            "recovered_within",
            "rto_within",
        )
        if getattr(expectation, name, None) is not None
    ]
    if not limits or clock.time_scale == 1:
        return text
    scaled = ", ".join(format_seconds(clock.scaled(limit)) for limit in limits)
    at_scale = f"{scaled} at time scale {clock.time_scale:g}"
    if text.endswith(")"):  # "… (RTO)": one parenthesis, not two in a row
        return f"{text[:-1]}; {at_scale})"
    return f"{text} ({at_scale})"


def _length_of(expected: Expected | None) -> str:
    if expected is None:
        return "no time"
    return _length(expected.seconds, expected.measured)


def _length(seconds: float, measured: bool) -> str:
    if measured:
        return f"about {format_seconds(seconds)} (as measured last time)"
    return f"at most {format_seconds(seconds)} (not run at this time scale yet)"
