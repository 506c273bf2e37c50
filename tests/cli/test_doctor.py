"""`sreshow doctor`: each condition that would spoil a show gives its line, its fix and
exit 1; a machine that is ready exits 0.

The real command runs (`sreshow.cli.app.main`) on a temporary state dir. Binaries are
stand-in scripts printing a version on a PATH of their own (and the installed ones
where they exist); a taken port is a real listening socket; a cluster is a kubeconfig
whose server is a closed port or a small HTTP server in a thread answering as an API
server would; a Slack webhook is the same kind of server.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sreshow import doctor as doctor_checks
from sreshow.adapters.local import lifecycle as local_lifecycle
from sreshow.adapters.local.lifecycle import REQUIRED_BINARIES
from sreshow.cli.app import main
from sreshow.doctor import Check, Inspection, diagnose, inspection_for
from sreshow.doctor.stack import judge_clock
from sreshow.platforms import LIFECYCLES, Platforms
from sreshow.settings import Settings
from tests.cli.doctor_support import (
    NOW,
    answering,
    api_server,
    doctor,
    failing,
    fake_binary,
    kubeconfig,
    line,
    listening,
    local_stack_up,
    record_kubernetes_stack,
)
from tests.conftest import free_port
from tests.tools import require_tool

# --- local ---------------------------------------------------------------------------


@pytest.mark.usefixtures("tools")
def test_a_ready_local_machine_passes_every_check_and_exits_0(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()

    code, lines = doctor(capsys, "--port", str(port))

    assert failing(lines) == []
    assert code == 0
    assert not state.exists()  # doctor only looks
    assert [entry["check"] for entry in lines] == [
        "stack",
        *(binary.name for binary, _ in REQUIRED_BINARIES),
        "app port",
        "clock",
        "time scale",
        "webhook",
        "admin token",
        "tour",
        "walkthrough length",
    ]
    assert line(lines, "stack")["detail"] == "no local stack is up; `sreshow up` starts one"
    assert line(lines, "haproxy")["detail"].startswith("2.5.1 at ")
    assert line(lines, "app port")["detail"] == (
        f"127.0.0.1:{port} is free (the stack's other servers take free ports)"
    )
    assert line(lines, "webhook")["detail"].startswith(
        "not configured: the stack's built-in sink records the notifications"
    )


@pytest.mark.usefixtures("state")
def test_the_installed_binaries_are_found_with_their_versions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for binary, _ in REQUIRED_BINARIES:
        require_tool(binary.name)

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (0, [])
    for binary, minimum in REQUIRED_BINARIES:
        detail = line(lines, binary.name)["detail"]
        assert f" at {shutil.which(binary.name)} (needs >= {'.'.join(map(str, minimum))})" in detail


@pytest.mark.usefixtures("state")
def test_a_missing_binary_fails_naming_the_package_to_install(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tools / "haproxy").unlink()

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert code == 1
    assert failing(lines) == ["haproxy"]
    assert line(lines, "haproxy") == {
        "check": "haproxy",
        "ok": False,
        "detail": "not found on PATH",
        "fix": "install it: `sudo apt-get install haproxy` (Debian/Ubuntu) or "
        "`brew install haproxy` (macOS), or run `make demo`",
    }


@pytest.mark.usefixtures("state")
def test_a_binary_older_than_the_stack_needs_fails(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_binary(tools, "prometheus", "2.31.0")

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["prometheus"])
    prometheus = line(lines, "prometheus")
    assert prometheus["detail"] == f"2.31.0 at {tools / 'prometheus'} is too old (needs >= 2.40)"
    assert "`sudo apt-get install prometheus`" in prometheus["fix"]


@pytest.mark.usefixtures("state", "tools")
def test_a_taken_port_given_with_port_fails_as_up_would_refuse_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with listening() as port:
        code, lines = doctor(capsys, "--port", str(port))

    assert (code, failing(lines)) == (1, ["app port"])
    assert line(lines, "app port") == {
        "check": "app port",
        "ok": False,
        "detail": f"something listens on 127.0.0.1:{port}: `sreshow up --port {port}` "
        "would refuse it",
        "fix": f"stop what listens there (`ss -ltnp 'sport = :{port}'` names it) or pick "
        "another --port",
    }


@pytest.mark.usefixtures("state", "tools")
def test_a_taken_default_port_only_warns_as_up_takes_a_free_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with listening() as port:
        monkeypatch.setattr(local_lifecycle, "DEFAULT_APP_PORT", port)
        code, lines = doctor(capsys)

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "app port")["detail"] == (
        f"warning: 127.0.0.1:{port} is taken; `sreshow up` serves the app on a free port "
        "instead (pass --port to choose one)"
    )


@pytest.mark.usefixtures("tools")
def test_the_running_local_stack_is_reported_and_its_port_is_its_own(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as port, local_stack_up(state, port, time_scale=0.1):
        code, lines = doctor(capsys, "--port", str(port))  # the recorded platform: local

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "stack")["detail"] == (
        f"local stack up: 2/2 replicas ready, version 1.0.0, app at http://127.0.0.1:{port}"
    )
    assert line(lines, "app port")["detail"] == (
        f"127.0.0.1:{port} is the running stack's own: `sreshow up` finds the stack up "
        "and binds nothing"
    )
    assert line(lines, "time scale")["detail"] == (
        "0.1: the stack's clocks run 10 times faster than real time"
    )


@pytest.mark.usefixtures("tools")
def test_a_stack_of_another_platform_up_fails_with_sreshow_down(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record_kubernetes_stack(state, "https://127.0.0.1:9")

    code, lines = doctor(capsys, "--platform", "local", "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["stack"])
    assert line(lines, "stack") == {
        "check": "stack",
        "ok": False,
        "detail": f"a kubernetes stack is up (state in {state}); "
        "`sreshow up --platform local` would refuse to start",
        "fix": "bring it down with `sreshow down` (or check it: "
        "`sreshow doctor --platform kubernetes`)",
    }


def test_a_local_stack_up_stops_a_check_of_kubernetes(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_server().running() as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", server)))
        with listening() as port, local_stack_up(state, port):
            code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["stack"])
    assert line(lines, "stack")["detail"].startswith(f"a local stack is up (state in {state})")
    assert line(lines, "stack")["fix"].startswith("bring it down with `sreshow down`")


# --- webhook, clock, the report itself ------------------------------------------------


@pytest.mark.usefixtures("state", "tools")
def test_send_test_posts_one_message_and_reports_the_answer_never_the_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = answering(200, "ok")
    with slack.running() as url:
        webhook = f"{url}/services/T000/B000/secret-part-of-the-url"
        monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", webhook)
        code = main(["doctor", "--send-test", "--port", str(free_port())])
    out = capsys.readouterr().out

    assert code == 0
    assert len(slack.received) == 1
    method, path, body = slack.received[0]
    assert (method, path) == ("POST", "/services/T000/B000/secret-part-of-the-url")
    assert json.loads(body)["text"].startswith("sreshow doctor: a test message.")
    assert "secret-part-of-the-url" not in out
    assert (
        "configured (in SRESHOW_SLACK_WEBHOOK_URL): the stack relays its notifications to 127.0.0.1"
    ) in out
    assert "webhook test" in out
    assert "sent: HTTP 200 (ok)" in out


@pytest.mark.usefixtures("state", "tools")
def test_a_webhook_that_refuses_the_test_message_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = answering(404, "no_service")
    with slack.running() as url:
        monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", f"{url}/services/T/B/revoked")
        code, lines = doctor(capsys, "--send-test", "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["webhook test"])
    test_line = line(lines, "webhook test")
    assert test_line["detail"] == "the webhook answered HTTP 404 (no_service)"
    assert test_line["fix"].startswith("Slack answers 403, 404 or 410 for a revoked")
    assert "revoked" not in test_line["detail"]


@pytest.mark.usefixtures("state", "tools")
def test_no_webhook_sends_nothing_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(capsys, "--send-test", "--port", str(free_port()))

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "webhook test")["detail"] == "nothing sent: no webhook is configured"


@pytest.mark.usefixtures("state", "tools")
def test_a_webhook_file_others_can_read_fails_with_chmod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "webhook-url"
    secret.write_text("https://hooks.slack.com/services/T/B/secret\n")
    secret.chmod(0o644)
    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL_FILE", str(secret))

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["webhook"])
    assert line(lines, "webhook") == {
        "check": "webhook",
        "ok": False,
        "detail": f"SRESHOW_SLACK_WEBHOOK_URL_FILE={secret}: mode 0644, others than you "
        "can read the secret",
        "fix": f"make it private: `chmod 600 {secret}`",
    }

    secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (0, [])
    assert line(lines, "webhook")["detail"] == (
        f"configured (in the private file {secret}): the stack relays its notifications "
        "to hooks.slack.com"
    )


@pytest.mark.usefixtures("state", "tools")
def test_a_missing_webhook_file_or_a_webhook_that_is_no_url_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL_FILE", str(tmp_path / "nowhere"))
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (1, ["webhook"])
    assert line(lines, "webhook")["detail"] == (
        f"SRESHOW_SLACK_WEBHOOK_URL_FILE={tmp_path / 'nowhere'}: no such file"
    )

    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", "hooks.slack.com/secret-part")
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (1, ["webhook"])
    assert "is not an http(s) URL" in line(lines, "webhook")["detail"]
    assert "secret-part" not in json.dumps(lines)


@pytest.mark.usefixtures("state")
def test_the_table_shows_each_failing_line_with_its_fix(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tools / "prometheus").unlink()

    code = main(["doctor", "--port", str(free_port())])
    out = capsys.readouterr().out

    assert code == 1
    row = next(text for text in out.splitlines() if " prometheus " in text)
    assert "✗" in row
    assert "not found on PATH" in row
    assert "`sudo apt-get install prometheus`" in row
    assert sum("✓" in text for text in out.splitlines()) == 11
    assert out.splitlines()[-1] == "Not ready: 1 of 12 checks failed; each says its fix."


@pytest.mark.usefixtures("state")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "nowhere"], "--platform nowhere: unknown platform; use one of local"),
        (["--port", "0"], "--port 0 is not a TCP port; give 1 to 65535"),
        (["--platform", "kubernetes", "--port", "8080"], "--port is for the local platform"),
    ],
)
def test_a_bad_flag_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["doctor", *args])
    captured = capsys.readouterr()

    assert (code, captured.out) == (2, "")
    assert captured.err.startswith(f"error: {message}")


def test_extra_checks_come_last_and_a_broken_check_is_a_failing_line(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    inspection = inspection_for(settings, Platforms(settings), platform="local")

    def tour_resolves(seen: Inspection) -> Iterator[Check]:
        yield Check.passed("tour", f"every scenario exists on {seen.platform}")

    def walkthrough_duration(seen: Inspection) -> Iterator[Check]:
        del seen
        yield Check.passed("duration", "about 12 min")
        raise RuntimeError("no walkthrough")

    lines = diagnose(inspection, checks=(), extra_checks=(tour_resolves, walkthrough_duration))

    assert lines == [
        Check.passed("tour", "every scenario exists on local"),
        Check.passed("duration", "about 12 min"),
        Check.failed(
            "walkthrough duration",
            "the check itself failed: RuntimeError: no walkthrough",
            "a sreshow bug: report it with the traceback SRESHOW_DEBUG=1 shows",
        ),
    ]


def test_every_platform_has_its_checks() -> None:
    assert set(LIFECYCLES) <= set(doctor_checks.PLATFORM_CHECKS)


@pytest.mark.parametrize(
    ("wall_now", "wall_elapsed", "ok", "detail"),
    [
        (NOW, 0.05, True, "2026-05-28 20:26:40 UTC, moving in step with the monotonic clock"),
        (86_400.0, 0.05, False, "the system clock says 1970-01-02 00:00:00 UTC, before 2024"),
        (
            NOW,
            3.05,
            False,
            "the system clock moved 3.05 s while 0.05 s passed: it is being stepped, and "
            "alert timings would be off",
        ),
    ],
)
def test_the_clock_must_be_plausible_and_move_in_step(
    wall_now: float, wall_elapsed: float, ok: bool, detail: str
) -> None:
    check = judge_clock(wall_now, wall_elapsed, monotonic_elapsed=0.05)

    assert (check.check, check.ok, check.detail) == ("clock", ok, detail)
    assert bool(check.fix) is not ok


def test_a_failing_line_without_a_fix_is_refused() -> None:
    with pytest.raises(ValueError, match="a fix goes with a failing line"):
        Check("clock", ok=False, detail="wrong")
