"""A concrete next step for a failed expectation, from what it checked and what the run
measured: an alert that never fired points at its rule, one that fired late at its
`for:` and the evaluation interval, a page that never came at Alertmanager's route and
the webhook, a burnt budget at how long the fault ran."""

from __future__ import annotations

from sreshow.core.timeline import format_seconds

RULES = "manifests/monitoring/prometheus/rules/"
ROUTES = "manifests/monitoring/alertmanager/alertmanager.yml"


def _both(step: str) -> tuple[str, str]:
    return step, step


# kind → (the step when nothing was measured, the step when the figure was over its
# bound); {alert} is the alert's name, {over} by how much it missed, when known.
_STEPS: dict[str, tuple[str, str]] = {
    "firing": (
        "{alert} never fired: check its rule's expression and `for:` in "
        f"{RULES} against the fault the scenario injects (did the error share or latency "
        "cross the threshold long enough?); `sreshow status` shows the rule's state",
        "{alert} fired late{over}: its `for:` plus one evaluation interval is the "
        f"floor; compare them (scaled by the time scale) with the limit in {RULES}, and "
        "with the predicted band in this report",
    ),
    "notified": (
        "no page named {alert}: check Alertmanager's route for it (receiver, `group_wait`, "
        f"`group_interval`) in {ROUTES} and the webhook (`sreshow doctor` checks it; "
        "without one the local sink records every message)",
        "the page for {alert} came late{over}: Alertmanager waits `group_wait` "
        f"before the first message of a group; check it in {ROUTES} against the limit",
    ),
    "resolved": (
        "{alert} never resolved: check that the remediation ran (events table) and cleared "
        "the fault on every replica, then the rule's range window; `sreshow status` shows "
        "what still fires",
        "{alert} resolved late{over}: its range window keeps the bad samples in the "
        f"rate after the fix; check the window and `for:` in {RULES}, and that the "
        "remediation step ran when the events table says",
    ),
    "never_fires": _both(
        "{alert} fired although it should not: check which replica or fault tripped it in "
        f"the events table, then its threshold and `for:` in {RULES}"
    ),
    "budget": _both(
        "too many requests failed for the budget: shorten the time the fault runs (detect "
        "and remediate sooner), or raise max_error_budget_burn if this fault is meant to "
        "burn that much"
    ),
    "recovery": _both(
        "recovery was slow or never came: find in the events table which came last of the "
        "alerts resolved, the service healthy and the replicas whole again; replicas that "
        "start slowly point at the readiness probe and the image"
    ),
    "rto": _both(
        "the service was unhealthy too long: check that the remediation step ran and when "
        "each replica was ready again (events table); the drill's slowest phase says where "
        "the time went"
    ),
}
_UNKNOWN = "read the detail and the events around it in the table below"

# The kind of an expectation in a journal that predates kinds, by its words.
_WORDS = {
    " is notified within ": "notified",
    " fires within ": "firing",
    " resolves within ": "resolved",
    " never fires": "never_fires",
    "error budget burned at most": "budget",
    "recovers within": "recovery",
    "(RTO)": "rto",
}


def next_step(
    kind: str | None,
    expectation: str,
    *,
    happened: bool,
    measured: float | None = None,
    limit: float | None = None,
) -> str:
    """What to look at first when `expectation` failed: `happened` says whether what it
    waits for happened at all (late, then), `measured` and `limit` by how much it
    missed. `kind` as the journal keeps it; None for journals before kinds, then read
    from the expectation's words."""
    kind = kind or next((k for phrase, k in _WORDS.items() if phrase in expectation), None)
    if kind not in _STEPS:
        return _UNKNOWN
    never, late = _STEPS[kind]
    over = (
        "" if measured is None or limit is None else f" ({format_seconds(measured - limit)} over)"
    )
    return (late if happened else never).format(alert=expectation.split(" ", 1)[0], over=over)
