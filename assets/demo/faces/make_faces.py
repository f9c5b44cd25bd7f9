"""Make the emulated face camera's people from the CC BY London set (benchmarks/data).

Run from the repository: ``python assets/demo/faces/make_faces.py``. Writes, for the demo
applicant (London 030) and another person (London 087):

- ``<key>.jpg``: the live face (the set's smiling photo, 400×400) the emulated camera shows;
- ``<key>_card.jpg``: their neutral photo as a resident card's chip gives it (102×126);
- ``faces.json``: each live face's five dlib landmarks, so the emulator can turn the head and
  close the eyes where they are without loading dlib itself.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent
ROOT = OUT.parents[2]
sys.path.insert(0, str(ROOT))
LONDON = ROOT / "benchmarks" / "data" / "london_face_set"
PEOPLE = {"applicant": "030", "other": "087"}


def main() -> None:
    from drivers.face.dlib_matcher import DlibMatcher
    from drivers.face.image import load_rgb
    matcher, marks = DlibMatcher(), {}
    for key, person in PEOPLE.items():
        live = load_rgb((LONDON / "smiling" / f"{person}.jpg").read_bytes())
        Image.fromarray(live).save(OUT / f"{key}.jpg", quality=90)
        (face,) = matcher.detect(live)
        marks[key] = {"landmarks": [[round(x, 1), round(y, 1)] for x, y in face.landmarks]}
        neutral = load_rgb((LONDON / "neutral" / f"{person}.jpg").read_bytes())
        h, w = neutral.shape[:2]
        crop = neutral[int(h * 0.15):int(h * 0.85), int(w * 0.215):int(w * 0.785)]
        card = cv2.resize(crop, (102, 126), interpolation=cv2.INTER_AREA)
        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(card)).save(out, "JPEG", quality=75)
        (OUT / f"{key}_card.jpg").write_bytes(out.getvalue())
    (OUT / "faces.json").write_text(json.dumps(marks, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
