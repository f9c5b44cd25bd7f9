"""Quality gates and detection on the synthetic 高拍仪 set: each degraded page is rejected
with its own reason, clean pages pass, and found corners match the truth (accuracy over a
larger set is benchmarks/camera.py's job; this is a fixed, seeded sample)."""

from __future__ import annotations

import pytest

from drivers.camera import Flaw
from drivers.camera.pipeline import analyse
from drivers.camera.scoring import jaccard_index
from rigs import frames as synthetic

SHOTS = synthetic.test_set(seed=0, per_condition=2)
A4 = (2100.0, 2970.0)


def test_the_sample_covers_every_condition() -> None:
    assert {s.condition for s in SHOTS} == set(synthetic.CONDITIONS)


@pytest.mark.parametrize("shot", SHOTS, ids=[f"{s.condition}-{s.plate}-{i}"
                                             for i, s in enumerate(SHOTS)])
def test_each_page_gets_its_verdict(shot) -> None:
    analysis = analyse(shot.image)
    reasons = set(analysis.quality.reasons)
    if shot.expected:
        assert {f.value for f in shot.expected} <= reasons
    else:
        assert not reasons, analysis.quality.as_dict()
    if shot.quad is not None and Flaw.OUTSIDE not in shot.expected:
        assert jaccard_index(shot.quad, analysis.quad, A4) >= 0.95
