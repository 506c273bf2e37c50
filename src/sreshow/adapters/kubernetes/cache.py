"""What the cluster holds of the stack, kept current by watches, not polls.

One watch per kind of object feeds the cache: list once, then watch from the list's
resource version; when the server ends a watch (after `WATCH_SECONDS`), watch again
from the last version seen; when that version is too old (410), list again. So while
a scenario waits, sreshow costs the API server a handful of requests a minute, and
`snapshot()` and the live view read memory. `wait()` blocks until a condition on the
cache holds, woken by each change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sreshow.adapters.kubernetes.api import Expired, KubeApi, WatchStream
from sreshow.adapters.kubernetes.resources import KINDS
from sreshow.errors import PlatformError

WATCH_SECONDS = 240  # the server ends each watch after this; the cache watches again
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # after a failed watch, growing, then steady
T = TypeVar("T")


@dataclass(frozen=True)
class WatchSpec:
    """One kind of object to keep: in a namespace, matching selectors."""

    kind: str
    namespace: str
    label_selector: str = ""
    field_selector: str = ""

    @property
    def query(self) -> dict[str, str]:
        query = {}
        if self.label_selector:
            query["labelSelector"] = self.label_selector
        if self.field_selector:
            query["fieldSelector"] = self.field_selector
        return query


@dataclass
class _Store:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # by uid
    version: str = ""
    error: str | None = None  # why the last watch failed, while it is retried


class WatchCache:
    """The objects of each `WatchSpec`, current; see the module doc."""

    def __init__(self, api: KubeApi, specs: Mapping[str, WatchSpec]) -> None:
        """`specs`: by the name the cache is read with."""
        self._api = api
        self._specs = dict(specs)
        self._stores = {name: _Store() for name in specs}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._streams: dict[str, WatchStream] = {}
        self._threads: list[threading.Thread] = []

    def load(self) -> None:
        """List every kind once: the cache holds this moment (`status` needs no more)."""
        for name in self._specs:
            self._list(name)

    def start(self) -> None:
        """List every kind (so the cache is full when this returns), then watch each."""
        self.load()
        for name in self._specs:
            thread = threading.Thread(
                target=self._follow, args=(name,), name=f"watch-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            streams = list(self._streams.values())
            self._changed.notify_all()
        for stream in streams:
            stream.stop()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def objects(self, name: str) -> list[dict[str, Any]]:
        """The objects of watch `name` now, oldest first (do not change them)."""
        with self._changed:
            found = list(self._stores[name].objects.values())
        return sorted(found, key=lambda o: o["metadata"].get("creationTimestamp", ""))

    def errors(self) -> dict[str, str]:
        """The watches that are failing now, and why."""
        with self._changed:
            return {n: s.error for n, s in self._stores.items() if s.error is not None}

    def wait(self, look: Callable[[], T | None], *, within: float, waiting_for: str) -> T:
        """The first non-None `look()`, re-checked on every change of the cache;
        PlatformError naming `waiting_for` after `within` s."""
        deadline = time.monotonic() + within
        with self._changed:
            while True:
                found = look()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping.is_set():
                    failing = "; ".join(f"{n}: {e}" for n, e in self.errors().items())
                    raise PlatformError(
                        f"timed out after {within:g} s waiting for {waiting_for}"
                        + (f" (watches failing: {failing})" if failing else "")
                    )
                self._changed.wait(timeout=min(left, 1.0))

    # --- the watches ------------------------------------------------------------------

    def _list(self, name: str) -> None:
        spec = self._specs[name]
        path = KINDS[spec.kind].collection(spec.namespace)
        answer = self._api.get(path, spec.query)
        with self._changed:
            store = self._stores[name]
            store.objects = {
                o["metadata"]["uid"]: _with_kind(o, spec.kind) for o in answer["items"]
            }
            store.version = answer["metadata"]["resourceVersion"]
            store.error = None
            self._changed.notify_all()

    def _follow(self, name: str) -> None:
        """Watch `name` until the cache stops: again after each end, list after a 410."""
        spec = self._specs[name]
        path = KINDS[spec.kind].collection(spec.namespace)
        failures = 0
        while not self._stopping.is_set():
            try:
                stream = self._api.watch(
                    path, spec.query, self._stores[name].version, WATCH_SECONDS
                )
                with self._changed:
                    self._streams[name] = stream
                if self._stopping.is_set():
                    stream.stop()
                for event in stream:
                    self._apply(name, event)
                    failures = 0
            except Expired:
                self._relist(name)
            except PlatformError as e:
                if self._stopping.is_set():
                    return
                with self._changed:
                    self._stores[name].error = str(e)
                self._stopping.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
                self._relist(name)

    def _relist(self, name: str) -> None:
        try:
            self._list(name)
        except PlatformError as e:
            with self._changed:
                self._stores[name].error = str(e)

    def _apply(self, name: str, event: Mapping[str, Any]) -> None:
        obj = event["object"]
        with self._changed:
            store = self._stores[name]
            store.version = obj["metadata"]["resourceVersion"]
            store.error = None
            kind = event["type"]
            if kind in ("ADDED", "MODIFIED"):
                store.objects[obj["metadata"]["uid"]] = _with_kind(obj, self._specs[name].kind)
            elif kind == "DELETED":
                store.objects.pop(obj["metadata"]["uid"], None)
            self._changed.notify_all()  # BOOKMARK: only the version moved


def _with_kind(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """List items come without `kind`; watch events with it: make them alike."""
    obj.setdefault("kind", kind)
    return obj
