"""``kiosk face verify`` as a person runs it: a real child process on real photos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT / "benchmarks" / "data" / "london_face_set"


def kiosk(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *argv], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_one_pair_prints_match_score_and_threshold() -> None:
    done = kiosk("face", "verify", "--document", str(LONDON / "neutral/010.jpg"),
                 "--live", str(LONDON / "smiling/010.jpg"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"match", "score", "threshold"}
    assert result["match"] is True and result["score"] > result["threshold"]


def test_a_pairs_file_gives_one_line_a_pair_and_goes_on_after_a_bad_one(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    subprocess.run([sys.executable, "-c", "from PIL import Image; "
                    f"Image.new('RGB', (200, 200), 'white').save({str(blank)!r})"], check=True)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("document,live\n"
                     f"{LONDON}/neutral/011.jpg,{LONDON}/smiling/011.jpg\n"
                     f"{LONDON}/neutral/011.jpg,blank.png\n"
                     f"{LONDON}/neutral/011.jpg,{LONDON}/smiling/012.jpg\n", encoding="utf-8")
    done = kiosk("face", "verify", "--pairs", str(pairs), "--json")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1
    assert [line.get("match") for line in lines] == [True, None, False]
    assert lines[1]["error"]["code"] == "no_face"
    assert "现场照片" in lines[1]["error"]["zh"] and "Live photo" in lines[1]["error"]["en"]


def test_no_face_in_a_single_pair_is_a_bilingual_refusal(tmp_path: Path) -> None:
    blank = tmp_path / "blank.jpg"
    blank.write_bytes((LONDON / "neutral/001.jpg").read_bytes()[:200])
    done = kiosk("face", "verify", "--document", str(blank),
                 "--live", str(LONDON / "smiling/001.jpg"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "证件照片" in done.stderr and "Document photo" in done.stderr


def test_a_pairs_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b\nx.jpg,y.jpg\n", encoding="utf-8")
    done = kiosk("face", "verify", "--pairs", str(pairs))
    assert done.returncode == 2 and "document" in done.stderr and "列" in done.stderr


def test_both_ways_of_asking_at_once_are_refused() -> None:
    done = kiosk("face", "verify", "--pairs", "x.csv", "--document", "a.jpg")
    assert done.returncode == 2 and "--pairs" in done.stderr and "请给出" in done.stderr


def test_the_emulated_face_camera_films_a_recording_the_replay_backend_plays(
        tmp_path: Path) -> None:
    done = kiosk("devices", "emulate", "face", "--present", "photo", "--act", "blink",
                 "--seconds", "0.5", "--fps", "8", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"frame{i:04d}.png" for i in range(4)]


def test_filming_a_scene_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    done = kiosk("devices", "emulate", "face", "--present", "twins", "--out", str(tmp_path))
    assert done.returncode == 2 and "参数有误" in done.stderr and "--present" in done.stderr
    assert list(tmp_path.iterdir()) == []
