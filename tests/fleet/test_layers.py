"""The operator's tree: ``merge`` of two layers, ``Tree.compose`` of a kiosk's five layers (on
a small tree written here and on the demo tree in assets/demo/fleet), and the inventory's
selection and its refusals."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetops.layers import KioskEntry, Tree, merge
from kiosk.errors import ConfigError
from kiosk.settings import SETTINGS_SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
DEMO_TREE = ROOT / "assets" / "demo" / "fleet"
REGIONS = ("110101", "150100", "150102", "150203", "500000", "500103", "510107", "510800",
           "510802", "510824")
KIOSK_IDS = ("510802-0001", "510802-0002", "510107-0001")

_FLEET_TOML = """\
[fleet]
name = "test-fleet"
province = "510000"

[[kiosks]]
id = "510802-0001"
hall = "hall-a"
city = "510800"

[[kiosks]]
id = "510107-0001"
hall = "hall-b"
city = "510100"
"""


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _small_tree(root: Path, fleet_toml: str = _FLEET_TOML) -> Path:
    _write(root / "fleet.toml", fleet_toml)
    (root / "layers" / "defaults").mkdir(parents=True)
    return root


def _copy_demo(dst: Path) -> Path:
    shutil.copytree(DEMO_TREE, dst, symlinks=False)
    return dst


def _composed(tree: Tree, kiosk_id: str) -> dict[str, bytes]:
    return tree.compose(tree.inventory.kiosk(kiosk_id))


def _settings(tree: Tree, kiosk_id: str) -> dict[str, Any]:
    return tomllib.loads(_composed(tree, kiosk_id)["settings.toml"].decode("utf-8"))


@pytest.fixture(scope="module")
def _demo() -> Tree:
    return Tree.load(DEMO_TREE)


# --- merge -----------------------------------------------------------------------------------


def test_merge_nested_tables_merge_key_by_key() -> None:
    lower = {"kiosk": {"name": "A", "phone": "1"}, "hours": {"open": "08:00"},
             "ui": {"voice": True}}
    upper = {"kiosk": {"phone": "2", "address": "X"}, "session": {"idle_timeout_s": 60}}
    assert merge(lower, upper) == {
        "kiosk": {"name": "A", "phone": "2", "address": "X"}, "hours": {"open": "08:00"},
        "ui": {"voice": True}, "session": {"idle_timeout_s": 60}}


def test_merge_deeply_nested_tables() -> None:
    lower = {"devices": {"camera": {"backend": "emulated", "options": {"dpi": 150, "fps": 15}}}}
    upper = {"devices": {"camera": {"options": {"dpi": 300}}}}
    assert merge(lower, upper) == {
        "devices": {"camera": {"backend": "emulated", "options": {"dpi": 300, "fps": 15}}}}


def test_merge_scalars_and_plain_lists_are_replaced() -> None:
    lower = {"n": 1, "s": "a", "closed": [5, 6], "maintenance": ["02:00-03:00"],
             "flag": True}
    upper = {"n": 2, "s": "b", "closed": [6], "maintenance": [], "flag": False}
    assert merge(lower, upper) == upper


def test_merge_upper_type_wins_over_lower_type() -> None:
    # a table over a scalar, a scalar over a table: the upper layer's value, whole
    assert merge({"a": 1, "b": {"x": 1}}, {"a": {"y": 2}, "b": 3}) == {"a": {"y": 2}, "b": 3}


def test_merge_list_of_mappings_without_code_everywhere_is_replaced() -> None:
    lower = {"items": [{"code": "a", "v": 1}, {"code": "b", "v": 2}]}
    upper = {"items": [{"code": "a", "v": 9}, {"name": "no code"}]}
    assert merge(lower, upper) == upper
    # and an upper list of coded items over a lower list without codes
    assert merge({"items": [{"v": 1}]}, {"items": [{"code": "a"}]}) == {"items": [{"code": "a"}]}


def test_merge_coded_list_merges_item_by_item() -> None:
    lower = {"matters": [
        {"code": "A", "name": "甲", "fees": {"note": "不收费"}, "keywords": ["x"]},
        {"code": "B", "name": "乙", "mode": "全程网办"},
        {"code": "C", "name": "丙"},
    ]}
    upper = {"matters": [
        {"code": "C", "name": "丙（新）"},
        {"code": "D", "name": "丁"},
        {"code": "A", "fees": {"amount": 0}, "keywords": ["y"]},
    ]}
    assert merge(lower, upper) == {"matters": [
        # known codes: only the given keys change (mappings merge, lists are replaced)
        {"code": "A", "name": "甲", "fees": {"note": "不收费", "amount": 0}, "keywords": ["y"]},
        {"code": "B", "name": "乙", "mode": "全程网办"},
        {"code": "C", "name": "丙（新）"},
        # a new code is appended after the lower items, whose order is kept
        {"code": "D", "name": "丁"},
    ]}


def test_merge_coded_lists_nested_inside_items() -> None:
    lower = {"matters": [{"code": "A", "situations": [{"code": "s1", "name": "一"},
                                                      {"code": "s2", "name": "二"}]}]}
    upper = {"matters": [{"code": "A", "situations": [{"code": "s2", "name": "二改"}]}]}
    assert merge(lower, upper) == {"matters": [
        {"code": "A", "situations": [{"code": "s1", "name": "一"},
                                     {"code": "s2", "name": "二改"}]}]}


def test_merge_leaves_its_inputs_unchanged() -> None:
    lower = {"t": {"a": 1}, "items": [{"code": "a", "v": {"x": 1}}]}
    upper = {"t": {"b": 2}, "items": [{"code": "a", "v": {"y": 2}}, {"code": "b"}]}
    before = copy.deepcopy((lower, upper))
    merge(lower, upper)
    assert (lower, upper) == before


# --- compose on a small tree ------------------------------------------------------------------


def test_compose_layers_in_order_defaults_to_kiosk(tmp_path: Path) -> None:
    root = _small_tree(tmp_path)
    layers = root / "layers"
    _write(layers / "defaults" / "settings.toml", 'a = "defaults"\nb = "defaults"\n'
           'c = "defaults"\nd = "defaults"\ne = "defaults"\n')
    _write(layers / "province" / "settings.toml", 'b = "province"\nc = "province"\n'
           'd = "province"\ne = "province"\n')
    _write(layers / "city" / "510800" / "settings.toml", 'c = "city"\nd = "city"\ne = "city"\n')
    _write(layers / "hall" / "hall-a" / "settings.toml", 'd = "hall"\ne = "hall"\n')
    _write(layers / "kiosk" / "510802-0001" / "settings.toml", 'e = "kiosk"\n')
    tree = Tree.load(root)
    target = tree.inventory.kiosk("510802-0001")
    assert [name for name, _ in tree.layer_dirs(target)] == [
        "defaults", "province", "city/510800", "hall/hall-a", "kiosk/510802-0001"]
    assert _settings(tree, "510802-0001") == {"a": "defaults", "b": "province", "c": "city",
                                              "d": "hall", "e": "kiosk"}
    # the other kiosk has no city, hall or kiosk layer of its own
    other = tree.inventory.kiosk("510107-0001")
    assert [name for name, _ in tree.layer_dirs(other)] == ["defaults", "province"]
    assert _settings(tree, "510107-0001") == {"a": "defaults", "b": "province", "c": "province",
                                              "d": "province", "e": "province"}


def test_compose_remove_drops_coded_items(tmp_path: Path) -> None:
    root = _small_tree(tmp_path)
    layers = root / "layers"
    _write(layers / "defaults" / "catalogue.yaml", """\
schema_version: 1
matters:
  - {code: A, name: 甲}
  - {code: B, name: 乙}
  - {code: C, name: 丙}
""")
    _write(layers / "city" / "510800" / "catalogue.yaml", """\
matters:
  - {code: B, _remove: true}
  - {code: C, name: 丙（市）}
  - {code: Z, name: 不存在, _remove: true}
""")
    _write(layers / "defaults" / "settings.toml", """\
[[routes]]
code = "1"
key = "a.pub"
[[routes]]
code = "2"
key = "b.pub"
""")
    _write(layers / "hall" / "hall-a" / "settings.toml", """\
[[routes]]
code = "1"
_remove = true
""")
    tree = Tree.load(root)
    files = _composed(tree, "510802-0001")
    catalogue = yaml.safe_load(files["catalogue.yaml"])
    assert catalogue == {"schema_version": 1, "matters": [{"code": "A", "name": "甲"},
                                                          {"code": "C", "name": "丙（市）"}]}
    assert tomllib.loads(files["settings.toml"].decode()) == {
        "routes": [{"code": "2", "key": "b.pub"}]}
    assert b"_remove" not in files["catalogue.yaml"] + files["settings.toml"]
    # a kiosk outside the city and hall keeps all three
    other = yaml.safe_load(_composed(tree, "510107-0001")["catalogue.yaml"])
    assert [m["code"] for m in other["matters"]] == ["A", "B", "C"]


def test_compose_remove_false_keeps_the_item(tmp_path: Path) -> None:
    root = _small_tree(tmp_path)
    _write(root / "layers" / "defaults" / "catalogue.yaml",
           "matters:\n  - {code: A, name: 甲}\n  - {code: B, name: 乙}\n")
    _write(root / "layers" / "province" / "catalogue.yaml",
           "matters:\n  - {code: B, _remove: false}\n")
    catalogue = yaml.safe_load(_composed(Tree.load(root), "510802-0001")["catalogue.yaml"])
    assert catalogue == {"matters": [{"code": "A", "name": "甲"}, {"code": "B", "name": "乙"}]}


def test_compose_other_files_are_replaced_whole_and_kept_in_subfolders(tmp_path: Path) -> None:
    root = _small_tree(tmp_path)
    layers = root / "layers"
    low_png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    high_png = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256)))
    _write(layers / "defaults" / "logo.png", low_png)
    _write(layers / "defaults" / "keys" / "a.pub", "lower a\n")
    _write(layers / "defaults" / "keys" / "b.pub", "lower b\n")
    _write(layers / "hall" / "hall-a" / "logo.png", high_png)
    _write(layers / "kiosk" / "510802-0001" / "keys" / "a.pub", "upper a\n")
    tree = Tree.load(root)
    files = _composed(tree, "510802-0001")
    assert files == {"keys/a.pub": b"upper a\n", "keys/b.pub": b"lower b\n",
                     "logo.png": high_png}
    assert _composed(tree, "510107-0001") == {"keys/a.pub": b"lower a\n",
                                              "keys/b.pub": b"lower b\n", "logo.png": low_png}


def test_compose_syntax_error_names_the_file(tmp_path: Path) -> None:
    root = _small_tree(tmp_path)
    bad = _write(root / "layers" / "province" / "settings.toml", "[kiosk\nname = 1\n")
    tree = Tree.load(root)
    with pytest.raises(ConfigError) as info:
        _composed(tree, "510802-0001")
    assert info.value.path == str(bad)
    assert any("syntax error" in p for p in info.value.problems)


# --- compose on the demo tree -----------------------------------------------------------------


@pytest.mark.parametrize(("kiosk_id", "name", "phone"), [
    ("510802-0001", "广元市利州区政务服务中心 24小时自助服务区 1号机", "0839-3266123"),
    ("510802-0002", "利州区某银行网点 政务自助终端", "0839-12345"),
    ("510107-0001", "成都市武侯区政务服务中心 自助服务区", "028-12345"),
])
def test_demo_kiosk_identity_from_hall_and_city(_demo: Tree, kiosk_id: str, name: str,
                                                phone: str) -> None:
    kiosk = _settings(_demo, kiosk_id)["kiosk"]
    assert kiosk["name"] == name
    assert kiosk["phone"] == phone      # the hall's own phone, else the city's 12345 line


@pytest.mark.parametrize("kiosk_id", KIOSK_IDS)
def test_demo_hours_and_orientation(_demo: Tree, kiosk_id: str) -> None:
    settings = _settings(_demo, kiosk_id)
    bank = kiosk_id == "510802-0002"
    hours = settings["hours"]
    if bank:
        assert (hours["open"], hours["close"]) == (dt.time(8, 30), dt.time(17, 30))
        assert hours["closed_weekdays"] == [6]           # Sunday only
    else:
        assert (hours["open"], hours["close"]) == (dt.time(0, 0), dt.time(23, 59, 59))
        assert hours["closed_weekdays"] == []
    assert hours["maintenance"] == []                    # from defaults, untouched
    assert settings["ui"]["orientation"] == ("landscape" if bank else "portrait")
    assert settings["ui"]["language"] == "zh_CN"         # the rest of [ui] from defaults
    assert settings["schema_version"] == SETTINGS_SCHEMA_VERSION      # from defaults
    assert "fleet" not in settings


@pytest.mark.parametrize("kiosk_id", KIOSK_IDS)
def test_demo_routes_and_their_keys_travel_together(_demo: Tree, kiosk_id: str) -> None:
    files = _composed(_demo, kiosk_id)
    routes = tomllib.loads(files["settings.toml"].decode())["transfer"]["routes"]
    assert sorted(routes) == list(REGIONS)
    for region, route in routes.items():
        assert route["transport"] == "directory"
        assert route["key"] == f"keys/region-{region}-x25519-chacha20.pub"
        assert files[route["key"]] == (
            ROOT / "assets" / "demo" / "regions" / f"region-{region}-x25519-chacha20.pub"
        ).read_bytes()
    assert files["catalogue.yaml"]
    assert yaml.safe_load(files["catalogue.yaml"]) == yaml.safe_load(
        (ROOT / "config" / "catalogue.yaml").read_text(encoding="utf-8"))


def test_demo_higher_layer_file_replaces_lower(tmp_path: Path) -> None:
    root = _copy_demo(tmp_path / "tree")
    key = "keys/region-510800-x25519-chacha20.pub"
    replacement = b'{"not": "the province key"}\n'
    _write(root / "layers" / "hall" / "lizhou-icbc" / key, replacement)
    tree = Tree.load(root)
    original = (DEMO_TREE / "layers" / "province" / key).read_bytes()
    assert _composed(tree, "510802-0002")[key] == replacement
    assert _composed(tree, "510802-0001")[key] == original
    assert _composed(tree, "510107-0001")[key] == original


def test_demo_city_catalogue_overrides_one_matter(tmp_path: Path) -> None:
    root = _copy_demo(tmp_path / "tree")
    province = yaml.safe_load((root / "layers" / "province" / "catalogue.yaml").read_text(
        encoding="utf-8"))
    codes = [m["code"] for m in province["matters"]]
    first, second = codes[0], codes[1]
    _write(root / "layers" / "city" / "510800" / "catalogue.yaml",
           f"matters:\n  - code: {first}\n    name: 广元改名\n"
           f"  - code: {second}\n    _remove: true\n")
    tree = Tree.load(root)
    for kiosk_id in ("510802-0001", "510802-0002"):
        merged = yaml.safe_load(_composed(tree, kiosk_id)["catalogue.yaml"])
        assert [m["code"] for m in merged["matters"]] == [c for c in codes if c != second]
        changed = merged["matters"][0]
        assert changed["name"] == "广元改名"
        # every other key of the matter comes from the province
        assert {k: v for k, v in changed.items() if k != "name"} == {
            k: v for k, v in province["matters"][0].items() if k != "name"}
    chengdu = yaml.safe_load(_composed(tree, "510107-0001")["catalogue.yaml"])
    assert chengdu == province


# --- the inventory ----------------------------------------------------------------------------


def _ids(entries: list[KioskEntry]) -> list[str]:
    return [e.id for e in entries]


def test_select_all_when_no_filter(_demo: Tree) -> None:
    assert _ids(_demo.inventory.select()) == list(KIOSK_IDS)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"kiosks": ("510107-0001",)}, ["510107-0001"]),
    ({"kiosks": ("510802-0002", "510802-0001")}, ["510802-0001", "510802-0002"]),
    ({"halls": ("lizhou-zwzx",)}, ["510802-0001"]),
    ({"halls": ("lizhou-zwzx", "wuhou-zwzx")}, ["510802-0001", "510107-0001"]),
    ({"cities": ("510800",)}, ["510802-0001", "510802-0002"]),
    ({"cities": ("510100",)}, ["510107-0001"]),
    ({"tags": ("bank",)}, ["510802-0002"]),
    ({"tags": ("bank", "nope")}, []),                             # every tag must be carried
    ({"cities": ("510800",), "tags": ("bank",)}, ["510802-0002"]),
    ({"cities": ("510800",), "halls": ("wuhou-zwzx",)}, []),        # filters combine with AND
    ({"kiosks": ("510802-0001",), "cities": ("510800",)}, ["510802-0001"]),
    ({"kiosks": ("510802-0001",), "tags": ("bank",)}, []),
    ({"halls": ("no-such-hall",)}, []),
])
def test_select_filters(_demo: Tree, filters: dict[str, tuple[str, ...]],
                        expected: list[str]) -> None:
    assert _ids(_demo.inventory.select(**filters)) == expected


def test_select_unknown_kiosk_is_an_error(_demo: Tree) -> None:
    with pytest.raises(ConfigError) as info:
        _demo.inventory.select(kiosks=("510802-0001", "999999-0000"))
    assert "999999-0000" in "\n".join(info.value.problems)
    with pytest.raises(ConfigError):
        _demo.inventory.kiosk("510802-9999")


def test_demo_inventory(_demo: Tree) -> None:
    inv = _demo.inventory
    assert (inv.fleet.name, inv.fleet.province) == ("demo-sichuan", "510000")
    assert inv.kiosk("510802-0002").tags == ("bank",)
    assert inv.kiosk("510802-0001").tags == ()


def test_duplicate_kiosk_ids_refused(tmp_path: Path) -> None:
    text = _FLEET_TOML + '\n[[kiosks]]\nid = "510107-0001"\nhall = "hall-c"\ncity = "510100"\n'
    root = _small_tree(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        Tree.load(root)
    assert "510107-0001" in "\n".join(info.value.problems)
    assert info.value.path == str(root / "fleet.toml")


@pytest.mark.parametrize(("old", "new", "key"), [
    ('hall = "hall-a"', 'hall = "hall-a"\nhal = "typo"', "hal"),
    ('province = "510000"', 'province = "510000"\nregion = "x"', "region"),
])
def test_unknown_key_in_fleet_toml_is_named(tmp_path: Path, old: str, new: str,
                                            key: str) -> None:
    assert old in _FLEET_TOML
    root = _small_tree(tmp_path, _FLEET_TOML.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        Tree.load(root)
    problems = "\n".join(info.value.problems)
    assert f"`{key}`" in problems
    assert "unknown key" in problems


@pytest.mark.parametrize(("old", "new"), [
    ('id = "510802-0001"', 'id = "510802-1"'),
    ('city = "510800"', 'city = "5108"'),
    ('name = "test-fleet"', 'name = "Test Fleet"'),
])
def test_malformed_inventory_values_refused(tmp_path: Path, old: str, new: str) -> None:
    root = _small_tree(tmp_path, _FLEET_TOML.replace(old, new, 1))
    with pytest.raises(ConfigError):
        Tree.load(root)


def test_a_layer_naming_another_backend_replaces_the_device_section() -> None:
    lower = {"receipt_printer": {"backend": "emulated", "options": {"out": "printer",
                                                                    "dots_per_line": 576}}}
    other = {"receipt_printer": {"backend": "network", "options": {"host": "10.0.0.9"}}}
    same = {"receipt_printer": {"options": {"dots_per_line": 384}}}
    assert merge(lower, other) == other
    assert merge(lower, same)["receipt_printer"] == {
        "backend": "emulated", "options": {"out": "printer", "dots_per_line": 384}}
