"""Run the monitoring stack's real servers locally for tests, and query them.

Prometheus, Alertmanager and the blackbox exporter run as child processes on
127.0.0.1 with their logs in files; a Slack-compatible receiver runs in-process.
Each is a context manager that stops what it started. Every wait is bounded.
`PrometheusAPI` is the one place the tests send Prometheus queries from.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from sreshow.adapters.manifests import MANIFESTS_DIR
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
MONITORING = MANIFESTS_DIR / "monitoring"
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yml"
RULES_DIR = MONITORING / "prometheus" / "rules"
ALERTMANAGER_CONFIG = MONITORING / "alertmanager" / "alertmanager.yml"
SLACK_TEMPLATE = MONITORING / "alertmanager" / "slack.tmpl"
BLACKBOX_CONFIG = MONITORING / "blackbox" / "blackbox.yml"

# Where the Kubernetes objects mount the files (agreed with the manifests' author).
MOUNTED_RULES = "/etc/prometheus/rules/*.rules.yml"
MOUNTED_TEMPLATES = "/etc/alertmanager/*.tmpl"
MOUNTED_WEBHOOK_FILE = "/etc/alertmanager/secrets/slack/webhook-url"
SLACK_RECEIVER = "slack-sre-alerts"


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yml"))


def app_scrape_job(apps: Mapping[str, str], namespace: str = "sre-app") -> dict[str, Any]:
    """Job sre-app scraping `apps` (pod name -> URL) with the labels it has in the cluster.

    Stands in for Kubernetes discovery, which gives every target its pod and namespace.
    """
    return {
        "job_name": "sre-app",
        "static_configs": [
            {
                "targets": [url.removeprefix("http://")],
                "labels": {"pod": pod, "namespace": namespace},
            }
            for pod, url in apps.items()
        ],
    }


def wait_until(
    condition: Callable[[], Any], *, within: float, waiting_for: str, every: float = 0.25
) -> Any:
    """Poll `condition` until it returns something truthy (returned), or fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {within} s waiting for {waiting_for}")
        time.sleep(every)


@dataclass
class Server:
    """A started server process: where it listens and where its log goes."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def server_process(
    argv: Sequence[str], *, url: str, log: Path, ready_path: str, ready_within: float = 20.0
) -> Iterator[Server]:
    """Start `argv`, wait until `url + ready_path` answers 200, stop it afterwards."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    server = Server(process, url, log)
    try:
        with httpx.Client(timeout=1.0) as client:

            def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(
                        f"{Path(argv[0]).name} exited with {process.returncode}:\n"
                        f"{server.log_text()[-3000:]}"
                    )
                try:
                    return client.get(url + ready_path).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(ready, within=ready_within, waiting_for=f"{argv[0]} at {url}", every=0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _local_server(
    binary: str,
    config: Path,
    log: Path,
    *,
    ready_path: str,
    flags: Sequence[str] = (),
    external_url: bool = False,
) -> AbstractContextManager[Server]:
    """`binary --config.file=config` (a Prometheus-family server) on a free local port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", *flags]
    if external_url:  # the links the server hands out (alerts, notifications) point here
        argv.append(f"--web.external-url={url}/")
    return server_process(argv, url=url, log=log, ready_path=ready_path)


def prometheus(binary: str, config: Path, workdir: Path) -> AbstractContextManager[Server]:
    """A Prometheus server on a free local port, storing into `workdir`."""
    storage = f"--storage.tsdb.path={workdir / 'prometheus-data'}"
    log = workdir / "prometheus.log"
    return _local_server(
        binary, config, log, ready_path="/-/ready", flags=[storage], external_url=True
    )


def alertmanager(binary: str, config: Path, workdir: Path) -> AbstractContextManager[Server]:
    """An Alertmanager on a free local port, without clustering, logging at debug level."""
    flags = [
        f"--storage.path={workdir / 'alertmanager-data'}",
        "--cluster.listen-address=",  # no gossip port on every interface
        "--log.level=debug",
    ]
    log = workdir / "alertmanager.log"
    return _local_server(binary, config, log, ready_path="/-/ready", flags=flags, external_url=True)


def blackbox_exporter(binary: str, config: Path, workdir: Path) -> AbstractContextManager[Server]:
    """A blackbox exporter on a free local port."""
    return _local_server(binary, config, workdir / "blackbox.log", ready_path="/-/healthy")


# --- Prometheus's HTTP API -------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One series of a query's answer: its labels and its values, oldest first."""

    labels: dict[str, str]
    values: list[float]

    @property
    def last(self) -> float:
        return self.values[-1]


def to_series(data: Mapping[str, Any]) -> list[Series]:
    """The series in the `data` of a successful answer, whatever its result type."""
    kind = data["resultType"]
    if kind == "vector":
        return [Series(r["metric"], [float(r["value"][1])]) for r in data["result"]]
    if kind == "matrix":
        return [Series(r["metric"], [float(v) for _, v in r["values"]]) for r in data["result"]]
    if kind == "scalar":
        return [Series({}, [float(data["result"][1])])]
    raise AssertionError(f"unexpected result type {kind}")


@dataclass
class PrometheusAPI:
    """The HTTP API of one Prometheus, queried the way Grafana queries it (POST forms).

    `query()` and `query_range()` return the answer as it comes, a refused query too
    (400 or 422 with {"status": "error", "error": ...}), so that the caller can say
    which panel sent it; `series()` fails on a refused query.
    """

    client: httpx.Client  # its base_url is the server's URL

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        """Evaluate `expr` at the Unix time `at` (now by default)."""
        form = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        return self._answer("/api/v1/query", form)

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict[str, Any]:
        form = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self._answer("/api/v1/query_range", form)

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        params = {"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        answer = self.client.get(f"/api/v1/label/{label}/values", params=params).json()
        assert answer["status"] == "success", f"label values of {label} for {match}: {answer}"
        values: list[str] = answer["data"]
        return values

    def series(self, expr: str, at: float | None = None) -> list[Series]:
        """The series of an instant query that must succeed."""
        answer = self.query(expr, at)
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        return to_series(answer["data"])

    def _answer(self, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        response = self.client.post(path, data=form)
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise AssertionError(
                f"Prometheus answered {path} with {response.status_code}: {response.text[:300]}"
            ) from None
        return answer


def query(prometheus_url: str, promql: str) -> list[dict[str, Any]]:
    """The instant vector `promql` evaluates to now, as Prometheus's API returns it."""
    with httpx.Client(base_url=prometheus_url, timeout=5) as client:
        answer = PrometheusAPI(client).query(promql)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


# --- Slack and traffic -----------------------------------------------------------------


@dataclass
class SlackReceiver:
    """A Slack-compatible incoming webhook on 127.0.0.1 that records every JSON body.

    Its URL carries a random secret path, like Slack's; only that path is accepted,
    and requests are never logged (the URL is a secret).
    """

    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    messages: list[dict[str, Any]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def path(self) -> str:
        return f"/services/T0SRESHOW/B0SRESHOW/{self.secret}"

    @property
    def url(self) -> str:
        assert self._server is not None, "the receiver is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> SlackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path != receiver.path:
                    self.send_response(404)
                    self.end_headers()
                    return
                try:
                    message = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._changed:
                    receiver.messages.append(message)
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")  # what Slack answers

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line holds the secret path

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="slack-receiver").start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(
        self, matches: Callable[[Mapping[str, Any]], bool], *, within: float, waiting_for: str
    ) -> dict[str, Any]:
        """The first recorded message that `matches`, waiting at most `within` s for it."""
        deadline = time.monotonic() + within
        with self._changed:
            while True:
                for message in self.messages:
                    if matches(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    titles = [_titles(message) for message in self.messages]
                    raise AssertionError(
                        f"no Slack message {waiting_for} within {within} s; got titles {titles}"
                    )
                self._changed.wait(remaining)


def _titles(message: Mapping[str, Any]) -> list[str]:
    return [str(a.get("title", "")) for a in message.get("attachments") or []]


@dataclass
class SteadyTraffic:
    """Counts of the answers a `steady_traffic()` loop got, by status code."""

    statuses: dict[int, int] = field(default_factory=dict)


@contextmanager
def steady_traffic(
    url: str, *, per_second: float, at_most_seconds: float
) -> Iterator[SteadyTraffic]:
    """GET `url` at a steady rate from a thread until the block ends (or the time cap)."""
    counts = SteadyTraffic()
    stop = threading.Event()

    def drive() -> None:
        interval = 1.0 / per_second
        deadline = time.monotonic() + at_most_seconds
        next_at = time.monotonic()
        with httpx.Client(timeout=2.0) as client:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    status = client.get(url).status_code
                except httpx.TransportError:
                    status = 0
                counts.statuses[status] = counts.statuses.get(status, 0) + 1
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))

    thread = threading.Thread(target=drive, name="steady-traffic")
    thread.start()
    try:
        yield counts
    finally:
        stop.set()
        thread.join(timeout=5)
