"""`kiosk scan detect|rectify|codes`, each run as its own process, as later checks run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import qrcode
from PIL import Image

from drivers.camera.scoring import jaccard_index, smartdoc_frames

ROOT = Path(__file__).resolve().parents[1]
FRAME = next(smartdoc_frames(ROOT / "benchmarks" / "data" / "smartdoc15_ch1_sample"))


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "scan", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_detect_gives_one_json_object_per_image_and_names_the_bad_file(tmp_path) -> None:
    junk = tmp_path / "不是图片.jpg"
    junk.write_bytes(b"not a picture")
    done = kiosk("detect", FRAME.path, junk, "--json")
    assert done.returncode == 1
    found, bad = (json.loads(line) for line in done.stdout.splitlines())
    assert set(found) == {"image", "found", "quad", "quality", "ms"} and found["found"]
    quad = np.array(found["quad"], np.float32)
    assert quad.shape == (4, 2)
    assert jaccard_index(FRAME.quad, quad, FRAME.reference) > 0.95   # TL, TR, BR, BL order
    assert bad["image"].endswith("不是图片.jpg") and bad["error"]["code"] == "unreadable_image"
    assert bad["error"]["zh"] and bad["error"]["en"]


def test_rectify_writes_the_straightened_page(tmp_path) -> None:
    out = tmp_path / "page.jpg"
    done = kiosk("rectify", FRAME.path, "--out", out, "--dpi", "150", "--mode", "grey")
    assert done.returncode == 0, done.stderr
    with Image.open(out) as page:
        assert page.mode == "L" and page.info["dpi"] == (150, 150)
        assert page.height == round(297 / 25.4 * 150)
    assert "page.jpg" in done.stdout


@pytest.mark.parametrize("decoder", ["cascade", "zxing", "pyzbar"])
def test_codes_reads_a_gb18030_qr_on_a_page(tmp_path, decoder: str) -> None:
    text = "受理编号：跨省通办-2026-0001"
    code = qrcode.QRCode(border=4)
    code.add_data(text.encode("gb18030"))
    page = Image.new("L", (1200, 1600), 255)
    page.paste(code.make_image().get_image().convert("L").resize((400, 400)), (700, 1100))
    path = tmp_path / "page.png"
    page.save(path)
    done = kiosk("codes", path, "--json", "--decoder", decoder)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(s["format"], s["text"]) for s in result["symbols"]] == [("QRCODE", text)]
    assert bytes.fromhex(result["symbols"][0]["raw_hex"]) == text.encode("gb18030")
