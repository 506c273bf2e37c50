"""A Deployment's revisions and its rollout's state, with plain values and a plain clock."""

from __future__ import annotations

import pytest

from sreshow.core.reconcile import Replica
from sreshow.core.revisions import (
    NoRollbackTarget,
    Revision,
    Revisions,
    RolloutStarted,
    RolloutState,
    RolloutStatus,
)

DEADLINE = 60.0


def revisions(now: float = 0.0) -> Revisions:
    return Revisions("1.0.0", now=now, progress_deadline=DEADLINE)


def ready(revision: int, count: int = 2) -> list[Replica]:
    return [Replica(f"pod-{revision}-{i}", revision, ready=True) for i in range(count)]


class TestDeploy:
    def test_the_first_revision_runs_the_initial_version(self) -> None:
        deployment = revisions()

        assert deployment.current == 1
        assert deployment.all == (Revision(1, "1.0.0"),)
        assert deployment.history == (1,)

    def test_a_new_release_is_a_new_revision(self) -> None:
        deployment = revisions()

        started = deployment.deploy("2.0.0", "", now=5.0)

        assert started == RolloutStarted(revision=2, previous=1, how="deployed")
        assert deployment.current == 2
        assert deployment.all == (Revision(1, "1.0.0"), Revision(2, "2.0.0"))
        assert deployment.history == (1, 2)

    def test_a_release_that_ran_before_gets_its_revision_back(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=1.0)

        started = deployment.deploy("1.0.0", "", now=2.0)

        assert started == RolloutStarted(revision=1, previous=2, how="deployed")
        assert len(deployment.all) == 2
        assert deployment.history == (2, 1)

    def test_the_same_version_broken_is_another_revision(self) -> None:
        deployment = revisions()

        started = deployment.deploy("1.0.0", "crash_on_start", now=1.0)

        assert started.revision == 2
        assert deployment.numbered(2) == Revision(2, "1.0.0", "crash_on_start")

    def test_an_unknown_revision_number_is_a_key_error(self) -> None:
        with pytest.raises(KeyError, match="no revision 9"):
            revisions().numbered(9)


class TestRollBack:
    def test_without_a_revision_it_goes_to_the_one_rolled_out_before(self) -> None:
        """As `kubectl rollout undo`: undoing twice goes back where it was."""
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=1.0)
        deployment.deploy("3.0.0", "", now=2.0)

        first = deployment.roll_back(None, now=3.0)
        second = deployment.roll_back(None, now=4.0)

        assert first == RolloutStarted(revision=2, previous=3, how="rolled back")
        assert second == RolloutStarted(revision=3, previous=2, how="rolled back")
        assert deployment.history == (1, 2, 3)

    def test_to_a_named_revision(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=1.0)
        deployment.deploy("3.0.0", "", now=2.0)

        assert deployment.roll_back(1, now=3.0).revision == 1
        assert deployment.history == (2, 3, 1)

    def test_with_nothing_before_it_is_refused(self) -> None:
        with pytest.raises(NoRollbackTarget) as refused:
            revisions().roll_back(None, now=1.0)

        assert str(refused.value) == "there is no earlier revision to roll back to"

    def test_to_an_unknown_revision_it_is_refused_naming_the_known_ones(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=1.0)

        with pytest.raises(NoRollbackTarget) as refused:
            deployment.roll_back(9, now=2.0)

        assert str(refused.value) == "there is no revision 9 to roll back to (revisions: 1, 2)"
        assert (deployment.current, deployment.history) == (2, (1, 2))  # nothing changed

    def test_choosing_the_target_changes_nothing(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=1.0)

        assert deployment.undo_target(None) == 1
        assert deployment.undo_target(None) == 1
        assert (deployment.current, deployment.history) == (2, (1, 2))


class TestRolloutStatus:
    def test_complete_when_every_wanted_replica_is_a_ready_one_of_the_revision(self) -> None:
        deployment = revisions()

        assert deployment.rollout_status(1.0, 2, ready(1)) == RolloutStatus(
            RolloutState.COMPLETE, "complete"
        )

    @pytest.mark.parametrize(
        "replicas",
        [
            ready(1, count=1),  # one short
            [*ready(1, count=1), Replica("pod-1-x", 1, ready=False)],  # one not ready
            ready(1, count=3),  # one too many
        ],
    )
    def test_progressing_while_not_complete_within_the_deadline(
        self, replicas: list[Replica]
    ) -> None:
        assert revisions().rollout_status(DEADLINE, 2, replicas) == RolloutStatus(
            RolloutState.PROGRESSING, "progressing to revision 1"
        )

    def test_stalled_after_the_deadline_without_progress(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "crash_on_start", now=100.0)

        status = deployment.rollout_status(100.0 + DEADLINE + 0.6, 2, ready(1))

        assert status == RolloutStatus(
            RolloutState.STALLED, "stalled: revision 2 made no progress for 61 s"
        )

    def test_a_ready_replica_of_the_revision_is_progress(self) -> None:
        deployment = revisions()
        deployment.deploy("2.0.0", "", now=0.0)
        deployment.note_progress(50.0)

        status = deployment.rollout_status(50.0 + DEADLINE, 2, ready(1))

        assert status.state is RolloutState.PROGRESSING

    def test_a_rollout_starts_the_progress_clock_afresh(self) -> None:
        deployment = revisions(now=0.0)
        assert deployment.rollout_status(DEADLINE + 1, 2, []).state is RolloutState.STALLED

        deployment.deploy("2.0.0", "", now=DEADLINE + 1)
        assert deployment.rollout_status(DEADLINE + 2, 2, []).state is RolloutState.PROGRESSING

        deployment.roll_back(None, now=3 * DEADLINE)
        assert deployment.rollout_status(3 * DEADLINE, 2, []).state is RolloutState.PROGRESSING

    def test_reading_the_status_changes_nothing(self) -> None:
        """A complete rollout read at t=100 does not move the progress clock: only
        `note_progress()` does, so a replica lost later is measured from the last one."""
        deployment = revisions(now=0.0)

        for t in (10.0, 50.0, 100.0):
            assert deployment.rollout_status(t, 2, ready(1)).state is RolloutState.COMPLETE
            assert deployment.complete(2, ready(1))

        later = deployment.rollout_status(DEADLINE + 1, 2, ready(1, count=1))
        assert later.state is RolloutState.STALLED

        deployment.note_progress(100.0)
        again = deployment.rollout_status(DEADLINE + 1, 2, ready(1, count=1))
        assert again.state is RolloutState.PROGRESSING

    def test_the_state_is_written_as_its_word(self) -> None:
        assert [str(state) for state in RolloutState] == ["complete", "progressing", "stalled"]


def test_a_completed_rollout_never_stalls_until_the_next_one() -> None:
    """As on Kubernetes: the progress deadline is for a rollout under way. A replica lost
    after completion makes it progressing (waiting for replicas), not stalled; the next
    deploy can stall again."""
    deployment = revisions(now=0.0)
    deployment.note_complete(1.0)

    lost = deployment.rollout_status(10 * DEADLINE, 2, ready(1, count=1))
    assert lost == RolloutStatus(RolloutState.PROGRESSING, "revision 1: waiting for replicas")
    assert deployment.rollout_status(10 * DEADLINE, 2, ready(1)).state is RolloutState.COMPLETE

    deployment.deploy("2.0.0", "unready", now=20 * DEADLINE)
    late = deployment.rollout_status(21 * DEADLINE + 1, 2, ready(1))
    assert late.state is RolloutState.STALLED
