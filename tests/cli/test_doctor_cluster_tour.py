"""`sreshow doctor` on the kubernetes platform and for the walkthrough: an unreachable
context, refused credentials, a missing kubeconfig or context each give their line and
fix; the tour resolves (or its file's line is named) and its length is told.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from sreshow.cli.app import main
from sreshow.report.journal import write_journal
from tests.cli.doctor_support import (
    api_server,
    doctor,
    failing,
    kubeconfig,
    line,
    listening,
    local_stack_up,
    record_kubernetes_stack,
)
from tests.conftest import free_port
from tests.unit.test_journal import result as journal_result

# --- kubernetes ----------------------------------------------------------------------


@pytest.mark.usefixtures("state")
def test_a_reachable_cluster_that_accepts_us_passes_printing_the_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server()
    with server.running() as url:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", url)))
        code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "stack")["detail"] == (
        "no kubernetes stack is up; `sreshow up --platform kubernetes` starts one"
    )
    assert [entry["check"] for entry in lines][:5] == [
        "stack",
        "kubeconfig",
        "context",
        "cluster",
        "credentials",
    ]
    assert line(lines, "context")["detail"] == (
        f"demo, the kubeconfig's current context (cluster demo-cluster at {url})"
    )
    assert line(lines, "cluster")["detail"] == f"Kubernetes v1.31.2 at {url}"
    assert [(method, path) for method, path, _ in server.received] == [
        ("GET", "/version"),
        ("GET", "/api/v1/namespaces?limit=1"),
    ]


@pytest.mark.usefixtures("state")
def test_an_unreachable_context_fails_naming_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", nowhere)))

    code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["cluster"])
    assert "credentials" not in [entry["check"] for entry in lines]
    assert line(lines, "context")["detail"].startswith("demo, the kubeconfig's current context")
    cluster = line(lines, "cluster")
    assert cluster["detail"].startswith(
        f"cannot reach the Kubernetes API server at {nowhere} (context demo): "
    )
    assert "Connection refused" in cluster["detail"]
    assert cluster["fix"] == (
        "start the cluster (the one-node cluster here: `make node-up`) or point context demo "
        "at a server that answers; `kubectl --context demo cluster-info` shows what it reaches"
    )


@pytest.mark.usefixtures("state")
def test_refused_credentials_are_a_line_of_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_server(namespaces_status=401).running() as url:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", url)))
        code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["credentials"])
    credentials = line(lines, "credentials")
    assert credentials["detail"] == (
        "GET /api/v1/namespaces: the API server refused the context's credentials "
        "(401: Unauthorized); check the context's user and its RBAC permissions"
    )
    assert credentials["fix"] == (
        "renew the credentials of context demo's user (token, client certificate or exec "
        "plugin) and check its RBAC: `kubectl --context demo auth can-i create namespaces`"
    )


@pytest.mark.usefixtures("state")
def test_no_kubeconfig_fails_saying_where_it_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["kubeconfig"])
    kubeconfig_line = line(lines, "kubeconfig")
    assert kubeconfig_line["detail"].startswith(
        f"no usable kubeconfig at {tmp_path / 'no-kubeconfig'} ("
    )
    assert kubeconfig_line["fix"].startswith("set KUBECONFIG to your cluster's kubeconfig")


@pytest.mark.usefixtures("state")
def test_an_unknown_context_fails_listing_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:9"))
    )

    code, lines = doctor(capsys, "--platform", "kubernetes", "--context", "staging")

    assert (code, failing(lines)) == (1, ["context"])
    assert line(lines, "context") == {
        "check": "context",
        "ok": False,
        "detail": "--context staging: no such context in the kubeconfig; use one of demo",
        "fix": "pass --context with one of the kubeconfig's: demo",
    }


def test_the_recorded_platform_is_checked_when_none_is_named(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", nowhere)))
    record_kubernetes_stack(state, nowhere)

    code, lines = doctor(capsys)

    assert code == 1
    assert failing(lines) == ["stack", "cluster"]
    assert line(lines, "stack")["detail"].startswith(
        f"a kubernetes stack is recorded in {state}, but its status cannot be read: "
        f"cannot reach the Kubernetes API server at {nowhere}"
    )
    assert line(lines, "context")["detail"].startswith("demo, the running stack's (cluster")


# --- the walkthrough: its tour and its length -------------------------------------------

TOUR_CHECKS = ["tour", "walkthrough length"]
SHOWCASE_SCENARIOS = ("baseline", "high-error-rate", "kill-pods", "spike-load", "rollback")
SHOWCASE_RUNS = ("a 30 s baseline", *SHOWCASE_SCENARIOS[1:])
LENGTH_ENDING = "with 5 s at each cue and no time for talking"


@pytest.mark.usefixtures("state", "tools")
def test_the_default_tour_is_found_with_every_scenario_and_an_upper_bound_on_its_length(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (0, [])
    assert [entry["check"] for entry in lines][-2:] == TOUR_CHECKS
    assert line(lines, "tour")["detail"] == (
        f"sre-showcase: 6 steps; every scenario found ({', '.join(SHOWCASE_RUNS)})"
    )
    length = line(lines, "walkthrough length")["detail"]
    assert re.fullmatch(
        r"at most (\d+h )?(\d+m)( \d\ds)? \(some steps not run at this scale yet\) at time "
        rf"scale 1, {LENGTH_ENDING}",
        length,
    ), length


@pytest.mark.usefixtures("tools")
def test_the_walkthrough_length_is_as_measured_last_time_at_the_running_stacks_scale(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number, name in enumerate(SHOWCASE_SCENARIOS, start=1):
        run = replace(
            journal_result(), scenario=name, platform="local", time_scale=0.1, duration_s=60.0
        )
        write_journal(run, state / "runs" / f"20260101T00000{number}Z-{name}")
    with listening() as port, local_stack_up(state, port, time_scale=0.1):
        code, lines = doctor(capsys, "--port", str(port))

    assert (code, failing(lines)) == (0, [])
    # Five steps of a minute each and six cues of 5 s.
    assert line(lines, "walkthrough length")["detail"] == (
        f"about 5m 30s as measured last time at time scale 0.1, {LENGTH_ENDING}"
    )


@pytest.mark.usefixtures("state", "tools")
def test_a_tour_file_given_with_tour_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tour = tmp_path / "short-show.yaml"
    tour.write_text(
        "name: short-show\ntitle: A short show\nsummary: a baseline and the scorecard\n"
        "steps:\n"
        "  - {title: Normal, cue: Normal looks like this., baseline: 30s}\n"
        "  - {title: The scorecard, cue: How it went., scorecard: true}\n",
        encoding="utf-8",
    )

    code, lines = doctor(capsys, "--port", str(free_port()), "--tour", str(tour))

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "tour")["detail"] == (
        "short-show: 2 steps; every scenario found (a 30 s baseline)"
    )
    # Its steady state (2m) before and after, its 30 s and the runner's restore (1m); a
    # cue of 5 s before each step.
    assert line(lines, "walkthrough length")["detail"] == (
        f"at most 5m 40s (some steps not run at this scale yet) at time scale 1, {LENGTH_ENDING}"
    )


@pytest.mark.usefixtures("state", "tools")
def test_an_unknown_tour_fails_naming_the_shipped_ones_and_has_no_length(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = doctor(capsys, "--port", str(free_port()), "--tour", "no-such-tour")

    assert (code, failing(lines)) == (1, ["tour"])
    assert line(lines, "tour") == {
        "check": "tour",
        "ok": False,
        "detail": "unknown walkthrough 'no-such-tour' (known: sre-showcase; or give the path "
        "of a tour's YAML file)",
        "fix": "fix the tour file, or name a shipped tour (sre-showcase) with --tour",
    }
    assert "walkthrough length" not in [entry["check"] for entry in lines]


@pytest.mark.usefixtures("state", "tools")
def test_a_broken_tour_file_fails_with_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tour = tmp_path / "broken.yaml"
    tour.write_text(
        "name: broken\ntitle: Broken\nsummary: a step of no kind\nsteps:\n"
        "  - {title: Nothing, cue: Say it.}\n",
        encoding="utf-8",
    )

    code = main(["doctor", "--port", str(free_port()), "--tour", str(tour)])
    out = capsys.readouterr().out

    assert code == 1
    row = next(text for text in out.splitlines() if " tour " in text)
    assert "✗" in row
    assert f"{tour}:5: steps[0]: 0 kinds given" in row
    assert "fix the tour file, or name a shipped tour (sre-showcase) with --tour" in row
    assert " walkthrough length " not in out
    assert out.splitlines()[-1] == "Not ready: 1 of 11 checks failed; each says its fix."
