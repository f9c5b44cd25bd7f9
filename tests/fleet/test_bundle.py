"""A kiosk's bundle: deterministic bytes, the round trip, every refusal of ``read_bundle``;
schema migration of a staged file (kiosk.fleet.check.migrate); and the operator's build
(fleetops.operator): the kiosk id pinned from the inventory, validation as a kiosk would
do it, and the diff the operator reads before publishing."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetops.layers import Tree
from fleetops.operator import Workspace, diff
from fleetops.repo import KeyStore, Repository
from kiosk.fleet import check
from kiosk.fleet.bundle import MANIFEST, Bundle, new_bundle, read_bundle
from kiosk.fleet.commands import KEYS_FILE
from kiosk.fleet.errors import FleetError

ROOT = Path(__file__).resolve().parents[2]
DEMO_TREE = ROOT / "assets" / "demo" / "fleet"
CJK = re.compile(r"[\u4e00-\u9fff]")
FLEET, KIOSK = "demo-sichuan", "510802-0001"
_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _files() -> dict[str, bytes]:
    return {"settings.toml": b'schema_version = 1\n[kiosk]\nid = "510802-0001"\n',
            "catalogue.yaml": "schema_version: 1\nmatters: []\n# 事项\n".encode(),
            "keys/region-510800-x25519-chacha20.pub": b'{"owner": "510800"}\n',
            "logo.png": _PNG}


def _bundle(**changes: Any) -> Bundle:
    fields: dict[str, Any] = {"fleet": FLEET, "kiosk": KIOSK, "version": 3,
                              "created": "2025-03-04T08:00:00+00:00",
                              "layers": ("defaults", "province"), "files": _files()}
    fields.update(changes)
    return Bundle(**fields)


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def _entries(bundle: Bundle) -> dict[str, bytes]:
    """The zip's entries as to_bytes writes them (manifest included)."""
    with zipfile.ZipFile(io.BytesIO(bundle.to_bytes())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _refused(data: bytes, code: str, *, kiosk: str = KIOSK, fleet: str = FLEET) -> FleetError:
    with pytest.raises(FleetError) as info:
        read_bundle(data, kiosk=kiosk, fleet=fleet)
    err = info.value
    assert err.code == code, (err.code, err.en)
    _bilingual(err)
    return err


def _bilingual(err: FleetError) -> None:
    assert err.zh and CJK.search(err.zh), err.zh
    # .en may quote a validation problem, which is itself bilingual
    assert err.en and re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", err.en), err.en


# --- bytes and round trip ---------------------------------------------------------------------


def test_to_bytes_is_deterministic() -> None:
    first = _bundle().to_bytes()
    assert _bundle().to_bytes() == first
    # the order the files were added in does not matter
    reordered = dict(reversed(list(_files().items())))
    assert _bundle(files=reordered).to_bytes() == first
    # the created string and the content do
    assert _bundle(created="2025-03-05T08:00:00+00:00").to_bytes() != first
    changed = {**_files(), "settings.toml": b"schema_version = 1\n"}
    assert _bundle(files=changed).to_bytes() != first


def test_to_bytes_zip_entries() -> None:
    with zipfile.ZipFile(io.BytesIO(_bundle().to_bytes())) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted([MANIFEST, *_files()])
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        manifest = json.loads(zf.read(MANIFEST))
    assert manifest["fleet"] == FLEET and manifest["kiosk"] == KIOSK
    assert manifest["version"] == 3 and manifest["layers"] == ["defaults", "province"]
    assert sorted(manifest["files"]) == sorted(_files())


def test_read_bundle_round_trip() -> None:
    original = _bundle()
    back = read_bundle(original.to_bytes(), kiosk=KIOSK, fleet=FLEET)
    assert back == original
    assert back.files["logo.png"] == _PNG
    assert back.to_bytes() == original.to_bytes()


def test_new_bundle_stamps_created_and_round_trips() -> None:
    made = new_bundle(FLEET, KIOSK, 1, ["defaults"], _files())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", made.created)
    assert read_bundle(made.to_bytes(), kiosk=KIOSK, fleet=FLEET) == made


def test_write_to_unpacks_files_and_manifest(tmp_path: Path) -> None:
    _bundle().write_to(tmp_path)
    for name, data in _files().items():
        assert (tmp_path / name).read_bytes() == data
    assert json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8")) == _bundle().manifest()


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04garbage" * 10],
                         ids=["empty", "text", "broken-zip"])
def test_not_a_zip(data: bytes) -> None:
    _refused(data, "not_a_bundle")


def test_zip_without_manifest() -> None:
    entries = _entries(_bundle())
    del entries[MANIFEST]
    _refused(_zip(entries), "not_a_bundle")


@pytest.mark.parametrize("manifest", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'],
                         ids=["bad-json", "not-utf8", "list", "string"])
def test_unreadable_manifest(manifest: bytes) -> None:
    entries = _entries(_bundle())
    entries[MANIFEST] = manifest
    _refused(_zip(entries), "not_a_bundle")


@pytest.mark.parametrize("change", [
    {"format": 2}, {"version": 0}, {"version": "3"}, {"files": None}, {"files": ["a"]},
], ids=["format", "version-0", "version-str", "no-files", "files-list"])
def test_incomplete_manifest(change: dict[str, Any]) -> None:
    entries = _entries(_bundle())
    manifest = {**json.loads(entries[MANIFEST]), **change}
    entries[MANIFEST] = json.dumps(manifest).encode()
    _refused(_zip(entries), "not_a_bundle")


def test_file_changed_after_manifest_is_tampered() -> None:
    entries = _entries(_bundle())
    entries["settings.toml"] = b'schema_version = 1\n[kiosk]\nid = "510802-0002"\n'
    err = _refused(_zip(entries), "tampered")
    assert "settings.toml" in err.en


def test_binary_file_changed_is_tampered() -> None:
    entries = _entries(_bundle())
    entries["logo.png"] = _PNG[:-1] + b"\x00"
    assert "logo.png" in _refused(_zip(entries), "tampered").en


def test_extra_file_refused() -> None:
    entries = _entries(_bundle())
    entries["extra.toml"] = b"x = 1\n"
    assert "extra.toml" in _refused(_zip(entries), "not_a_bundle").en


def test_missing_file_refused() -> None:
    entries = _entries(_bundle())
    del entries["keys/region-510800-x25519-chacha20.pub"]
    assert "region-510800" in _refused(_zip(entries), "not_a_bundle").en


@pytest.mark.parametrize("name", ["../evil.toml", "keys/../../evil.pub", "/etc/evil",
                                  "keys\\evil.pub", "keys/"])
def test_unsafe_path_refused_even_when_listed(name: str) -> None:
    # listed in the manifest with the right hash: the path alone is the refusal
    data = b"payload\n"
    bundle = _bundle(files={**_files(), name: data})
    entries = _entries(bundle)
    err = _refused(_zip(entries), "not_a_bundle")
    assert "unsafe path" in err.en


def test_wrong_kiosk() -> None:
    err = _refused(_bundle().to_bytes(), "wrong_kiosk", kiosk="510802-0002")
    assert KIOSK in err.en and "510802-0002" in err.en


def test_wrong_fleet() -> None:
    err = _refused(_bundle(fleet="other-fleet").to_bytes(), "wrong_fleet")
    assert "other-fleet" in err.en and FLEET in err.en


def test_oversized_bundle_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _bundle().to_bytes()
    monkeypatch.setattr("kiosk.fleet.bundle.MAX_BUNDLE_BYTES", len(data) - 1)
    _refused(data, "not_a_bundle")


def _local_header_data_offset(data: bytes, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(name).header_offset
    name_len, extra_len = struct.unpack("<HH", data[offset + 26:offset + 30])
    return offset + 30 + name_len + extra_len


def test_corrupt_deflate_stream_is_not_a_bundle() -> None:
    data = bytearray(_bundle().to_bytes())
    start = _local_header_data_offset(bytes(data), "logo.png")
    data[start] = 0xFF      # deflate block type 11: reserved, invalid
    _refused(bytes(data), "not_a_bundle")


def test_manifest_layers_not_a_list_is_not_a_bundle() -> None:
    entries = _entries(_bundle())
    manifest = {**json.loads(entries[MANIFEST]), "layers": 5}
    entries[MANIFEST] = json.dumps(manifest).encode()
    _refused(_zip(entries), "not_a_bundle")


# --- migration of a staged file ---------------------------------------------------------------


def _write_settings(path: Path, version: int, body: str = "") -> Path:
    path.write_text(f"schema_version = {version}\n{body}", encoding="utf-8")
    return path


def test_migrate_refuses_newer_schema(tmp_path: Path) -> None:
    path = _write_settings(tmp_path / "settings.toml", 2)
    before = path.read_bytes()
    with pytest.raises(FleetError) as info:
        check.migrate(path, 1, check.SETTINGS_MIGRATIONS)
    assert info.value.code == "newer_schema"
    _bilingual(info.value)
    assert path.read_bytes() == before


def test_migrate_current_version_leaves_file_alone(tmp_path: Path) -> None:
    path = _write_settings(tmp_path / "settings.toml", 1, "# a comment that a rewrite drops\n")
    before = path.read_bytes()
    check.migrate(path, 1, check.SETTINGS_MIGRATIONS)
    assert path.read_bytes() == before


def test_migrate_older_settings_with_registered_step(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def rename_orient(data: dict[str, Any]) -> dict[str, Any]:
        ui = data.setdefault("ui", {})
        ui["orientation"] = ui.pop("orient")
        return data

    monkeypatch.setattr(check, "SETTINGS_MIGRATIONS", {**check.SETTINGS_MIGRATIONS,
                                                       0: rename_orient})
    path = _write_settings(tmp_path / "settings.toml", 0,
                           '[ui]\norient = "landscape"\nlanguage = "en"\n')
    check.migrate(path, check.SETTINGS_SCHEMA_VERSION, check.SETTINGS_MIGRATIONS)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "schema_version": check.SETTINGS_SCHEMA_VERSION,
        "ui": {"orientation": "landscape", "language": "en"}}


def test_migrate_runs_steps_in_sequence(tmp_path: Path) -> None:
    seen: list[int] = []

    def step(n: int) -> check.Migration:
        def run(data: dict[str, Any]) -> dict[str, Any]:
            seen.append(data["schema_version"])
            data.setdefault("trail", []).append(n)
            return data
        return run

    path = tmp_path / "catalogue.yaml"
    path.write_text("schema_version: 1\nmatters: []\n", encoding="utf-8")
    check.migrate(path, 4, {1: step(1), 2: step(2), 3: step(3)})
    assert seen == [1, 2, 3]
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {
        "schema_version": 4, "matters": [], "trail": [1, 2, 3]}


def test_migrate_older_without_step_is_invalid(tmp_path: Path) -> None:
    path = _write_settings(tmp_path / "settings.toml", 0)
    with pytest.raises(FleetError) as info:
        check.migrate(path, 1, {})
    assert info.value.code == "invalid"
    _bilingual(info.value)


@pytest.mark.parametrize("text", ["[ui]\nlanguage = 'en'\n", 'schema_version = "1"\n',
                                  "schema_version = \n"], ids=["none", "string", "syntax"])
def test_migrate_without_usable_version_is_invalid(tmp_path: Path, text: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FleetError) as info:
        check.migrate(path, 1, {})
    assert info.value.code == "invalid"


def test_migrate_missing_file_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(FleetError) as info:
        check.migrate(tmp_path / "settings.toml", 1, {})
    assert info.value.code == "invalid"


# --- the operator's build ---------------------------------------------------------------------


def _workspace(tmp_path: Path) -> Workspace:
    """As fleetops/cli.py's workspace(): <tree>/public, keys in <tree>/.fleet/keys."""
    tree = tmp_path / "tree"
    if not tree.exists():
        shutil.copytree(DEMO_TREE, tree, symlinks=False)
    ws = Workspace(Tree.load(tree), Repository(tree / "public",
                                               KeyStore(tree / ".fleet" / "keys")))
    if not (ws.repo.metadata_dir / "1.root.json").exists():
        ws.repo.init()
    return ws


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _build_error(ws: Workspace, kiosk_id: str) -> FleetError:
    with pytest.raises(FleetError) as info:
        ws.build(ws.tree.inventory.kiosk(kiosk_id), 1)
    _bilingual(info.value)
    return info.value


def test_build_pins_kiosk_id_from_inventory(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    target = ws.tree.inventory.kiosk("510802-0002")
    bundle = ws.build(target, 7)
    assert (bundle.fleet, bundle.kiosk, bundle.version) == (FLEET, "510802-0002", 7)
    assert bundle.layers == ("defaults", "province", "city/510800", "hall/lizhou-icbc",
                             "kiosk/510802-0002")
    settings = tomllib.loads(bundle.files["settings.toml"].decode())
    assert settings["kiosk"]["id"] == "510802-0002"
    assert settings["kiosk"]["name"] == "利州区某银行网点 政务自助终端"
    # the command keys travel inside the bundle
    assert KEYS_FILE in bundle.files
    # and what is built is what a kiosk reads back
    assert read_bundle(bundle.to_bytes(), kiosk="510802-0002", fleet=FLEET) == bundle


def test_build_accepts_a_layer_naming_the_same_id(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    path = ws.tree.root / "layers" / "hall" / "wuhou-zwzx" / "settings.toml"
    _edit(path, "[kiosk]\n", '[kiosk]\nid = "510107-0001"\n')
    bundle = ws.build(ws.tree.inventory.kiosk("510107-0001"), 1)
    assert tomllib.loads(bundle.files["settings.toml"].decode())["kiosk"]["id"] == "510107-0001"


def test_layer_setting_another_kiosk_id_is_invalid(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    path = ws.tree.root / "layers" / "hall" / "lizhou-zwzx" / "settings.toml"
    _edit(path, "[kiosk]\n", '[kiosk]\nid = "510802-0002"\n')
    err = _build_error(ws, "510802-0001")
    assert err.code == "invalid"
    assert "510802-0002" in err.en and "510802-0001" in err.en


def test_invalid_settings_value_names_the_key(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    layer = ws.tree.root / "layers" / "kiosk" / "510107-0001" / "settings.toml"
    layer.parent.mkdir(parents=True)
    layer.write_text("[session]\nidle_timeout_s = -1\n", encoding="utf-8")
    err = _build_error(ws, "510107-0001")
    assert err.code == "invalid"
    assert "session.idle_timeout_s" in err.en
    assert "510107-0001" in err.en
    # the other kiosks still build
    ws.build(ws.tree.inventory.kiosk("510802-0001"), 1)


def test_unknown_settings_key_is_invalid(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    _edit(ws.tree.root / "layers" / "city" / "510800" / "settings.toml",
          'phone = "0839-12345"', 'phone = "0839-12345"\nphnoe = "x"')
    err = _build_error(ws, "510802-0002")
    assert err.code == "invalid"
    assert "phnoe" in err.en


def test_route_without_its_key_file_is_invalid(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws.tree.root / "layers" / "province" / "keys" / "region-510824-x25519-chacha20.pub").unlink()
    err = _build_error(ws, "510802-0001")
    assert err.code == "invalid"
    assert "transfer.routes.510824.key" in err.en


def test_route_added_by_hall_without_key_is_invalid(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    path = ws.tree.root / "layers" / "hall" / "wuhou-zwzx" / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[transfer.routes.440300]\n'
                    'transport = "directory"\nkey = "keys/region-440300-x25519-chacha20.pub"\n',
                    encoding="utf-8")
    err = _build_error(ws, "510107-0001")
    assert err.code == "invalid"
    assert "440300" in err.en


def test_unknown_backend_is_invalid(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    path = ws.tree.root / "layers" / "kiosk" / "510802-0002" / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8")
                    + '\n[devices.receipt_printer]\nbackend = "laser"\n', encoding="utf-8")
    err = _build_error(ws, "510802-0002")
    assert err.code == "invalid"
    assert "laser" in err.en


def test_diff_shows_changed_catalogue_line_and_names_binary_file(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    target = ws.tree.inventory.kiosk("510802-0001")
    logo = ws.tree.root / "layers" / "hall" / "lizhou-zwzx" / "logo.png"
    logo.write_bytes(_PNG)
    old = ws.build(target, 1)
    _edit(ws.tree.root / "layers" / "province" / "catalogue.yaml",
          "name: 户籍类证明开具\n", "name: 户籍类证明开具（新）\n")
    logo.write_bytes(_PNG[::-1])
    new = ws.build(target, 2)
    lines = diff(old, new)
    assert "--- v1/catalogue.yaml" in lines and "+++ v2/catalogue.yaml" in lines
    removed = [x for x in lines if x.startswith("-") and not x.startswith("---")]
    added = [x for x in lines if x.startswith("+") and not x.startswith("+++")]
    assert removed == ["-  name: 户籍类证明开具"]
    assert added == ["+  name: 户籍类证明开具（新）"]
    assert any("binary file changed" in x and x.endswith("logo.png") for x in lines)
    # nothing else changed: settings.toml and the keys are not mentioned
    assert not any("settings.toml" in x or ".pub" in x for x in lines)
    assert diff(new, new) == []
    assert diff(old, ws.build(target, 3)) == _with_version(lines, 2, 3)


def _with_version(lines: list[str], old: int, new: int) -> list[str]:
    return [x.replace(f"+++ v{old}/", f"+++ v{new}/") for x in lines]


def test_diff_against_nothing_adds_every_file() -> None:
    new = _bundle(version=1)
    lines = diff(None, new)
    for name in ("settings.toml", "catalogue.yaml", "keys/region-510800-x25519-chacha20.pub"):
        assert f"--- v0/{name}" in lines and f"+++ v1/{name}" in lines
    assert any("binary file changed" in x and "logo.png" in x for x in lines)
    content = [x for x in lines if not x.startswith(("---", "+++", "@@", "二进制"))]
    assert content and all(x.startswith("+") for x in content)


def test_diff_names_removed_files() -> None:
    old = _bundle(version=1)
    files = _files()
    del files["keys/region-510800-x25519-chacha20.pub"]
    lines = diff(old, _bundle(version=2, files=files))
    assert lines[:2] == ["--- v1/keys/region-510800-x25519-chacha20.pub",
                         "+++ v2/keys/region-510800-x25519-chacha20.pub"]
    assert '-{"owner": "510800"}' in lines


@pytest.mark.parametrize(("before", "after"), [
    (None, b""), (b"a\nb\n", b"a\nb"), (b"a\r\nb\r\n", b"a\nb\n")],
    ids=["empty-file-added", "final-newline", "crlf"])
def test_diff_reports_every_changed_text_file(before: bytes | None, after: bytes) -> None:
    old_files = {**_files(), **({"notes.txt": before} if before is not None else {})}
    old = _bundle(version=1, files=old_files)
    new = _bundle(version=2, files={**_files(), "notes.txt": after})
    assert any("notes.txt" in x for x in diff(old, new))
