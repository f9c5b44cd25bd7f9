"""Verification error rates from a genuine/impostor score matrix, with confidence intervals.

Scores are similarities (higher: more alike). ``scores[i, j]`` compares document ``i`` with live
``j``; the diagonal holds the genuine pairs, the rest the impostor pairs. Intervals are 95 %
percentile bootstraps over people (a resampled person brings their genuine pair and every
impostor pair they are in), because the pairs of one person are not independent; FAR and FRR
at a fixed threshold also get Wilson intervals over pairs, for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


def split(scores: Matrix) -> tuple[Matrix, Matrix]:
    genuine = np.diag(scores)
    impostor = scores[~np.eye(len(scores), dtype=bool)]
    return genuine, impostor


def eer(genuine: Matrix, impostor: Matrix) -> tuple[float, float]:
    """(equal error rate, the threshold where FAR and FRR cross), over every score seen."""
    g, i = np.sort(genuine), np.sort(impostor)
    candidates = np.unique(np.concatenate([g, i]))
    far = 1 - np.searchsorted(i, candidates, side="left") / len(i)    # impostors >= t
    frr = np.searchsorted(g, candidates, side="left") / len(g)        # genuine < t
    k = int(np.argmin(np.abs(far - frr)))
    return float((far[k] + frr[k]) / 2), float(candidates[k])


def threshold_at_far(impostor: Matrix, far: float) -> float:
    """The lowest threshold whose false-accept rate is at most ``far``."""
    ranked = np.sort(impostor)[::-1]
    allowed = math.floor(far * len(ranked))     # impostors that may score at or above
    return float(np.nextafter(ranked[allowed], np.inf)) if allowed < len(ranked) else 0.0


def tar_at_far(genuine: Matrix, impostor: Matrix, far: float) -> float:
    return float(np.mean(genuine >= threshold_at_far(impostor, far)))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap(scores: Matrix, stat: Callable[[Matrix], float], rounds: int,
              seed: int = 22) -> tuple[float, float]:
    """95 % interval of ``stat`` over people resampled with replacement (a person drawn twice
    is never compared with themself as an impostor)."""
    rng = np.random.default_rng(seed)
    n, values = len(scores), []
    for _ in range(rounds):
        pick = rng.integers(0, n, n)
        sub = scores[np.ix_(pick, pick)]
        same = pick[:, None] == pick[None, :]
        sub = np.where(same & ~np.eye(n, dtype=bool), np.nan, sub)
        values.append(stat(sub))
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def _pairs(scores: Matrix) -> tuple[Matrix, Matrix]:
    genuine, impostor = split(scores)
    return genuine, impostor[~np.isnan(impostor)]


def summary(scores: Matrix, threshold: float, rounds: int) -> dict[str, Any]:
    genuine, impostor = _pairs(scores)
    rate, at = eer(genuine, impostor)
    out: dict[str, Any] = {
        "genuine_pairs": len(genuine), "impostor_pairs": len(impostor),
        "eer": round(rate, 4), "eer_threshold": round(at, 4),
        "eer_ci95": bootstrap(scores, lambda s: eer(*_pairs(s))[0], rounds),
    }
    for far, name in ((1e-2, "tar_at_far_1e-2"), (1e-3, "tar_at_far_1e-3")):
        out[name] = round(tar_at_far(genuine, impostor, far), 4)
        out[name + "_threshold"] = round(threshold_at_far(impostor, far), 4)
        out[name + "_ci95"] = bootstrap(scores, lambda s, f=far: tar_at_far(*_pairs(s), f),
                                        rounds)
    false_accepts = int(np.sum(impostor >= threshold))
    false_rejects = int(np.sum(genuine < threshold))
    out["at_threshold"] = {
        "threshold": threshold,
        "far": round(false_accepts / len(impostor), 5),
        "far_ci95_wilson": tuple(round(v, 5) for v in wilson(false_accepts, len(impostor))),
        "frr": round(false_rejects / len(genuine), 4),
        "frr_ci95_wilson": tuple(round(v, 4) for v in wilson(false_rejects, len(genuine))),
        "false_accepts": false_accepts, "false_rejects": false_rejects,
    }
    out["genuine_score_min_median"] = (round(float(genuine.min()), 4),
                                       round(float(np.median(genuine)), 4))
    out["impostor_score_median_max"] = (round(float(np.median(impostor)), 4),
                                        round(float(impostor.max()), 4))
    return out
