"""Injected faults: runtime state of one app instance, set through the admin API.

Error rates are applied by a deterministic gate (error diffusion over a counter),
not by a random draw: a rate of 0.2 fails exactly every fifth request, so a demo
shows the rate it was asked for and a test can count the failures it expects.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_LATENCY_SECONDS = 300.0
_PPM = 1_000_000


# Each fault's bounds, declared once: the state, the patch and a scenario's `inject` step
# (sreshow.scenarios.spec) all take their fields from these.
ErrorRate = Annotated[float, Field(ge=0, le=1, description="share of requests failing with 500")]
LatencySeconds = Annotated[
    float, Field(ge=0, le=MAX_LATENCY_SECONDS, description="delay added to every request")
]
CpuBurn = Annotated[float, Field(ge=0, le=1, description="share of one core kept busy")]
Unhealthy = Annotated[bool, Field(description="/health answers 503")]
Unready = Annotated[bool, Field(description="/ready answers 503")]


class Faults(BaseModel):
    """The faults currently injected into one instance."""

    model_config = ConfigDict(frozen=True)

    error_rate: ErrorRate = 0.0
    latency_seconds: LatencySeconds = 0.0
    cpu_burn: CpuBurn = 0.0
    unhealthy: Unhealthy = False
    unready: Unready = False


FAULT_KINDS = tuple(Faults.model_fields)


class FaultPatch(BaseModel):
    """A change to the faults: fields left out (or null) keep their value."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    error_rate: ErrorRate | None = None
    latency_seconds: LatencySeconds | None = None
    cpu_burn: CpuBurn | None = None
    unhealthy: Unhealthy | None = None
    unready: Unready | None = None

    def changes(self) -> dict[str, float | bool]:
        """The faults this patch sets, by kind."""
        return {
            kind: getattr(self, kind) for kind in FAULT_KINDS if getattr(self, kind) is not None
        }


class RateGate:
    """Says yes to exactly `rate` of the calls, spread evenly (error diffusion)."""

    def __init__(self, rate: float = 0.0) -> None:
        self._ppm = round(rate * _PPM)
        self._accumulated = 0

    @property
    def rate(self) -> float:
        return self._ppm / _PPM

    def set_rate(self, rate: float) -> None:
        if round(rate * _PPM) != self._ppm:
            self._ppm = round(rate * _PPM)
            self._accumulated = 0

    def __call__(self) -> bool:
        self._accumulated += self._ppm
        if self._accumulated >= _PPM:
            self._accumulated -= _PPM
            return True
        return False


class CpuBurner:
    """Keeps a share of one core busy from a background thread.

    Hashing large buffers releases the GIL, so the burn shows up as process CPU
    (what an autoscaler measures) without starving the event loop.
    """

    _PERIOD_SECONDS = 0.1
    _CHUNK = b"\0" * 65536

    def __init__(self) -> None:
        self._level = 0.0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def set_level(self, level: float) -> None:
        with self._wake:
            self._level = level
            self._wake.notify_all()
            if level > 0 and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cpu-burn", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        thread = self._thread
        with self._wake:
            self._level = 0.0
            self._thread = None
            self._wake.notify_all()
        if thread is not None:
            thread.join(timeout=1)

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            with self._wake:
                if self._thread is not me:
                    return
                if self._level <= 0:
                    self._wake.wait()
                    continue
                level = self._level
            period_start = time.perf_counter()
            busy_until = period_start + level * self._PERIOD_SECONDS
            while time.perf_counter() < busy_until:
                hashlib.sha256(self._CHUNK).digest()
            rest = period_start + self._PERIOD_SECONDS - time.perf_counter()
            if rest > 0:
                with self._wake:
                    self._wake.wait(rest)


class FaultState:
    """The faults of this instance and the gates that apply them."""

    def __init__(self) -> None:
        self._faults = Faults()
        self._error_gate = RateGate()
        self._burner = CpuBurner()

    @property
    def current(self) -> Faults:
        return self._faults

    def apply(self, patch: FaultPatch) -> Faults:
        """Apply the fields `patch` sets; the others keep their value."""
        self._set(self._faults.model_copy(update=patch.changes()))
        return self._faults

    def clear(self) -> Faults:
        self._set(Faults())
        return self._faults

    def should_fail(self) -> bool:
        """Whether this request is one of the `error_rate` share that fails."""
        return self._error_gate()

    def close(self) -> None:
        self._burner.stop()

    def _set(self, faults: Faults) -> None:
        self._faults = faults
        self._error_gate.set_rate(faults.error_rate)
        self._burner.set_level(faults.cpu_burn)
