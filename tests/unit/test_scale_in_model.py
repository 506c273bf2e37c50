"""The scale-in model both test tiers bound their waits with, on hand-worked cases of
the shipped HPA at time scale 0.1: a 30 s scale-down window, one replica per 6 s, and
memory at 80% as the second target."""

from __future__ import annotations

import pytest
import yaml

from sreshow.adapters.local.autoscaler import scaled_hpa
from sreshow.core.hpa import ControllerConfig
from sreshow.core.hpa_manifest import spec_from_manifest
from tests.scale_in import scale_in_seconds

SPEC = spec_from_manifest(yaml.safe_load(scaled_hpa(0.1)))
CONFIG = ControllerConfig().scaled(0.1)


@pytest.mark.parametrize(
    ("peak", "memory", "seconds"),
    [
        # 3 → 2 once the window has let go of the peak's recommendation.
        (3, 40, 30.0),
        # 4 → 3 at 30 s, 3 → 2 one period later: memory recommends 2 of 4 and of 3.
        (4, 40, 36.0),
        # 5 → 4 at 30, 4 → 3 at 36; the 3 that memory recommended at 5 replicas (until
        # 30 s) holds 3 until it leaves the window at 60 s.
        (5, 40, 60.0),
        # At 41% memory recommends 3 of 4 too: 4 → 3 at 30 s, and that 3, recommended
        # until then, holds 3 → 2 until it leaves the window at 60 s.
        (4, 41, 60.0),
    ],
)
def test_scale_in_follows_the_window_the_policy_and_the_memory_metric(
    peak: int, memory: float, seconds: float
) -> None:
    assert scale_in_seconds(SPEC, peak, 2, memory_percent=memory, sync=1.5, config=CONFIG) == (
        pytest.approx(seconds)
    )
