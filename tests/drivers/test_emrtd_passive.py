"""Passive authentication: EF.SOD's CMS signature, its document signer's certificate against
a CSCA master list (PEM, DER, ICAO .ml), each read data group's hash. Against the emulator
called directly, and through the real stack (pyscard → pcscd → vsmartcard-vpcd → emulator).
Keys are made here at test time, or are the published test pair in assets/demo/emrtd."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.identity import ChipCheck, MrzKey
from drivers.identity.emrtd import cms, issuer, lds, masterlist, passive, signatures, tlv
from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for
from drivers.identity.emrtd.errors import (
    BadCardReply,
    DocumentTampered,
    MasterListInvalid,
    PassiveAuthFailed,
)
from drivers.identity.emrtd.lds import Ef
from drivers.identity.emrtd.reader import PcscReader
from drivers.identity.emrtd.reading import ChipSession
from drivers.identity.emulated import load_identities

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" / "demo"
DEMO = ASSETS / "emrtd"
KEY = MrzKey("EJ0000001", "880923", "330410")
TODAY = date(2026, 11, 22)
PASSPORT = load_identities(ASSETS / "identities.toml")["passport"]
FACE = (ASSETS / "face.jpg").read_bytes()


def pem(path: Path, *signers: issuer.Signer) -> Path:
    path.write_bytes(b"".join(s.cert.public_bytes(serialization.Encoding.PEM) for s in signers))
    return path


def read(signer: issuer.Signer | None = None, trust: masterlist.MasterList | None = None,
         *faults: str):
    card = EmrtdCard(files_for(PASSPORT, FACE, signer=signer))
    for fault in faults:
        card.inject(fault)
    return ChipSession(card.process, card.atr, trust=trust).read_identity(KEY, TODAY)


@pytest.fixture(scope="module")
def pki() -> issuer.TestPki:
    return issuer.ephemeral()


@pytest.fixture(scope="module")
def trusted(pki, tmp_path_factory) -> masterlist.MasterList:
    return masterlist.load(pem(tmp_path_factory.mktemp("ml") / "csca.pem", pki.csca))


# --- results -------------------------------------------------------------------------------
def test_without_a_master_list_the_evidence_says_so(pki):
    chip = read().chip
    assert chip is not None and chip.result is ChipCheck.NO_MASTER_LIST
    assert chip.result is not ChipCheck.VERIFIED
    assert any("no CSCA master list configured" in n for n in chip.notes)
    assert chip.document_signer == pki.document_signer.cert.subject.rfc4514_string()
    assert (chip.hash_algorithm, chip.groups, chip.csca) == ("sha256", (1, 2), "")


def test_a_listed_csca_verifies_and_is_named(pki, trusted):
    chip = read(trust=trusted).chip
    assert chip is not None and chip.result is ChipCheck.VERIFIED
    assert chip.csca == "CN=Tongban TEST CSCA,O=Tongban kiosk tests,C=UT"
    assert chip.csca_key_id == signatures.key_id(pki.csca.cert).hex()
    assert chip.master_list == "csca.pem (PEM, 1 CSCAs)" and chip.notes == ()
    as_json = read(trust=trusted).to_json()["chip"]
    assert (as_json["result"], as_json["groups"]) == ("verified", [1, 2])
    json.dumps(as_json)


def test_a_csca_not_in_the_list_is_unknown_but_the_read_goes_on(tmp_path):
    other = masterlist.load(pem(tmp_path / "other.pem", issuer.make_csca("Another CSCA")))
    identity = read(trust=other)
    assert identity.document_number == "EJ0000001"
    assert identity.chip is not None and identity.chip.result is ChipCheck.UNKNOWN_CSCA


def test_the_icao_master_list_format(tmp_path, pki):
    ml = issuer.make_document_signer(pki.csca, "ML signer")
    path = tmp_path / "national.ml"
    path.write_bytes(issuer.sign_master_list([issuer.make_csca("Old CSCA").cert,
                                              pki.csca.cert], ml))
    trust = masterlist.load(path)
    assert trust.source == "national.ml (ICAO master list, 2 CSCAs)"
    chip = read(trust=trust).chip
    assert chip is not None and chip.result is ChipCheck.VERIFIED


def test_the_demo_pair_and_its_master_lists_agree():
    demo = issuer.demo(DEMO)
    for name in ("test-csca.pem", "test-masterlist.ml"):
        chip = read(demo.document_signer, masterlist.load(DEMO / name)).chip
        assert chip is not None and chip.result is ChipCheck.VERIFIED, name


@pytest.mark.parametrize("scheme", ["rsa", "rsa-pss"])
def test_rsa_issuers_verify(tmp_path, scheme):
    csca = issuer.make_csca(scheme=scheme)
    trust = masterlist.load(pem(tmp_path / "rsa.pem", csca))
    chip = read(issuer.make_document_signer(csca), trust).chip
    assert chip is not None and chip.result is ChipCheck.VERIFIED


def test_validity_dates_outside_today_are_noted_not_failed(tmp_path):
    csca = issuer.make_csca(valid_from=datetime(2000, 1, 1, tzinfo=UTC),
                            valid_to=datetime(2040, 1, 1, tzinfo=UTC))
    old = issuer.make_document_signer(csca, valid_from=datetime(2010, 1, 1, tzinfo=UTC),
                                      valid_to=datetime(2020, 1, 1, tzinfo=UTC))
    chip = read(old, masterlist.load(pem(tmp_path / "c.pem", csca))).chip
    assert chip is not None and chip.result is ChipCheck.VERIFIED
    assert chip.notes == ("document signer certificate expired on 2020-01-01",)
    assert chip.signer_valid == (date(2010, 1, 1), date(2020, 1, 1))


# --- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize("listed", [True, False])
def test_a_bad_sod_signature_stops_the_read_master_list_or_not(trusted, listed):
    with pytest.raises(PassiveAuthFailed) as err:
        read(None, trusted if listed else None, "sod_bad_signature")
    assert "EF.SOD signature: signature does not verify" in err.value.en
    assert err.value.zh.startswith("证件芯片的签发机构签名校验未通过")
    assert err.value.evidence is not None and err.value.evidence.result is ChipCheck.FAILED


def test_a_forged_document_signer_fails_against_the_list(trusted):
    with pytest.raises(PassiveAuthFailed, match="does not verify under the CSCA it names"):
        read(None, trusted, "forged_signer")
    # without a master list the forgery is self-consistent: exactly why the evidence must say
    # that no master list was configured
    chip = read(None, None, "forged_signer").chip
    assert chip is not None and chip.result is ChipCheck.NO_MASTER_LIST


def test_a_message_digest_that_is_not_the_contents_fails(pki, trusted):
    files = files_for(PASSPORT, FACE)
    so = lds.build_security_object({1: files.files[Ef.DG1], 2: files.files[Ef.DG2]})
    other = so.replace(b"\x02\x01\x00", b"\x02\x01\x01", 1)       # version 0 → 1
    sod = issuer.sign_sod(so, pki.document_signer).replace(so, other)
    with pytest.raises(PassiveAuthFailed, match="message digest differs"):
        passive.authenticate(lds.parse_sod(sod), (1, 2), trusted, TODAY)


def test_an_unsigned_sod_fails():
    files = files_for(PASSPORT, FACE)
    signed = files.files[Ef.SOD]
    parsed = lds.parse_sod(signed)
    unsigned = lds.SecurityObject(parsed.algorithm, parsed.hashes,
                                  cms.SignedData(parsed.signed.content_type,
                                                 parsed.signed.content,
                                                 parsed.signed.certificates, ()))
    with pytest.raises(PassiveAuthFailed, match="0 signers"):
        passive.authenticate(unsigned, (1, 2), None, TODAY)


def test_a_tampered_group_is_still_caught_by_its_hash(trusted):
    with pytest.raises(DocumentTampered):
        read(None, trusted, "tamper_dg2")


# --- master list files ---------------------------------------------------------------------
def test_a_master_list_that_cannot_be_used_is_a_typed_error(tmp_path, pki, monkeypatch):
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    empty = tmp_path / "empty.der"
    empty.write_bytes(b"")
    sod = tmp_path / "sod.der"            # CMS, but an LDS security object
    sod.write_bytes(tlv.find(files_for(PASSPORT, FACE).files[Ef.SOD], lds.TAG_SOD))
    stranger = tmp_path / "stranger.ml"   # signed by someone no listed CSCA issued
    stranger.write_bytes(issuer.sign_master_list(
        [pki.csca.cert], issuer.make_document_signer(issuer.make_csca("Stranger"))))
    tampered = tmp_path / "tampered.ml"
    good = issuer.sign_master_list([pki.csca.cert], issuer.make_document_signer(pki.csca))
    at = good.index(b"Tongban TEST CSCA")
    tampered.write_bytes(good[:at] + b"X" + good[at + 1:])
    cases = {tmp_path / "missing.pem": "cannot read it", garbage: "not certificates",
             empty: "holds no certificate", sod: "not a CSCA master list",
             stranger: "no CSCA in the list issued", tampered: "message digest differs"}
    for path, reason in cases.items():
        with pytest.raises(MasterListInvalid) as err:
            masterlist.load(path)
        assert reason in err.value.reason, path
        assert err.value.zh.startswith("签发机构证书列表") and str(path) in err.value.en
    monkeypatch.setattr(masterlist, "MAX_BYTES", 100)
    with pytest.raises(MasterListInvalid, match="larger than"):
        masterlist.load(DEMO / "test-masterlist.ml")


def test_a_single_der_certificate_is_a_master_list(tmp_path, pki):
    path = tmp_path / "csca.cer"
    path.write_bytes(pki.csca.cert.public_bytes(serialization.Encoding.DER))
    assert masterlist.load(path).source == "csca.cer (DER, 1 CSCAs)"


SOD = files_for(PASSPORT, FACE).files[Ef.SOD]       # once: ECDSA signatures vary in length


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(SOD) - 1), st.integers(0, 255))
def test_a_mutated_sod_fails_only_in_documented_ways(at, byte):
    mutated = SOD[:at] + bytes([byte]) + SOD[at + 1:]
    with contextlib.suppress(BadCardReply, PassiveAuthFailed):
        passive.authenticate(lds.parse_sod(mutated), (1, 2), None, TODAY)


ML = (DEMO / "test-masterlist.ml").read_bytes()


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(ML) - 1), st.integers(0, 255))
def test_a_mutated_master_list_loads_or_is_refused(tmp_path_factory, at, byte):
    path = tmp_path_factory.mktemp("fuzz") / "m.ml"
    path.write_bytes(ML[:at] + bytes([byte]) + ML[at + 1:])
    with contextlib.suppress(MasterListInvalid):
        masterlist.load(path)


# --- through pcscd and the CLI -------------------------------------------------------------
@pytest.mark.parametrize(("which", "fault", "result"), [
    ("demo", "", ChipCheck.VERIFIED), ("other", "", ChipCheck.UNKNOWN_CSCA),
    ("none", "", ChipCheck.NO_MASTER_LIST), ("demo", "sod_bad_signature", None),
    ("demo", "forged_signer", None)])
def test_passive_authentication_through_pcscd(pcsc_rig, tmp_path, which, fault, result):
    lists = {"demo": DEMO / "test-masterlist.ml", "none": None,
             "other": pem(tmp_path / "other.pem", issuer.make_csca("Other CSCA"))}
    card = EmrtdCard(files_for(PASSPORT, FACE, signer=issuer.demo(DEMO).document_signer))
    if fault:
        card.inject(fault)
    link = VpcdCard(card, port=pcsc_rig.port)
    reader = PcscReader(reader=pcsc_rig.reader_names[0], poll_s=0.2, today=lambda: TODAY,
                        master_list=lists[which])
    reader.open()
    link.present()
    try:
        if result is None:
            with pytest.raises(PassiveAuthFailed):
                reader.read(10, KEY)
            return
        identity = reader.read(10, KEY)
    finally:
        reader.close()
        link.remove()
        pcsc_rig.wait_for_card(present=False)
    assert identity.chip is not None and identity.chip.result is result


MRZ = "EJ0000001,880923,330410"


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_the_cli_reads_a_refusing_chip_with_the_icao_master_list(pcsc_rig, tmp_path):
    """`devices emulate emrtd --fault …` in one process, `devices identity` in another: they
    share nothing but the published test CSCA."""
    with subprocess.Popen(
            [sys.executable, "-m", "kiosk", "devices", "emulate", "emrtd", "--vpcd-port",
             str(pcsc_rig.port), "--fault", "refuse_sfi", "--fault", "refuse_extended",
             "--present", "passport"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=ROOT) as emulator:
        assert emulator.stdin is not None and emulator.stdout is not None
        try:
            assert emulator.stdout.readline().startswith("eMRTD chip for vpcd")
            pcsc_rig.wait_for_card(present=True)
            done = kiosk("devices", "identity", "--backend", "pcsc", "--mrz", MRZ,
                         "--master-list", str(DEMO / "test-masterlist.ml"), "--json")
            emulator.stdin.write("fault forged_signer\n")
            emulator.stdin.flush()
            emulator.stdout.readline()                  # commands: …
            assert emulator.stdout.readline() == "ok\n"
            forged = kiosk("devices", "identity", "--backend", "pcsc", "--mrz", MRZ,
                           "--master-list", str(DEMO / "test-csca.pem"))
            bad_list = kiosk("devices", "identity", "--backend", "pcsc", "--mrz", MRZ,
                             "--master-list", str(tmp_path / "nope"))
            emulator.stdin.write("quit\n")
            emulator.stdin.flush()
            assert emulator.wait(timeout=10) == 0
        finally:
            emulator.kill()
            pcsc_rig.wait_for_card(present=False)
    assert done.returncode == 0, done.stderr
    chip = json.loads(done.stdout)["chip"]
    assert (chip["result"], chip["master_list"]) == \
        ("verified", "test-masterlist.ml (ICAO master list, 1 CSCAs)")
    assert forged.returncode == 1
    assert forged.stderr.startswith("emrtd_passive_auth_failed: 证件芯片的签发机构签名校验未通过")
    assert bad_list.returncode == 1 and "emrtd_master_list_invalid" in bad_list.stderr


def test_the_kiosk_builds_the_reader_with_its_master_list(tmp_path):
    """``devices.identity_reader.options.master_list``: a file under paths.data_dir."""
    from kiosk.bootstrap import device_context
    from kiosk.devices.builtin import BUILTIN
    from kiosk.settings import load_settings

    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)
    context = device_context(settings)
    (tmp_path / "fleet").mkdir()
    (tmp_path / "fleet" / "csca.ml").write_bytes((DEMO / "test-masterlist.ml").read_bytes())
    built = BUILTIN.make("identity_reader", "pcsc", {"master_list": "fleet/csca.ml"}, context)
    assert built.trust is not None and built.trust.source.startswith("csca.ml (ICAO")
    assert BUILTIN.make("identity_reader", "pcsc", {}, context).trust is None
    with pytest.raises(MasterListInvalid):
        BUILTIN.make("identity_reader", "pcsc", {"master_list": "fleet/missing.ml"}, context)
