"""Fixtures shared by the driver tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import drivers.camera.pipeline
from drivers.camera import CapturedPage, PageQuality


@pytest.fixture
def stills(monkeypatch: pytest.MonkeyPatch) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """Replaces the still pipeline in camera backends' tests: records what capture() hands
    it (the pipeline itself is tested in test_camera_pipeline.py)."""
    seen: list[tuple[np.ndarray, dict[str, Any]]] = []

    def still_to_page(rgb: np.ndarray, **options: Any) -> CapturedPage:
        seen.append((rgb, options))
        return CapturedPage(b"\xff\xd8", rgb.shape[1], rgb.shape[0], options["dpi"],
                            PageQuality())
    monkeypatch.setattr(drivers.camera.pipeline, "still_to_page", still_to_page)
    return seen
