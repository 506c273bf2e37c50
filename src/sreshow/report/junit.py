"""JUnit XML of one run, so a CI pipeline can gate on a drill and show what failed.

    <testsuites name="sreshow">
      <testsuite name=SCENARIO tests=… failures=… errors=… time=DURATION timestamp=…>
        <properties> platform, time_scale, verdict </properties>
        <testcase classname=SCENARIO name=EXPECTATION>     one per expectation
          <failure type=KIND message="measured …; bound …">detail, next step</failure>
        <testcase classname=SCENARIO name="the run: steps and steady state">
          <failure> when a step failed or the steady state did not hold,
          <error> when the run was stopped (an error, an interrupt)
        <system-out> the timeline, one event a line </system-out>

The run's own test case is always there (so a run's cases keep their names from one
pipeline to the next): a run whose steps failed has a failed verdict even when every
expectation that could be judged held. Times on the testsuite are seconds as measured;
figures in messages carry their real-time equivalent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from sreshow.core.timeline import NOT_AVAILABLE
from sreshow.report import content

RUN_CASE = "the run: steps and steady state"


def render_junit(journal: Mapping[str, Any]) -> str:
    """The JUnit XML document for one journal: one testsuite, a testcase per expectation
    and one for the run itself."""
    scenario = str(journal.get("scenario") or "unnamed run")
    suite = ET.Element("testsuite", name=scenario)
    properties = ET.SubElement(suite, "properties")
    for name in ("platform", "time_scale", "verdict"):
        ET.SubElement(properties, "property", name=name, value=str(journal.get(name, "")))
    failures = errors = 0
    for line in content.expectation_lines(journal):
        case = ET.SubElement(suite, "testcase", classname=scenario, name=line.expectation)
        if not line.passed:
            failures += 1
            failure = ET.SubElement(
                case, "failure", type=line.kind or "expectation", message=_message(line)
            )
            failure.text = f"{line.detail}\nnext step: {line.next_step}"
    run_case = ET.SubElement(suite, "testcase", classname=scenario, name=RUN_CASE)
    stopped, broken = _stopped(journal), _broken(journal)
    if stopped:
        errors += 1
        ET.SubElement(run_case, "error", type="stopped", message=stopped)
    elif broken:
        failures += 1
        ET.SubElement(run_case, "failure", type="run", message=broken)
    out = ET.SubElement(suite, "system-out")
    out.text = "\n".join(f"[{row.t:>8}] {row.text}" for row in content.event_rows(journal))
    seconds = journal.get("duration_s")
    duration = f"{float(seconds):.3f}" if isinstance(seconds, int | float) else "0"
    tests = str(len(suite.findall("testcase")))
    suite.attrib.update(
        tests=tests, failures=str(failures), errors=str(errors), skipped="0", time=duration
    )
    if started := content.started_iso(journal):
        suite.set("timestamp", started)
    root = ET.Element("testsuites", name="sreshow", tests=tests)
    root.attrib.update(failures=str(failures), errors=str(errors), time=duration)
    root.append(suite)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return content.redact(f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n')


def _message(line: content.ExpectationLine) -> str:
    """`measured 28.7 s (4m 47s real-time), bound 24 s (4m real-time)`; what happened
    instead when nothing was measured; a journal from before figures were kept has
    only the detail."""
    if line.kind is None:
        return f"{line.detail} (expected: {line.expectation})"
    if line.measured == NOT_AVAILABLE:
        return f"{line.detail}, bound {line.bound}"
    return f"measured {line.measured}, bound {line.bound}"


def _stopped(journal: Mapping[str, Any]) -> str:
    if journal.get("interrupted"):
        return "the run was interrupted (its cleanup ran)"
    error = journal.get("error")
    return f"stopped by: {error}" if isinstance(error, str) and error else ""


def _broken(journal: Mapping[str, Any]) -> str:
    problems = []
    steps = journal.get("steps")
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, Mapping) and step.get("phase") == "steps" and not step.get("passed"):
            problems.append(
                f"step {step.get('index')} ({step.get('description')}) failed: {step.get('detail')}"
            )
    steady = journal.get("steady_state")
    if isinstance(steady, Mapping):
        problems += [
            f"steady state {when}: {state}" for when, state in steady.items() if state == "failed"
        ]
    return "; ".join(problems)
