"""Predicted vs observed, for one run: each alert the scenario expects to fire gets the
band that the monitoring files, scaled to the stack's clocks, allow for its firing and
its notification after the scenario's first fault (`core.alert_band`). The run's
timeline is then held against it (`core.alert_judge`). The journal's `predicted`
section holds the result; an alert outside its band carries the likely cause.

The hint for the band comes from the scenario's first `inject` step: its error rate or
added latency, when every replica takes it. Whether the alert's Alertmanager group
still exists from an earlier run is not known here, so the notification band allows
both a new group (group_wait) and an existing one (the group_interval tick).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sreshow.adapters.manifests import MANIFESTS_DIR, monitoring_files
from sreshow.core.alert_band import AlertBand, FaultHint, fault_hint, predict_bands
from sreshow.core.alert_config import AlertTiming, alert_timings
from sreshow.core.alert_judge import judge_run
from sreshow.core.timeline import TimelineEvent, format_band
from sreshow.core.timescale import scale_monitoring
from sreshow.scenarios import spec as s

MONITORING_DIR = MANIFESTS_DIR / "monitoring"


def predicted_bands(
    spec: s.ScenarioSpec, time_scale: float, files: Mapping[str, str] | None = None
) -> list[AlertBand]:
    """The band of each alert the scenario expects to fire, from `files` (default: the
    shipped monitoring files) at `time_scale`. ValueError when a file cannot be read."""
    alerts = [
        e.alert
        for e in spec.expectations
        if isinstance(e, s.AlertExpectation) and not e.never_fires
    ]
    if not alerts:
        return []
    scaled = scale_monitoring(files or monitoring_files(MONITORING_DIR), time_scale).files
    hints = {t.alert: _hint(t, _first_fault(spec)) for t in alert_timings(scaled, alerts)}
    return predict_bands(scaled, alerts, hints=hints)


def judged(bands: Sequence[AlertBand], events: Sequence[TimelineEvent]) -> list[dict[str, Any]]:
    """The journal's `predicted` entries: each band held against what the run saw."""
    return [judgement.as_json() for judgement in judge_run(bands, events)]


def band_line(band: AlertBand) -> str:
    """`HighErrorRate: fires 11.6 s to 15.6 s after the fault, notified 11.6 s to 45.6 s`."""
    notify = band.notify
    notified = (
        f"notified {format_band(notify.earliest_s, notify.latest_s)}"
        if math.isfinite(notify.latest_s)
        else "never notified (no Alertmanager route takes it)"
    )
    return (
        f"{band.alert}: fires {format_band(band.fire.earliest_s, band.fire.latest_s)} "
        f"after the fault, {notified}"
    )


def _first_fault(spec: s.ScenarioSpec) -> s.Inject | None:
    return next((step.inject for step in spec.steps if isinstance(step, s.InjectStep)), None)


def _hint(timing: AlertTiming, fault: s.Inject | None) -> FaultHint:
    """How far the fault takes the alert's condition, when every replica has it."""
    if fault is None or not fault.targets.all:
        return FaultHint(group="unknown")
    try:
        return fault_hint(
            timing,
            error_share=fault.error_rate,
            latency_s=fault.latency_seconds,
            group="unknown",
        )
    except ValueError:  # the fault cannot take this rule over its threshold
        return FaultHint(group="unknown")
