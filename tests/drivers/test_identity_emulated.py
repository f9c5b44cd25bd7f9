"""The emulated identity reader and the shipped demo identities."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from drivers.errors import DeviceError, DeviceFault
from drivers.identity import (
    CardNotFound,
    CardReadFailed,
    CardRemoved,
    CardType,
    Identity,
    IdentityReader,
    idnumber,
)
from drivers.identity.emulated import BadIdentityData, EmulatedIdentityReader, load_identities
from drivers.status import DeviceEvent, DeviceState

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "demo" / "identities.toml"
LONG_WAIT = 30.0   # generous: a card always arrives long before; never asserted on
TINY_WAIT = 0.05   # for reads that must come back empty


@pytest.fixture
def identities() -> dict[str, Identity]:
    return load_identities(SHIPPED)


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def reader(identities: dict[str, Identity],
           events: list[DeviceEvent]) -> Iterator[EmulatedIdentityReader]:
    emulated = EmulatedIdentityReader(identities)
    emulated.open(events.append)
    yield emulated
    emulated.close()


def _in_background(target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


# --- the shipped file ---------------------------------------------------------------------
def test_shipped_file_has_every_demo_identity(identities: dict[str, Identity]) -> None:
    assert set(identities) == {"resident", "resident_expired", "resident_young", "hmt",
                               "foreigner", "foreigner_2017", "passport",
                               "staff_demo",      # kiosk/staff/demo.py's staff card
                               # issue 23: applicants from several provinces (docs/routing.md)
                               "resident_chongqing", "resident_neimenggu", "resident_guangdong",
                               "resident_shandong", "resident_old_address", "resident_cangxi"}


def test_resident_is_long_term_and_matches_the_brief(identities: dict[str, Identity]) -> None:
    person = identities["resident"]
    assert person.card_type is CardType.RESIDENT
    assert (person.name, person.sex, person.nation_code, person.nation) == \
        ("张明华", "男", "01", "汉")
    assert person.id_number == idnumber.with_check("11010119580312123")
    assert person.birth_date == date(1958, 3, 12)
    assert person.valid_from == date(2016, 5, 20)
    assert person.valid_to is None  # 长期
    assert not person.is_expired(date.today())
    assert not person.is_expired(date(2199, 1, 1))


def test_expired_and_young_residents(identities: dict[str, Identity]) -> None:
    expired, young = identities["resident_expired"], identities["resident_young"]
    assert expired.valid_to is not None and expired.valid_to.year == 2024
    assert expired.is_expired(date.today())
    assert young.valid_from is not None and young.valid_to is not None
    assert young.valid_to.year - young.valid_from.year == 10
    assert not young.is_expired(date.today())


def test_every_gb11643_number_is_valid_and_matches_birth(
        identities: dict[str, Identity]) -> None:
    for person in identities.values():
        if person.card_type in (CardType.FOREIGNER_2017, CardType.EMRTD):   # not GB 11643
            continue
        assert idnumber.is_valid(person.id_number), person.card_type
        assert idnumber.birth_date(person.id_number) == person.birth_date


def test_hmt_and_foreigner_cards(identities: dict[str, Identity]) -> None:
    hmt, foreigner = identities["hmt"], identities["foreigner"]
    assert hmt.card_type is CardType.HMT_RESIDENCE
    assert hmt.id_number[:6] in ("810000", "820000", "830000")
    assert foreigner.card_type is CardType.FOREIGNER_2023
    assert foreigner.name_en and foreigner.nationality == "CAN"
    assert foreigner.id_number.startswith("9")
    assert not foreigner.is_expired(date.today())


def test_repr_never_shows_name_or_number(identities: dict[str, Identity]) -> None:
    for person in identities.values():
        for shown in (repr(person), str(person), f"{person}", repr([person])):
            assert person.name not in shown
            assert person.id_number not in shown


# --- bad data -----------------------------------------------------------------------------
GOOD_ENTRY = """
[{key}]
card_type = "{card_type}"
name = "测试人"
sex = "男"
birth_date = 1958-03-12
id_number = "{number}"
{extra}
"""
GOOD_NUMBER = idnumber.with_check("11010119580312123")


def _write(tmp_path: Path, key: str = "bad_one", card_type: str = "resident",
           number: str = GOOD_NUMBER, extra: str = "") -> Path:
    path = tmp_path / "identities.toml"
    path.write_text(GOOD_ENTRY.format(key=key, card_type=card_type, number=number,
                                      extra=extra), encoding="utf-8")
    return path


def test_a_good_temp_file_loads(tmp_path: Path) -> None:
    assert list(load_identities(_write(tmp_path, key="ok"))) == ["ok"]


def test_bad_check_digit_names_the_key(tmp_path: Path) -> None:
    wrong = GOOD_NUMBER[:17] + ("0" if GOOD_NUMBER[17] != "0" else "1")
    with pytest.raises(BadIdentityData) as caught:
        load_identities(_write(tmp_path, key="typo_card", number=wrong))
    assert caught.value.key == "typo_card"
    assert "typo_card" in caught.value.zh and "typo_card" in caught.value.en
    assert isinstance(caught.value, DeviceError)
    assert wrong not in str(caught.value)  # the message never repeats the number


@pytest.mark.parametrize("kwargs", [
    {"number": idnumber.with_check("11010119580313123")},       # birth date differs
    {"number": idnumber.with_check("11010119580312122")},       # even digit: a woman
    {"card_type": "hmt_residence"},                             # resident number on an HMT card
    {"card_type": "passport"},                                  # no such card type
    {"extra": "favourite_colour = \"red\""},                    # unknown key
    {"extra": "valid_from = 2020-01-01\nvalid_to = 2010-01-01"},
    {"extra": "valid_from = \"not a date\""},
])
def test_other_bad_entries_are_rejected(tmp_path: Path, kwargs: dict[str, str]) -> None:
    with pytest.raises(BadIdentityData, match="bad_one"):
        load_identities(_write(tmp_path, **kwargs))


def test_unreadable_file_is_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[resident\n", encoding="utf-8")
    with pytest.raises(BadIdentityData, match=r"broken\.toml"):
        load_identities(path)


# --- reading ------------------------------------------------------------------------------
def test_emulator_fulfils_the_protocol(reader: EmulatedIdentityReader) -> None:
    fulfils: IdentityReader = reader
    assert fulfils.status().state is DeviceState.ONLINE


def test_read_waits_for_a_card_presented_from_another_thread(
        reader: EmulatedIdentityReader, identities: dict[str, Identity]) -> None:
    placed = threading.Event()

    def place_when_reader_is_waiting() -> None:
        placed.wait(TINY_WAIT)  # no card yet when read() starts; this is not asserted
        reader.present("resident")

    thread = _in_background(place_when_reader_is_waiting)
    assert reader.read(LONG_WAIT) == identities["resident"]
    thread.join()


def test_no_card_means_card_not_found(reader: EmulatedIdentityReader) -> None:
    with pytest.raises(CardNotFound):
        reader.read(TINY_WAIT)


def test_card_stays_until_removed(reader: EmulatedIdentityReader) -> None:
    reader.present("hmt")
    assert reader.read(LONG_WAIT).card_type is CardType.HMT_RESIDENCE
    assert reader.read(LONG_WAIT).card_type is CardType.HMT_RESIDENCE
    reader.remove()
    with pytest.raises(CardNotFound):
        reader.read(TINY_WAIT)


def test_present_accepts_an_identity_and_rejects_unknown_keys(
        reader: EmulatedIdentityReader, identities: dict[str, Identity]) -> None:
    reader.present(identities["foreigner"])
    assert reader.read(LONG_WAIT) is identities["foreigner"]
    with pytest.raises(KeyError):
        reader.present("nobody")
    with pytest.raises(ValueError):
        reader.inject("smoke")  # type: ignore[arg-type]


@pytest.mark.parametrize(("fault", "error"), [
    ("card_removed_mid_read", CardRemoved),
    ("read_failed", CardReadFailed),
    ("module_fault", DeviceFault),
    ("silence", CardNotFound),
])
def test_each_fault_raises_its_error_and_the_reader_recovers(
        reader: EmulatedIdentityReader, identities: dict[str, Identity],
        fault: str, error: type[DeviceError]) -> None:
    reader.present("resident")
    reader.inject(fault)  # type: ignore[arg-type]
    with pytest.raises(error):
        reader.read(TINY_WAIT)
    reader.clear_faults()
    reader.present("resident_young")
    assert reader.read(LONG_WAIT) == identities["resident_young"]


def test_read_failed_happens_once(reader: EmulatedIdentityReader) -> None:
    reader.present("resident")
    reader.inject("read_failed")
    with pytest.raises(CardReadFailed):
        reader.read(LONG_WAIT)
    assert reader.read(LONG_WAIT).name == "张明华"  # same card, no clear_faults needed


def test_card_pulled_mid_read_then_placed_again(reader: EmulatedIdentityReader) -> None:
    reader.present("resident")
    reader.inject("card_removed_mid_read")
    with pytest.raises(CardRemoved):
        reader.read(LONG_WAIT)
    with pytest.raises(CardNotFound):  # the card counts as gone
        reader.read(TINY_WAIT)
    reader.present("resident")
    assert reader.read(LONG_WAIT).name == "张明华"


def test_module_fault_persists_and_shows_in_status(reader: EmulatedIdentityReader) -> None:
    reader.present("resident")
    reader.inject("module_fault")
    assert reader.status().state is DeviceState.HARDWARE_ERROR
    assert not reader.status().usable
    for _ in range(2):
        with pytest.raises(DeviceFault):
            reader.read(LONG_WAIT)
    reader.clear_faults()
    assert reader.status().state is DeviceState.ONLINE
    assert reader.read(LONG_WAIT).name == "张明华"


def test_module_fault_wakes_a_waiting_read(reader: EmulatedIdentityReader) -> None:
    thread = _in_background(reader.inject, "module_fault")
    with pytest.raises(DeviceFault):
        reader.read(LONG_WAIT)  # returns on the fault, not at the timeout
    thread.join()


def test_closed_reader_is_offline_and_refuses_reads(reader: EmulatedIdentityReader) -> None:
    reader.close()
    assert reader.status().state is DeviceState.OFFLINE
    with pytest.raises(DeviceFault):
        reader.read(TINY_WAIT)


def test_events_reach_the_sink_without_personal_data(
        reader: EmulatedIdentityReader, events: list[DeviceEvent],
        identities: dict[str, Identity]) -> None:
    reader.present("resident")
    reader.remove()
    reader.inject("module_fault")
    kinds = [event.kind for event in events]
    assert kinds == ["status", "card_inserted", "card_removed", "status"]
    assert events[1].data["card_type"] == "resident"
    assert events[-1].data["state"] == "hardware_error"
    assert all(event.device == "identity.emulated" for event in events)
    person = identities["resident"]
    assert person.name not in repr(events) and person.id_number not in repr(events)
