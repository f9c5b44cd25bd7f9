"""A fuzz of what a compromised kiosk can sign, opened in process: header fields and manifest
values replaced by any JSON, and member names of any text listed with their right hash.
Whatever happens ends in an opened package that the schema accepts, or in a bilingual
refusal — never another exception — and nothing is ever written outside ``--out``."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hostile_rig import (
    CJK,
    DROP,
    KIOSK_ID,
    REGION,
    SUITE,
    Fixture,
    Rig,
    changed_outside,
    make_rig,
    walk,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.opening import open_package
from kiosk.errors import BilingualError
from kiosk.package import SCHEMA_PATH
from kiosk.transfer.keys import Registry

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.fixture
def rig(tmp_path: Path, make_keys: Fixture, make_package: Fixture) -> Rig:
    return make_rig(tmp_path, make_keys, make_package)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["../x", "/abs", "..", "a/../../b", "1.0", "C",
                                              "receipt.pdf", "x25519-chacha20", KIOSK_ID]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6)
_FUZZ = settings(max_examples=50, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*at, i))
    return found


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def _open_in_process(rig: Rig, package: Path) -> Any:
    """Open ``package`` into a fresh --out: the opened package, or the bilingual refusal.
    Anything else escapes and fails the test. The walk is checked either way."""
    rig.out.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(dir=rig.out.parent)) / "out"
    before = walk(rig.root)
    try:
        result: Any = open_package(package, rig.keys.region_key,
                                   Registry.from_path(rig.keys.kiosk_pub), out)
    except BilingualError as exc:
        assert exc.zh and exc.en and CJK.search(exc.zh)
        assert os.listdir(out) == [], "a refusal left something in --out"
        result = exc
    assert changed_outside(before, walk(rig.root), rig.root, out) == []
    return result


@_FUZZ
@given(data=st.data())
def test_fuzz_header_fields(rig: Rig, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["suite", "package_id", "kiosk_id", "key_id",
                                       "recipient", "recipient_key_id", "nonce_prefix",
                                       "wrapped", "other"]))
    value = data.draw(_JSON | st.just(DROP))
    manifest = rig.manifest()
    if field == "package_id" and isinstance(value, str):
        manifest["package_id"] = value                 # the kiosk keeps them consistent
    package = rig.seal_zip(rig.entries(), manifest, **{field: value})
    result = _open_in_process(rig, package)
    if not isinstance(result, BilingualError):
        # only a change that changed nothing opens: every field has one valid value here
        valid = {"suite": SUITE, "package_id": rig.built.package_id, "kiosk_id": KIOSK_ID,
                 "recipient": REGION, "key_id": rig.keys.kiosk.key_id,
                 "recipient_key_id": rig.keys.region.key_id}
        assert (field == "other" and value is DROP) or valid.get(field) == value, (field, value)
        assert result.folder == result.folder.parent / rig.built.package_id


@_FUZZ
@given(data=st.data())
def test_fuzz_manifest(rig: Rig, data: st.DataObject) -> None:
    original = rig.manifest()
    path = data.draw(st.sampled_from(_paths(original)))
    manifest = _replace(original, path, data.draw(_JSON))
    entries = {**rig.entries(), "manifest.json": json.dumps(manifest).encode()}
    result = _open_in_process(rig, rig.seal_zip(entries))
    if not isinstance(result, BilingualError):
        # whatever opens is a manifest the schema accepts, with every file it lists
        VALIDATOR.validate(result.manifest)
        assert result.manifest == manifest
        for name in result.files:
            assert (result.folder / name).resolve().is_relative_to(result.folder.resolve())


@_FUZZ
@given(name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
       | st.sampled_from(["../x", "a/../../x", "/x", "a//b", "a/./b", "..\\x", "x/"]))
def test_fuzz_member_names(rig: Rig, name: str) -> None:
    """A name listed with its right hash either stays inside the folder or is refused."""
    data = b"%PDF-1.4 fuzz"
    manifest = rig.manifest()
    manifest["documents"].append({"kind": "receipt", "file": name,
                                  "sha256": hashlib.sha256(data).hexdigest()})
    entries = rig.entries()
    if name in entries:
        return
    result = _open_in_process(rig, rig.seal_zip({**entries, name: data}, manifest))
    if not isinstance(result, BilingualError):
        written = result.folder / name
        assert written.read_bytes() == data
        assert written.resolve().is_relative_to(result.folder.resolve())
