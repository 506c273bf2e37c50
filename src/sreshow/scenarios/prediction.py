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

from collections.abc import Mapping, Sequence
from typing import Any

from sreshow.adapters.manifests import MANIFESTS_DIR, monitoring_files
from sreshow.core.alert_band import FaultHint, fault_hint, predict_bands
from sreshow.core.alert_config import AlertTiming, alert_timings
from sreshow.core.alert_judge import judge_run
from sreshow.core.timeline import TimelineEvent
from sreshow.core.timescale import scale_monitoring
from sreshow.scenarios import spec as s

MONITORING_DIR = MANIFESTS_DIR / "monitoring"


def predicted_vs_observed(
    spec: s.ScenarioSpec,
    events: Sequence[TimelineEvent],
    time_scale: float,
    files: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The journal's `predicted` entries: one per alert the scenario expects to fire,
    from `files` (default: the shipped monitoring files) at `time_scale`."""
    alerts = [
        e.alert
        for e in spec.expectations
        if isinstance(e, s.AlertExpectation) and not e.never_fires
    ]
    if not alerts:
        return []
    scaled = scale_monitoring(files or monitoring_files(MONITORING_DIR), time_scale).files
    hints = {t.alert: _hint(t, _first_fault(spec)) for t in alert_timings(scaled, alerts)}
    bands = predict_bands(scaled, alerts, hints=hints)
    return [judgement.as_json() for judgement in judge_run(bands, events)]


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
