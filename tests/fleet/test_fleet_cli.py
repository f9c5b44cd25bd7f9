"""``kiosk fleet …`` on copies of the demo operator tree (assets/demo/fleet): init, build, diff,
publish (all kiosks and a selection), timestamp and key rotation, and the refusals an
operator meets (unknown kiosk, empty selection, init twice, an invalid layer, the root key
offline). The published repository is read back with python-tuf's own client."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuf.api.exceptions import DownloadHTTPError
from tuf.api.metadata import Metadata
from tuf.ngclient import FetcherInterface, Updater

from fleetops.cli import main
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.bundle import read_bundle
from kiosk.fleet.client import target_path

ROOT = Path(__file__).resolve().parents[2]
DEMO_TREE = ROOT / "assets" / "demo" / "fleet"
FLEET = "demo-sichuan"
KIOSKS = ("510802-0001", "510802-0002", "510107-0001")
OLD_NAME, NEW_NAME = "户籍类证明开具", "户籍类证明开具（新版）"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(DEMO_TREE, tree, symlinks=False)
    return tree


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _ok(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    return out


def _bilingual(err: str) -> None:
    assert CJK.search(err) and re.search(r"[A-Za-z]{3,} [a-z]+", err) and " / " in err, err
    assert "Traceback" not in err


def _sections(out: str) -> dict[str, list[str]]:
    """`fleet diff` output: kiosk id → [header, diff lines...]."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        header = re.match(r"^== (\d{6}-\d{4}) \(", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        current.append(line)
    return sections


def _repo(tree: Path, root_keys: Path | None = None) -> Repository:
    return Repository(tree / "public", KeyStore(tree / ".fleet" / "keys", root_keys))


def _metadata(repo: Repository) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(repo.metadata_dir.iterdir())}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class _FileFetcher(FetcherInterface):
    """python-tuf's downloads from the repository folder, as a web server would serve it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = self.folder / url.removeprefix("repo://")
        if not path.is_file():
            raise DownloadHTTPError(f"not found: {url}", 404)
        return iter([path.read_bytes()])


def _client(repo: Repository, cache: Path) -> Updater:
    """A kiosk's TUF client that pinned 1.root.json."""
    (cache / "metadata").mkdir(parents=True, exist_ok=True)
    (cache / "targets").mkdir(parents=True, exist_ok=True)
    return Updater(str(cache / "metadata"), "repo://metadata/", str(cache / "targets"),
                   "repo://targets/", fetcher=_FileFetcher(repo.folder),
                   bootstrap=(repo.metadata_dir / "1.root.json").read_bytes())


# --- the operator's round: build, diff, publish, change, publish a selection -----------------


def test_build_diff_publish_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    out = _ok(capsys, "init", "--tree", tree)
    repo = _repo(tree)
    assert (repo.metadata_dir / "1.root.json").exists()
    assert "1.root.json" in out

    # build: every kiosk composed and validated, nothing signed or written to the repository
    before = _metadata(repo)
    out = _ok(capsys, "build", "--tree", tree)
    for kiosk_id in KIOSKS:
        assert re.search(rf"^OK: {kiosk_id} v1: defaults, province, city/", out, re.M), out
    assert "kiosk/510802-0002" in out
    assert _metadata(repo) == before
    assert not repo.targets_dir.exists() or not any(repo.targets_dir.rglob("*.zip"))

    # diff before anything is published: everything is new, for the selected kiosk only
    out = _ok(capsys, "diff", "--tree", tree, "--kiosk", "510802-0001")
    sections = _sections(out)
    assert list(sections) == ["510802-0001"]
    lines = sections["510802-0001"][1:]
    assert lines
    for name in ("settings.toml", "catalogue.yaml", "fleet-command-keys.json",
                 "keys/region-510800-x25519-chacha20.pub"):
        assert f"--- v0/{name}" in lines and f"+++ v1/{name}" in lines, name
    content = [x for x in lines if not x.startswith(("--- ", "+++ ", "@@"))]
    assert content and all(x.startswith("+") for x in content)
    assert '+id = "510802-0001"' in lines
    assert _metadata(repo) == before

    # publish all: v1 listed for each kiosk
    out = _ok(capsys, "publish", "--tree", tree)
    assert "v1" in out and "3 kiosks" in out
    assert repo.listed() == dict.fromkeys(KIOSKS, 1)
    assert repo.bundle_version() == 1
    for kiosk_id in KIOSKS:
        assert len(list((repo.targets_dir / "kiosks" / kiosk_id).glob("*.bundle.zip"))) == 1

    # nothing changed since: every kiosk unchanged
    out = _ok(capsys, "diff", "--tree", tree)
    sections = _sections(out)
    assert list(sections) == list(KIOSKS)
    for kiosk_id in KIOSKS:
        assert sections[kiosk_id] == [sections[kiosk_id][0]]
        assert "unchanged" in sections[kiosk_id][0]

    # the province renames a matter: the two 广元 kiosks see it
    _edit(tree / "layers" / "province" / "catalogue.yaml", f"name: {OLD_NAME}\n",
          f"name: {NEW_NAME}\n")
    out = _ok(capsys, "diff", "--tree", tree, "--city", "510800")
    sections = _sections(out)
    assert list(sections) == ["510802-0001", "510802-0002"]
    for kiosk_id, section in sections.items():
        assert "unchanged" not in section[0]
        assert section[1:3] == ["--- v1/catalogue.yaml", "+++ v2/catalogue.yaml"]
        changed = [x for x in section[1:] if x[:1] in "+-" and x[:3] not in ("---", "+++")]
        assert changed == [f"-  name: {OLD_NAME}", f"+  name: {NEW_NAME}"], kiosk_id

    # publish one hall only: its kiosk moves to v2, the others stay on v1
    out = _ok(capsys, "publish", "--tree", tree, "--hall", "lizhou-zwzx")
    assert "v2" in out and "1 kiosks" in out
    assert repo.listed() == {"510802-0001": 2, "510802-0002": 1, "510107-0001": 1}
    assert repo.bundle_version() == 2

    out = _ok(capsys, "diff", "--tree", tree)
    sections = _sections(out)
    assert "unchanged" in sections["510802-0001"][0]
    assert "unchanged" not in sections["510802-0002"][0]
    assert "unchanged" not in sections["510107-0001"][0]

    # what a kiosk's TUF client gets from the repository
    client = _client(repo, tmp_path / "kiosk-cache")
    client.refresh()
    for kiosk_id, version, name in (("510802-0001", 2, NEW_NAME), ("510802-0002", 1, OLD_NAME)):
        info = client.get_targetinfo(target_path(kiosk_id))
        assert info is not None and info.custom["version"] == version
        bundle = read_bundle(Path(client.download_target(info)).read_bytes(), kiosk=kiosk_id,
                             fleet=FLEET)
        assert bundle.version == version
        assert f"name: {name}\n" in bundle.files["catalogue.yaml"].decode()


# --- timestamp and key rotation ---------------------------------------------------------------


def _keyids(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.pem")}


def test_timestamp_and_key_rotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    _ok(capsys, "init", "--tree", tree)
    repo = _repo(tree)
    keys = tree / ".fleet" / "keys"
    timestamp = repo.load("timestamp").signed.version

    out = _ok(capsys, "timestamp", "--tree", tree)
    assert repo.load("timestamp").signed.version == timestamp + 1
    assert f"timestamp v{timestamp + 1}" in out

    # rotate the timestamp key: root v2 names the new key, the old one is kept aside
    old_ts = _keyids(keys / "timestamp")
    _ok(capsys, "rotate-key", "timestamp", "--tree", tree)
    assert (repo.metadata_dir / "2.root.json").exists()
    new_ts = _keyids(keys / "timestamp")
    assert len(new_ts) == 1 and new_ts != old_ts
    assert _keyids(keys / "timestamp" / "retired") == old_ts
    root1 = Metadata.from_file(str(repo.metadata_dir / "1.root.json"))
    root2 = Metadata.from_file(str(repo.metadata_dir / "2.root.json"))
    assert set(root2.signed.roles["timestamp"].keyids) == new_ts
    root1.verify_delegate("root", root2)
    root2.verify_delegate("root", root2)
    root2.verify_delegate("timestamp", repo.load("timestamp"))

    # the timer job signs with the new key
    _ok(capsys, "timestamp", "--tree", tree)
    root2.verify_delegate("timestamp", repo.load("timestamp"))

    # rotate the root key: root v3 signed by the old and the new root key
    old_root = _keyids(keys / "root")
    out = _ok(capsys, "rotate-key", "root", "--tree", tree)
    assert "root key is now" in out
    assert (repo.metadata_dir / "3.root.json").exists()
    new_root = _keyids(keys / "root")
    assert len(new_root) == 1 and new_root != old_root
    assert _keyids(keys / "root" / "retired") == old_root
    root3 = Metadata.from_file(str(repo.metadata_dir / "3.root.json"))
    assert root3.signed.version == 3
    assert set(root3.signed.roles["root"].keyids) == new_root
    root2.verify_delegate("root", root3)
    root3.verify_delegate("root", root3)
    for role in ("targets", "snapshot", "timestamp"):
        root3.verify_delegate(role, repo.load(role))

    # a kiosk that pinned root v1 follows the chain to v3
    client = _client(repo, tmp_path / "kiosk-cache")
    client.refresh()
    trusted = Metadata.from_file(str(tmp_path / "kiosk-cache" / "metadata" / "root.json"))
    assert trusted.signed.version == 3


def test_rotate_command_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    _ok(capsys, "init", "--tree", tree)
    folder = tree / ".fleet" / "keys" / "command"
    old = _keyids(folder)
    out = _ok(capsys, "rotate-key", "command", "--tree", tree)
    assert "rebuild and publish" in out
    assert _keyids(folder) != old and _keyids(folder / "retired") == old
    # the command key lives in the bundles, not in TUF's root
    assert not (_repo(tree).metadata_dir / "2.root.json").exists()


def test_root_key_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    offline, public = tmp_path / "usb-stick", tmp_path / "served"
    _ok(capsys, "init", "--tree", tree, "--root-keys", offline, "--repo", public)
    assert (public / "metadata" / "1.root.json").exists()
    assert len(_keyids(offline)) == 1
    assert not (tree / ".fleet" / "keys" / "root").exists()
    ts_keys = _keyids(tree / ".fleet" / "keys" / "timestamp")

    # without the offline medium, no rotation, and nothing is retired
    code, _, err = _run(capsys, "rotate-key", "timestamp", "--tree", tree, "--repo", public)
    assert code == 2
    _bilingual(err)
    assert not (public / "metadata" / "2.root.json").exists()
    assert _keyids(tree / ".fleet" / "keys" / "timestamp") == ts_keys

    # the online roles need no root key
    _ok(capsys, "timestamp", "--tree", tree, "--repo", public)
    _ok(capsys, "rotate-key", "timestamp", "--tree", tree, "--repo", public,
        "--root-keys", offline)
    assert (public / "metadata" / "2.root.json").exists()


def test_city_delegation_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """init --city, publish --as-city, delegate --key, timestamp, province publish skipping
    the city's kiosk, delegate --revoke; read back with python-tuf's own client."""
    tree = _tree(tmp_path)
    public = tree / "public"
    _ok(capsys, "init", "--tree", tree)
    _ok(capsys, "publish", "--tree", tree)
    city_tree = tmp_path / "chengdu"
    shutil.copytree(tree, city_tree, ignore=shutil.ignore_patterns(".fleet", "public"))
    out = _ok(capsys, "init", "--city", "510100", "--tree", city_tree)
    key = city_tree / ".fleet" / "city-510100.pub.json"
    assert str(key) in out and key.is_file()
    assert "PRIVATE" not in key.read_text()

    code, _, err = _run(capsys, "publish", "--as-city", "510100", "--tree", city_tree,
                        "--repo", public, "--kiosk", "510802-0001", "--uploads", tree / "uploads")
    assert code == 2 and "not kiosks of 510100" in err
    _bilingual(err)
    _edit(city_tree / "layers" / "city" / "510100" / "settings.toml", "028-12345", "028-1")
    uploads = tree / "uploads"     # the province's upload area (default: <tree>/uploads)
    out = _ok(capsys, "publish", "--as-city", "510100", "--tree", city_tree, "--repo", public,
              "--uploads", uploads)
    assert "v2 signed as city-510100 into" in out and "1.city-510100.json, 1 kiosks" in out
    assert not (public / "metadata" / "1.city-510100.json").exists()

    out = _ok(capsys, "delegate", "510100", "--key", key, "--tree", tree)
    assert "1 kiosks of 510100 delegated" in out
    path = target_path("510107-0001")
    info = _client(_repo(tree), tmp_path / "kiosk").get_targetinfo(path)
    assert info is not None and info.custom["version"] == 2
    out = _ok(capsys, "publish", "--tree", tree)
    assert "skipped 510107-0001: city-510100 signs it" in out and "v3 published for 2" in out

    _edit(city_tree / "layers" / "city" / "510100" / "settings.toml", "028-1", "028-2")
    _ok(capsys, "publish", "--as-city", "510100", "--tree", city_tree, "--repo", public,
        "--uploads", uploads)
    assert _client(_repo(tree), tmp_path / "k2").get_targetinfo(path).custom["version"] == 2  # type: ignore[union-attr]
    _ok(capsys, "timestamp", "--tree", tree)
    listed = _client(_repo(tree), tmp_path / "k3").get_targetinfo(path)
    assert listed is not None and listed.custom["version"] == 4
    bundle = read_bundle((public / "targets" / "kiosks" / "510107-0001" /
                          f"{listed.hashes['sha256']}.bundle.zip").read_bytes(),
                         kiosk="510107-0001", fleet=FLEET)
    assert b'phone = "028-2"' in bundle.files["settings.toml"]
    assert bundle.files["fleet-command-keys.json"] == (public / "command-keys.json").read_bytes()

    out = _ok(capsys, "delegate", "510100", "--revoke", "--tree", tree)
    assert "v5 signed by the province for 1 kiosks" in out
    listed = _client(_repo(tree), tmp_path / "k4").get_targetinfo(path)
    assert listed is not None and listed.custom["version"] == 5
    code, _, err = _run(capsys, "delegate", "510100", "--revoke", "--tree", tree)
    assert code == 2 and "not delegated" in err


# --- refusals ---------------------------------------------------------------------------------


def test_unknown_kiosk_and_empty_selection(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    _ok(capsys, "init", "--tree", tree)
    repo = _repo(tree)
    before = _metadata(repo)
    for command in ("build", "diff", "publish"):
        code, out, err = _run(capsys, command, "--tree", tree, "--kiosk", "999999-0000")
        assert code == 2, command
        assert "999999-0000" in err
        _bilingual(err)
        assert out == ""
    code, _, err = _run(capsys, "publish", "--tree", tree, "--city", "510800", "--tag", "none")
    assert code == 2
    _bilingual(err)
    assert "no kiosk matches" in err
    assert _metadata(repo) == before


def test_init_twice_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    _ok(capsys, "init", "--tree", tree)
    keys = tree / ".fleet" / "keys"
    pems = {p: p.read_bytes() for p in keys.rglob("*.pem")}
    before = _metadata(_repo(tree))
    code, _, err = _run(capsys, "init", "--tree", tree)
    assert code == 2
    _bilingual(err)
    assert "already" in err
    # the keys the kiosks trust are not replaced
    assert {p: p.read_bytes() for p in keys.rglob("*.pem")} == pems
    assert _metadata(_repo(tree)) == before


def test_invalid_layer_publishes_nothing(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tree = _tree(tmp_path)
    _ok(capsys, "init", "--tree", tree)
    layer = tree / "layers" / "kiosk" / "510107-0001" / "settings.toml"
    layer.parent.mkdir(parents=True)
    layer.write_text("[session]\nidle_timeout_s = -1\n", encoding="utf-8")
    repo = _repo(tree)
    before = _metadata(repo)
    code, _, err = _run(capsys, "publish", "--tree", tree)
    assert code == 2
    _bilingual(err)
    assert "510107-0001" in err and "session.idle_timeout_s" in err
    # the two valid kiosks were not published alone either
    assert _metadata(repo) == before
    assert repo.listed() == {}


def test_missing_tree_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "build", "--tree", tmp_path / "nowhere")
    assert code == 2
    assert "Traceback" not in err
    assert "fleet.toml" in err


# --- as a real process ------------------------------------------------------------------------


def _kiosk(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "fleetops", *(str(a) for a in argv)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_fleet_commands_as_a_process(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    done = _kiosk("init", "--tree", tree, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tree / "public" / "metadata" / "1.root.json").exists()

    # --tree defaults to the working folder
    done = _kiosk("build", "--tag", "bank", cwd=tree)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: 510802-0002 v1: defaults, province, city/510800, "
                                  "hall/lizhou-icbc, kiosk/510802-0002;")
    assert done.stdout.count("OK:") == 1

    done = _kiosk("publish", "--kiosk", "510802-0002", cwd=tree)
    assert done.returncode == 0, done.stderr
    assert _repo(tree).listed() == {"510802-0002": 1}

    done = _kiosk("timestamp", "--tree", tree, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"OK: timestamp v\d+\n", done.stdout)

    done = _kiosk("diff", "--tree", tree, "--kiosk", "999999-0000", cwd=ROOT)
    assert done.returncode == 2
    assert "999999-0000" in done.stderr
    _bilingual(done.stderr)

    done = _kiosk("init", "--tree", tree, cwd=ROOT)
    assert done.returncode == 2
    _bilingual(done.stderr)
