"""How well a found quad matches the truth: the SmartDoc 2015 Jaccard index, and the SmartDoc
ground-truth file. Used by the tests and benchmarks/camera.py on public and synthetic frames.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


def jaccard_index(truth: Array, found: Array | None, reference: tuple[float, float]) -> float:
    """SmartDoc protocol: both quads are mapped into the document's own frame (``reference``
    = its width and height) by the homography that takes the true quad there, then
    intersection over union. Perspective therefore counts equally all over the page. 0.0
    when nothing was found."""
    if found is None:
        return 0.0
    width, height = reference
    page = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    to_page = cv2.getPerspectiveTransform(truth.astype(np.float32), page)
    mapped = cv2.perspectiveTransform(found.reshape(-1, 1, 2).astype(np.float32), to_page)
    mapped = mapped.reshape(-1, 2)
    if cv2.contourArea(cv2.convexHull(mapped)) <= 0:
        return 0.0
    hull = cv2.convexHull(mapped).reshape(-1, 2)   # a crossed quad counts as its hull
    inter, _ = cv2.intersectConvexConvex(page, hull)
    union = width * height + float(cv2.contourArea(hull)) - float(inter)
    return float(inter) / union if union > 0 else 0.0


@dataclass(frozen=True, repr=False)
class TruthFrame:
    path: Path
    quad: Array                      # TL, TR, BR, BL
    reference: tuple[float, float]   # the document model's width and height


def smartdoc_frames(folder: Path) -> Iterator[TruthFrame]:
    """The frames of a SmartDoc sample folder with their corners (``ground_truth.csv``)."""
    with (folder / "ground_truth.csv").open(encoding="utf-8") as table:
        for row in csv.DictReader(table):
            name = f"{row['bg_name']}_{row['model_name']}_frame_{int(row['frame_index']):04d}"
            quad = np.array([[row[f"{c}_x"], row[f"{c}_y"]] for c in ("tl", "tr", "br", "bl")],
                            np.float32)
            yield TruthFrame(folder / f"{name}.jpeg", quad,
                             (float(row["model_width"]), float(row["model_height"])))
