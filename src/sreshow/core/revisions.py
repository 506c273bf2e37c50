"""A Deployment's revisions and its rollout, as the Deployment controller keeps them.

sreshow's own supervisor owns one `Revisions`. Deploying a (version, broken)
release reuses its revision if it ran before, as Kubernetes reuses a ReplicaSet whose
pod template matches; rolling back without a revision picks the one rolled out before
the current one (`kubectl rollout undo`). The rollout is complete when every replica
is a ready one of the current revision, stalled when it made no progress within the
progress deadline (`progressDeadlineSeconds`), progressing otherwise; once complete it
never stalls (a replica lost later makes it progressing again, as `kubectl rollout
status` waits, until the next deploy or rollback).

Pure: time is plain seconds on one clock, passed in. Queries (`rollout_status()`,
`complete()`, `undo_target()`) change nothing; the progress clock moves only by the
explicit transitions `deploy()`, `roll_back()`, `note_progress()` and `note_complete()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sreshow.core.reconcile import Replica, rollout_complete


class RolloutState(StrEnum):
    """Where a rollout stands, as `kubectl rollout status` would tell."""

    COMPLETE = "complete"
    PROGRESSING = "progressing"
    STALLED = "stalled"  # no progress within the progress deadline


@dataclass(frozen=True)
class RolloutStatus:
    """The rollout's state and the sentence `sreshow status` shows for it."""

    state: RolloutState
    message: str


@dataclass(frozen=True)
class Revision:
    """What one revision runs: a version, and the fault it was deployed broken with."""

    number: int
    version: str
    broken: str = ""


@dataclass(frozen=True)
class RolloutStarted:
    """A transition to another revision: what the supervisor records as an event."""

    revision: int
    previous: int
    how: str  # "deployed" or "rolled back"


class NoRollbackTarget(Exception):
    """The rollback names no known revision, or there is none before the current one."""


class Revisions:
    """The Deployment's revisions, which one is rolled out, and since when its rollout
    made progress; see the module doc."""

    def __init__(self, version: str, *, now: float, progress_deadline: float) -> None:
        self.progress_deadline = progress_deadline
        self._revisions = [Revision(number=1, version=version)]
        self._revision = 1
        self._history = [1]  # revisions in the order they were last rolled out
        # When the rollout last made progress (a replica of the revision became ready, it
        # was seen complete, or it started): the progress deadline counts from here.
        self._progressed_at = now
        # The current revision's rollout was complete once: as on Kubernetes, the progress
        # deadline no longer applies (a replica lost later is not a stalled rollout).
        self._finished = False

    # --- queries ------------------------------------------------------------------

    @property
    def current(self) -> int:
        """The number of the revision being rolled out (or rolled out)."""
        return self._revision

    @property
    def all(self) -> tuple[Revision, ...]:
        """Every revision so far, oldest first."""
        return tuple(self._revisions)

    @property
    def history(self) -> tuple[int, ...]:
        """Revision numbers in the order they were last rolled out, current last."""
        return tuple(self._history)

    def numbered(self, number: int) -> Revision:
        """The revision `number`; KeyError if there is none."""
        found = next((r for r in self._revisions if r.number == number), None)
        if found is None:
            raise KeyError(f"no revision {number}")
        return found

    def complete(self, desired: int, replicas: Sequence[Replica]) -> bool:
        """Every one of `desired` replicas is a ready one of the current revision."""
        return rollout_complete(desired, self._revision, replicas)

    def rollout_status(
        self, now: float, desired: int, replicas: Sequence[Replica]
    ) -> RolloutStatus:
        """Where the rollout stands at `now`, given the replicas that run."""
        if self.complete(desired, replicas):
            return RolloutStatus(RolloutState.COMPLETE, "complete")
        if self._finished:  # `kubectl rollout status` waits for availability again
            return RolloutStatus(
                RolloutState.PROGRESSING, f"revision {self._revision}: waiting for replicas"
            )
        waited = now - self._progressed_at
        if waited > self.progress_deadline:
            return RolloutStatus(
                RolloutState.STALLED,
                f"stalled: revision {self._revision} made no progress for {waited:.0f} s",
            )
        return RolloutStatus(RolloutState.PROGRESSING, f"progressing to revision {self._revision}")

    def undo_target(self, to: int | None) -> int:
        """The revision a rollback to `to` goes to; without one, as `kubectl rollout
        undo`, the one rolled out before the current one. NoRollbackTarget if none."""
        if to is None:
            if len(self._history) < 2:
                raise NoRollbackTarget("there is no earlier revision to roll back to")
            return self._history[-2]
        if all(r.number != to for r in self._revisions):
            known = ", ".join(str(r.number) for r in self._revisions)
            raise NoRollbackTarget(
                f"there is no revision {to} to roll back to (revisions: {known})"
            )
        return to

    # --- transitions ----------------------------------------------------------------

    def deploy(self, version: str, broken: str, now: float) -> RolloutStarted:
        """Roll out `version` (broken by `broken`, if given): the revision that ran it
        before, or a new one."""
        existing = next(
            (r for r in self._revisions if (r.version, r.broken) == (version, broken)), None
        )
        if existing is None:
            existing = Revision(number=len(self._revisions) + 1, version=version, broken=broken)
            self._revisions.append(existing)
        return self._activate(existing.number, "deployed", now)

    def roll_back(self, to: int | None, now: float) -> RolloutStarted:
        """Roll out `undo_target(to)` again; NoRollbackTarget if there is none."""
        return self._activate(self.undo_target(to), "rolled back", now)

    def note_progress(self, now: float) -> None:
        """A replica of the current revision became ready: the progress deadline counts
        from `now`."""
        self._progressed_at = now

    def note_complete(self, now: float) -> None:
        """The rollout was seen complete: it can no longer stall (until the next one)."""
        self._progressed_at = now
        self._finished = True

    def _activate(self, revision: int, how: str, now: float) -> RolloutStarted:
        started = RolloutStarted(revision=revision, previous=self._revision, how=how)
        self._revision = revision
        self._progressed_at = now
        self._finished = False
        if revision in self._history:
            self._history.remove(revision)
        self._history.append(revision)
        return started
