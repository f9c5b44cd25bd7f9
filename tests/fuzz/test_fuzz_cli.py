"""Every command that reads outside input, run in this process (``kiosk.cli.main``) on bad
input: a typed, bilingual refusal and an exit status other than 0 — never a traceback (an
exception out of main fails the test) and never exit 0 on wrong input.

The inputs that once exhausted memory or hung run in a memory-limited child instead:
test_fuzz_limits.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_inputs import (
    CATALOGUE,
    FRAME,
    GENERIC,
    REGIONS,
    Builder,
    check_refusal,
    garbage,
    one_pixel,
    png,
    settings_text,
    settings_with_route_key,
    text_as_image,
    truncated_photo,
    write_text,
)

from intake.cli import main as region_main
from kiosk.cli import main

Argv = Callable[[Path, Path], list[str]]     # (bad file, tmp folder) → arguments
FACE = Path(__file__).resolve().parents[2] / "benchmarks/data/london_face_set/smiling/001.jpg"

READERS: dict[str, Argv] = {
    "scan-detect": lambda p, tmp: ["scan", "detect", str(p)],
    "scan-rectify": lambda p, tmp: ["scan", "rectify", str(p), "--out", str(tmp / "o.jpg")],
    "scan-codes": lambda p, tmp: ["scan", "codes", str(p), "--json"],
    "catalogue-validate": lambda p, tmp: ["catalogue", "validate", str(p)],
    "catalogue-list": lambda p, tmp: ["catalogue", "list", "--path", str(p)],
    "config-validate": lambda p, tmp: ["config", "validate", str(p)],
    "keys-show": lambda p, tmp: ["keys", "show", "--settings", str(p)],
    "route-key": lambda p, tmp: ["config", "validate", str(settings_with_route_key(tmp, p))],
    "print-receipt": lambda p, tmp: ["print", "receipt", "--case-file", str(p),
                                     "--out", str(tmp / "r.bin")],
    "identities": lambda p, tmp: ["devices", "emulate", "ga467", "--identities", str(p)],
    "face-document": lambda p, tmp: ["face", "verify", "--document", str(p), "--live", str(FACE),
                                     "--json"],
    "face-live": lambda p, tmp: ["face", "verify", "--document", str(FACE), "--live", str(p)],
    "face-pairs": lambda p, tmp: ["face", "verify", "--pairs", str(p), "--json"],
}
IMAGE_READERS = {"scan-detect", "scan-rectify", "scan-codes", "face-document", "face-live"}


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """``argv`` of the kiosk program, or of the region's (``["region", …]``: kiosk-region)."""
    program, args = (region_main, argv[1:]) if argv[:1] == ["region"] else (main, argv)
    try:
        code: int | str | None = program(args)
    except SystemExit as exc:          # argparse's own refusals
        code = exc.code
    out, err = capsys.readouterr()
    check_refusal(code, out, err)
    return out + err


@pytest.mark.parametrize("kind", sorted(GENERIC))
@pytest.mark.parametrize("command", sorted(READERS))
def test_every_reader_refuses_every_kind_of_wrong_file(
        command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if command == "route-key" and kind == "gbk-name":
        pytest.skip("a settings file (UTF-8) cannot name a path that is not UTF-8")
    build = text_as_image if kind == "wrong-kind" and command in IMAGE_READERS else GENERIC[kind]
    refused(READERS[command](build(tmp_path), tmp_path), capsys)


# --- scan --------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [one_pixel, truncated_photo], ids=["1x1", "truncated"])
@pytest.mark.parametrize("command", ["scan-detect", "scan-rectify"])
def test_scan_refuses_pictures_it_cannot_use(command: str, build: Builder, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    refused(READERS[command](build(tmp_path), tmp_path), capsys)
    assert not (tmp_path / "o.jpg").exists()


def test_rectify_with_no_page_says_so_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "blank.png"
    blank.write_bytes(png(800, 600))
    text = refused(["scan", "rectify", str(blank), "--out", str(tmp_path / "o.jpg")], capsys)
    assert "No page found" in text and "没有检测到材料" in text
    assert not (tmp_path / "o.jpg").exists()


@pytest.mark.parametrize("out", ["no-folder/page.jpg", "."], ids=["missing-folder", "a-folder"])
def test_rectify_refuses_an_output_it_cannot_write(out: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    refused(["scan", "rectify", str(FRAME), "--out", str(tmp_path / out)], capsys)
    assert not (tmp_path / "no-folder").exists()


def test_scan_goes_on_after_a_bad_file(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    text = refused(["scan", "detect", str(tmp_path), str(FRAME)], capsys)
    assert "Is a folder" in text and "(" in text.splitlines()[-1]   # the frame's corners


# --- catalogue (YAML) --------------------------------------------------------------------------

CATALOGUE_TEXT = CATALOGUE.read_text(encoding="utf-8")
YAML_CASES = {    # case → (text, what the refusal must say)
    "duplicate-key": (CATALOGUE_TEXT + "schema_version: 1\n", "重复"),
    "deep-nesting": ("schema_version: 1\nmatters: " + "[" * 5000 + "]" * 5000 + "\n", "嵌套"),
    "deep-block-nesting": ("".join(" " * i + "- \n" for i in range(200)) + " " * 200 + "- x\n",
                           "嵌套"),
    "alias-to-itself": ("schema_version: 1\nmatters: &m [*m]\n", "自身"),
    "stacked-aliases": ("schema_version: 1\nmatters: []\na0: &a0 1\n" + "".join(
        f"a{i}: &a{i} " + "[" * 10 + f"*a{i - 1}" + "]" * 10 + "\n" for i in range(1, 10)),
        "嵌套"),
    "cut-mid-line": (CATALOGUE_TEXT[:5000].rstrip("\n"), "截断"),
    "two-documents": ("schema_version: 1\nmatters: []\n---\nschema_version: 1\n", "YAML"),
    "python-tag": ("schema_version: !!python/object/apply:os.getcwd []\nmatters: []\n", "YAML"),
    "not-a-mapping": ("- just\n- a list\n", "dictionary"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
@pytest.mark.parametrize("command", ["catalogue-validate", "catalogue-list"])
def test_catalogue_refuses_bad_yaml(command: str, case: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    text, says = YAML_CASES[case]
    path = write_text(tmp_path / "catalogue.yaml", text)
    assert says in refused(READERS[command](path, tmp_path), capsys)


@pytest.mark.parametrize("encoding", ["gbk", "utf-16"])
def test_catalogue_in_another_encoding_is_refused(encoding: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path / "catalogue.yaml", CATALOGUE_TEXT, encoding)
    assert "UTF-8" in refused(["catalogue", "validate", str(path)], capsys)


def test_duplicate_key_names_its_line(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    text = YAML_CASES["duplicate-key"][0]
    path = write_text(tmp_path / "catalogue.yaml", text)
    lines = len(text.splitlines())
    text = refused(["catalogue", "validate", str(path)], capsys)
    assert f"{path}:{lines}:" in text and "schema_version" in text and "重复" in text


# --- settings (TOML) ---------------------------------------------------------------------------

def _demo(tmp: Path) -> str:
    return settings_text(tmp / "data")


TOML_CASES: dict[str, tuple[Callable[[Path], str], str]] = {  # (text, what the refusal says)
    "deep-arrays": (lambda tmp: "schema_version = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n",
                    "嵌套"),
    "deep-inline-tables": (lambda tmp: "x = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n", "嵌套"),
    "deep-dotted-keys": (lambda tmp: "[kiosk]\n" + ".".join(["a"] * 300) + " = 1\n", "嵌套"),
    "cut-half-way": (lambda tmp: _demo(tmp)[: len(_demo(tmp)) // 2], "完整"),
    "cut-mid-number": (lambda tmp: _demo(tmp).split("idle_timeout_s = 120")[0]
                       + "idle_timeout_s = 12", "截断"),
    "cut-before-devices": (lambda tmp: _demo(tmp).split("[devices]")[0], "[devices]"),
    "cut-before-printer": (lambda tmp: _demo(tmp).split("[devices.receipt_printer]")[0],
                           "[devices.receipt_printer]"),
    "cut-before-transfer": (lambda tmp: _demo(tmp).split("[transfer]")[0], "[transfer]"),
    "cut-before-paths": (lambda tmp: _demo(tmp).split("[paths]")[0], "[paths]"),
    "gbk": (lambda tmp: _demo(tmp), "UTF-8"),    # written as GBK below
    # accepted with exit 0 before the device registry typed every backend's options
    "unknown-backend": (lambda tmp: _demo(tmp).replace('backend = "loopback"',
                                                       'backend = "nope"'), "unknown backend"),
    "misspelt-option": (lambda tmp: _demo(tmp).replace("dots_per_line = 576",
                                                       "dots_per_lin = 576"), "dots_per_lin"),
    "option-wrong-type": (lambda tmp: _demo(tmp).replace("dots_per_line = 576",
                                                         'dots_per_line = "wide"'),
                          "dots_per_line"),
    "unknown-device-kind": (lambda tmp: _demo(tmp) + '\n[devices.fax]\nbackend = "x"\n',
                            "unknown key `fax`"),
}


@pytest.mark.parametrize("case", sorted(TOML_CASES))
def test_config_refuses_bad_settings(case: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    text, says = TOML_CASES[case]
    path = write_text(tmp_path / "settings.toml", text(tmp_path),
                      "gbk" if case == "gbk" else "utf-8")
    assert says in refused(["config", "validate", str(path)], capsys)


def test_the_intact_settings_copy_is_accepted(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The control for the cut cases above: the same text whole passes."""
    path = write_text(tmp_path / "settings.toml", _demo(tmp_path))
    assert main(["config", "validate", str(path)]) == 0, capsys.readouterr()


@pytest.mark.parametrize("suite", ["x25519-chacha20", "sm2-sm4"])
def test_a_regions_private_key_as_route_key_is_refused(
        suite: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _demo(tmp_path).replace("x25519-chacha20", suite)
    private = str(REGIONS / f"region-110101-{suite}.key")
    text = text.replace(private.replace(".key", ".pub"), private)
    path = write_text(tmp_path / "settings.toml", text)
    out = refused(["config", "validate", str(path)], capsys)
    assert "private key" in out and "私钥" in out and "transfer.routes.110101.key" in out


def test_route_key_of_the_wrong_kind_is_refused_in_both_languages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = refused(READERS["route-key"](CATALOGUE, tmp_path), capsys)
    assert "密钥文件无效" in out and "Invalid key file" in out


# --- receipts, keys, outbox, devices -----------------------------------------------------------

JSON_CASES = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "truncated": '{"case_number": "510802-0001-20260101-0001", "applicant',
    "a-list": "[1, 2, 3]",
    "wrong-types": '{"case_number": 5, "issued": "yesterday"}',
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_print_receipt_refuses_bad_case_files(case: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path / "case.json", JSON_CASES[case])
    refused(READERS["print-receipt"](path, tmp_path), capsys)
    assert not (tmp_path / "r.bin").exists()


@pytest.mark.parametrize("url", ["tcp://[::1", "tcp://printer:99999", "usb://zz:1",
                                 "serial:/dev/null?baudrate=fast", "ftp://printer"])
def test_print_refuses_bad_printer_urls(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    refused(["print", "test-page", "--printer", url], capsys)


@pytest.mark.parametrize("region", ["../../escape", "11010", "1101011", "abcdef", ""])
def test_region_keygen_takes_only_a_region_code(region: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a" / "b"
    refused(["region", "keygen", "--region", region, "--out", str(out)], capsys)
    assert not (tmp_path / "a").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["region", "keygen", "--region", "110101", "--out"],
                                     ["keys", "export", "--out"]], ids=["keygen", "export"])
def test_key_writers_refuse_a_folder_that_is_a_file(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = write_text(tmp_path / "settings.toml", _demo(tmp_path))
    blocker = garbage(tmp_path)
    refused([*command, str(blocker / "keys" / "k.pub"), *(
        ["--settings", str(settings)] if command[0] == "keys" else [])], capsys)


def test_keys_show_refuses_a_damaged_device_key(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    settings = write_text(tmp_path / "settings.toml", _demo(tmp_path))
    write_text(tmp_path / "data" / "keys" / "device-x25519-chacha20.key", '{"format": 1')
    assert "密钥文件无效" in refused(["keys", "show", "--settings", str(settings)], capsys)


def test_outbox_status_refuses_a_damaged_database(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    settings = write_text(tmp_path / "settings.toml", _demo(tmp_path))
    assert main(["outbox", "status", "--settings", str(settings)]) == 0     # makes the db
    capsys.readouterr()
    database = tmp_path / "data" / "outbox" / "outbox.sqlite"
    database.write_bytes(bytes(range(256)) * 64)
    refused(["outbox", "status", "--settings", str(settings)], capsys)


@pytest.mark.parametrize("argv", [
    ["devices", "emulate", "ga467", "--present", "nobody"],
    ["devices", "emulate", "emrtd", "--present", "nobody", "--vpcd-port", "1"],
], ids=["ga467", "emrtd"])
def test_emulators_refuse_an_unknown_card(argv: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    refused(argv, capsys)


@pytest.mark.parametrize("kind", ["folder", "missing", "dotdot"])
def test_emrtd_emulator_refuses_a_face_that_is_no_file(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    face = GENERIC[kind](tmp_path)
    refused(["devices", "emulate", "emrtd", "--face", str(face), "--vpcd-port", "1"], capsys)
