"""好差评 kept and uploaded (issue 24 §6): the kiosk keeps each rating on disk when it is
given, and sends it to a fake evaluation endpoint on loopback (a real HTTP server) coded with
that endpoint's tables; a crash before the upload loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.bootstrap import build_kiosk
from kiosk.catalogue.model import CaseType
from kiosk.demo.citizen import Scenario, run
from kiosk.evaluation.codes import TABLES
from kiosk.evaluation.record import Evaluation
from kiosk.evaluation.store import EvaluationStore
from kiosk.evaluation.upload import EvaluationUploader
from kiosk.rating import Rating
from kiosk.settings import EvaluationSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.toml"
NOW = datetime(2026, 12, 7, 10, 0)


class FakeEndpoint:
    """A 好差评 interface on 127.0.0.1: records each JSON body, answers the next status."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                endpoint.bodies.append(json.loads(self.rfile.read(length)))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ratings"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    fake = FakeEndpoint()
    yield fake
    fake.close()


class Alerts:
    def __init__(self) -> None:
        self.raised: list[tuple[str, dict[str, str]]] = []

    def alert(self, code: str, detail: dict[str, str]) -> None:
        self.raised.append((code, detail))


def item(rating_id: str = "110105-0001-abc", level: Rating = Rating.VERY_SATISFIED,
         case_type: CaseType = CaseType.PROMISED, reasons: tuple[str, ...] = ()) -> Evaluation:
    return Evaluation(rating_id=rating_id, kiosk_id="110105-0001", area_code="110105",
                      org_code="", department="北京市朝阳区政务服务中心",
                      matter_code="GA-HJZM-001", matter_name="户籍类证明",
                      case_type=case_type.value, promised_days=5, number="TB-1",
                      outcome="received", round=1, level=level.value, reasons=reasons,
                      comment="", staff_may_contact=None, rated_at="2026-12-07T10:00:00+08:00")


def uploader(tmp_path: Path, url: str, codes: str = "gbt39046"
             ) -> tuple[EvaluationStore, EvaluationUploader, Alerts]:
    store = EvaluationStore(tmp_path / "evaluation.sqlite")
    alerts = Alerts()
    settings = EvaluationSettings(endpoint=url, codes=codes, channel_code="07",  # type: ignore[arg-type]
                                  retry_min_s=30, retry_max_s=600)
    return store, EvaluationUploader(store, settings, alerts), alerts


def test_each_table_codes_every_level_and_the_two_disagree() -> None:
    gb, rev = TABLES["gbt39046"], TABLES["reversed"]
    for level in Rating:
        assert gb.code_satisfaction(level) in "12345"
        assert int(gb.code_satisfaction(level)) + int(rev.code_satisfaction(level)) == 6
    assert gb.code_satisfaction(Rating.VERY_SATISFIED) == "1"
    assert rev.code_satisfaction(Rating.VERY_SATISFIED) == "5"
    assert (gb.code_case_type(CaseType.PROMISED), rev.code_case_type(CaseType.PROMISED)) == (
        "2", "1")


@pytest.mark.parametrize(("codes", "satisfaction", "case_type"),
                         [("gbt39046", "1", "2"), ("reversed", "5", "1")])
def test_the_endpoint_receives_its_own_codes(tmp_path: Path, endpoint: FakeEndpoint,
                                             codes: str, satisfaction: str,
                                             case_type: str) -> None:
    store, up, _ = uploader(tmp_path, endpoint.url, codes)
    store.keep(item(), NOW)
    assert up.send_due(NOW) == 1
    body = endpoint.bodies[0]
    assert (body["satisfaction"], body["caseType"]) == (satisfaction, case_type)
    assert body["channel"] == "政务大厅自助终端" and body["channelCode"] == "07"
    assert body["ratingId"] == "110105-0001-abc" and body["round"] == 1
    assert store.counts() == {"sent": 1}
    up.close()


def test_a_value_the_table_lacks_is_refused_not_passed_through(
        tmp_path: Path, endpoint: FakeEndpoint) -> None:
    store, up, alerts = uploader(tmp_path, endpoint.url)
    store.keep(item(case_type=CaseType.JOINT), NOW)      # GB/T 39046 A.6 has no 联办件 code
    assert up.send_due(NOW) == 0
    assert endpoint.bodies == [] and store.counts() == {"refused": 1}
    assert alerts.raised[0][0] == "evaluation_refused"
    assert "case_type" in alerts.raised[0][1]["why"]
    up.close()


def test_a_server_error_is_tried_again_later_and_delivered_once(
        tmp_path: Path, endpoint: FakeEndpoint) -> None:
    store, up, alerts = uploader(tmp_path, endpoint.url)
    store.keep(item(), NOW)
    endpoint.statuses = [503]
    assert up.send_due(NOW) == 0 and store.counts() == {"pending": 1}
    assert up.send_due(NOW + timedelta(seconds=1)) == 0     # not due yet: no second POST
    assert len(endpoint.bodies) == 1
    assert up.send_due(NOW + timedelta(minutes=5)) == 1
    assert len(endpoint.bodies) == 2 and store.counts() == {"sent": 1} and not alerts.raised
    up.close()


def test_an_unreachable_endpoint_keeps_the_rating(tmp_path: Path) -> None:
    store, up, _ = uploader(tmp_path, "http://127.0.0.1:9/ratings")   # discard port: refused
    store.keep(item(), NOW)
    assert up.send_due(NOW) == 0 and store.counts() == {"pending": 1}
    up.close()


@pytest.mark.parametrize(("status", "state"), [(400, "refused"), (409, "sent"),
                                               (429, "pending")])
def test_client_errors(tmp_path: Path, endpoint: FakeEndpoint, status: int, state: str) -> None:
    store, up, alerts = uploader(tmp_path, endpoint.url)
    store.keep(item(), NOW)
    endpoint.statuses = [status]
    up.send_due(NOW)
    assert store.counts() == {state: 1}
    assert bool(alerts.raised) is (state == "refused")
    up.close()


def test_reasons_replace_an_unsent_rating_and_follow_a_sent_one(
        tmp_path: Path, endpoint: FakeEndpoint) -> None:
    store, up, _ = uploader(tmp_path, endpoint.url)
    store.keep(item(level=Rating.VERY_DISSATISFIED), NOW)
    store.keep(item(level=Rating.VERY_DISSATISFIED, reasons=("too_slow",)), NOW)
    assert up.send_due(NOW) == 1
    assert [b["reasons"] for b in endpoint.bodies] == [["too_slow"]]
    store.keep(item(level=Rating.VERY_DISSATISFIED, reasons=("too_slow", "no_help")), NOW)
    assert up.send_due(NOW) == 1
    assert [(b["version"], b["reasons"]) for b in endpoint.bodies] == [
        (1, ["too_slow"]), (2, ["too_slow", "no_help"])]
    up.close()


def _settings(data: Path, url: str = "") -> Settings:
    settings = load_settings(DEMO).with_data_dir(data)
    return settings.model_copy(update={"evaluation": EvaluationSettings(endpoint=url)})


CRASH = """
import os, sys
from pathlib import Path
from kiosk.demo.citizen import Scenario, run
from kiosk.settings import load_settings
out = Path(sys.argv[1])
run(load_settings(Path(sys.argv[2])), "GA-HJZM-001", None, Scenario(sys.argv[3]), out)
os.kill(os.getpid(), 9)          # the power goes before any upload was tried
"""


@pytest.mark.parametrize("scenario", ["complete", "missing"])
def test_a_crash_after_the_rating_loses_nothing(tmp_path: Path, endpoint: FakeEndpoint,
                                                scenario: str) -> None:
    child = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path), str(DEMO), scenario],
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
                           capture_output=True)
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    kiosk = build_kiosk(_settings(tmp_path / "data", endpoint.url))
    try:
        assert kiosk.evaluation_upload is not None
        assert kiosk.evaluation_upload.send_due(datetime.now() + timedelta(seconds=1)) == 1
    finally:
        kiosk.close()
    (body,) = endpoint.bodies
    assert body["satisfaction"] == "1" and body["matterCode"] == "GA-HJZM-001"
    assert body["outcome"] == ("received" if scenario == "complete" else "notice")
    assert body["caseNumber"]                      # the 受理编号 or the notice's number
    text = json.dumps(body, ensure_ascii=False)
    for personal in ("张明华", "110101195803121237", "13800138000"):
        assert personal not in text


def test_the_demo_keeps_one_rating_per_transaction(tmp_path: Path) -> None:
    run(load_settings(DEMO), "GA-HJZM-001", None, Scenario.COMPLETE, tmp_path / "a")
    run(load_settings(DEMO), "GA-HJZM-001", None, Scenario.MISSING, tmp_path / "b")
    for folder in ("a", "b"):
        store = EvaluationStore(tmp_path / folder / "data" / "evaluation.sqlite")
        assert store.counts() == {"pending": 1}      # no endpoint in the demo: kept, waiting
        store.close()
