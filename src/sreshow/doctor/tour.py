"""The walkthrough's readiness: its tour resolves (every step's scenario found), and
how long it should take at the running stack's time scale."""

from __future__ import annotations

from collections.abc import Iterator

from sreshow.core.timeline import format_seconds
from sreshow.doctor.model import Check, Inspection
from sreshow.errors import UsageError
from sreshow.walkthrough.timing import expected_steps, past_durations, run_clock
from sreshow.walkthrough.tour import DEFAULT_TOUR, resolve_tour, shipped_tours, tour_stops


def tour_checks(inspection: Inspection) -> Iterator[Check]:
    """`tour`: every scenario of the tour is found; `walkthrough length`: its expected
    length (as measured last time on this platform at this scale, else at most)."""
    name = inspection.tour or DEFAULT_TOUR
    try:
        tour, path = resolve_tour(name)
        stops = tour_stops(tour, path)
    except UsageError as e:
        shipped = ", ".join(shipped_tours()) or "none"
        yield Check.failed(
            "tour", str(e), f"fix the tour file, or name a shipped tour ({shipped}) with --tour"
        )
        return
    runs = [
        stop.step.scenario or f"a {format_seconds(stop.step.baseline)} baseline"
        for stop in stops
        if stop.step.scenario is not None or stop.step.baseline is not None
    ]
    yield Check.passed(
        "tour", f"{tour.name}: {len(stops)} steps; every scenario found ({', '.join(runs)})"
    )
    status = inspection.running_stack()
    scale = status.time_scale if status is not None else 1.0
    clock = run_clock(scale)
    past = past_durations(inspection.settings.state_dir / "runs", inspection.platform, scale)
    expected = [e for e in expected_steps(stops, clock, past) if e is not None]
    total = sum(e.seconds for e in expected) + tour.auto_pause * len(stops)
    how = (
        "about {} as measured last time"
        if all(e.measured for e in expected)
        else "at most {} (some steps not run at this scale yet)"
    )
    yield Check.passed(
        "walkthrough length",
        how.format(format_seconds(total)) + f" at time scale {scale:g}, with "
        f"{format_seconds(tour.auto_pause)} at each cue and no time for talking",
    )
