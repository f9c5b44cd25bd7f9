"""The product's manifest model (kiosk/manifest.py) and the JSON schema the package
format is published as (kiosk/schemas/package-manifest.schema.json) say the same thing: the
same keys at every level, the same required ones, the same enums and patterns, no extra
keys. A change to one without the other fails here."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from kiosk.manifest import Manifest, parse_manifest
from kiosk.package import SCHEMA_PATH
from kiosk.untrusted import Untrusted

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
# where the model asks for more than the schema says (see the module's docstring)
STRICTER = {"package_id", "correction_of", "times.received_at", "times.transfer_deadline",
            "assistance.started_at", "assistance.original_checks.at",
            "assistance.rongque.approved_at", "assistance.rongque.committed_at",
            "applicant.face_check.checked_at"}


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The inner type of Optional / Annotated / list, and the metadata met on the way."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *more = typing.get_args(annotation)
            metadata += more
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, metadata


def _pairs(schema: dict[str, Any], model: type[BaseModel],
           at: str = "") -> Iterator[tuple[str, dict[str, Any], type[BaseModel]]]:
    """Every object of the schema beside the model class that reads it."""
    yield at, schema, model
    for name, prop in schema["properties"].items():
        sub = prop.get("items", prop)
        if sub.get("type") == "object":
            inner, _ = _unwrap(model.model_fields[name].annotation)
            yield from _pairs(sub, inner, f"{at}{name}.")


PAIRS = list(_pairs(SCHEMA, Manifest))


def test_every_schema_object_has_a_model() -> None:
    assert [at for at, _, _ in PAIRS] == [
        "", "sender.", "receivers.", "matter.", "matter.situation.", "applicant.",
        "applicant.face_check.", "delivery.", "commitments.", "assistance.",
        "assistance.agent.", "assistance.original_checks.", "assistance.rongque.",
        "materials.", "documents.", "times.", "seal."]


@pytest.mark.parametrize(("at", "schema", "model"), PAIRS, ids=[p[0] or "(top)" for p in PAIRS])
def test_same_keys_required_and_no_extras(at: str, schema: dict[str, Any],
                                          model: type[BaseModel]) -> None:
    assert schema["additionalProperties"] is False and model.model_config["extra"] == "forbid"
    assert model.model_config["strict"] is True
    assert set(schema["properties"]) == set(model.model_fields), at
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", ())) == required, at


@pytest.mark.parametrize(("at", "schema", "model"), PAIRS, ids=[p[0] or "(top)" for p in PAIRS])
def test_same_enums_and_patterns(at: str, schema: dict[str, Any],
                                 model: type[BaseModel]) -> None:
    for name, prop in schema["properties"].items():
        field = model.model_fields[name]
        inner, metadata = _unwrap(field.annotation)
        metadata += field.metadata
        choices = prop.get("enum", [prop["const"]] if "const" in prop else None)
        if choices is not None:
            assert typing.get_origin(inner) is typing.Literal, f"{at}{name}"
            assert set(typing.get_args(inner)) == set(choices), f"{at}{name}"
        patterns = [m.pattern for m in metadata if getattr(m, "pattern", None)]
        if "pattern" in prop:
            assert patterns == [prop["pattern"].replace("\\d", "[0-9]")], f"{at}{name}"
        elif f"{at}{name}" not in STRICTER:
            assert patterns == [], f"{at}{name}: a pattern the schema does not have"


@pytest.mark.parametrize("raw", [b'{"schema_version": "1.0"}', b"{}", b"[]", b"1"])
def test_an_incomplete_manifest_names_what_is_missing(raw: bytes) -> None:
    with pytest.raises(Untrusted) as info:
        parse_manifest(raw)
    assert info.value.code == "invalid_manifest" and info.value.zh and info.value.en


def test_a_refusal_never_quotes_the_applicant(make_keys: Any, make_package: Any,
                                              applicant: dict[str, str]) -> None:
    """The message goes to logs and terminals: where and what, never the value."""
    manifest = make_package(1, 3, signer=make_keys("x25519-chacha20").signer).manifest
    parse_manifest(json.dumps(manifest).encode())                 # the control: it parses
    manifest["applicant"] = {**manifest["applicant"], "id_number": 5, "phone": 199,
                             "name": [applicant["name"]]}
    with pytest.raises(Untrusted) as info:
        parse_manifest(json.dumps(manifest, ensure_ascii=False).encode())
    text = info.value.zh + info.value.en
    assert "applicant.id_number" in text and "applicant.name" in text
    assert not [v for v in applicant.values() if v in text]


@pytest.mark.parametrize(("where", "key"), [("materials", "file"), ("materials", "format"),
                                            ("applicant", "email"), ("", "commitments")])
def test_an_optional_key_may_be_absent_but_never_null(make_keys: Any, make_package: Any,
                                                      where: str, key: str) -> None:
    """Found by the fuzz in test_region_hostile.py: the schema allows null nowhere."""
    manifest = make_package(1, 3, signer=make_keys("x25519-chacha20").signer).manifest
    node = manifest[where][0] if where == "materials" else manifest.get(where, manifest)
    node[key] = None
    with pytest.raises(Untrusted) as info:
        parse_manifest(json.dumps(manifest).encode())
    assert "null is not allowed" in info.value.en and key in info.value.en
    del node[key]
    parse_manifest(json.dumps(manifest).encode())


def test_a_long_unknown_key_is_named_briefly(make_keys: Any, make_package: Any) -> None:
    manifest = make_package(1, 3, signer=make_keys("x25519-chacha20").signer).manifest
    manifest["k" * 100_000] = 1
    with pytest.raises(Untrusted) as info:
        parse_manifest(json.dumps(manifest).encode())
    assert len(info.value.en) < 1000


FACE_CHECK = {"method": "dlib-resnet-v1", "outcome": "match", "photo_source": "chip",
              "liveness": "passed", "tries": 1, "score": 0.7181, "threshold": 0.5,
              "checked_at": "2026-12-07T09:30:00"}


def test_the_face_check_is_evidence_the_schema_and_the_model_both_take(
        make_keys: Any, make_package: Any) -> None:
    import jsonschema
    manifest = make_package(1, 3, signer=make_keys("x25519-chacha20").signer).manifest
    manifest["applicant"]["face_check"] = dict(FACE_CHECK)
    jsonschema.validate(manifest, SCHEMA)
    assert parse_manifest(json.dumps(manifest).encode())[1].applicant.face_check.score == 0.7181
    staff = {k: v for k, v in FACE_CHECK.items() if k not in ("score", "threshold")}
    manifest["applicant"]["face_check"] = {**staff, "method": "staff",
                                           "outcome": "staff_verified", "liveness": "not_run"}
    parse_manifest(json.dumps(manifest).encode())


@pytest.mark.parametrize(("key", "value"), [("tries", 4), ("outcome", "maybe"),
                                            ("photo", "base64..."), ("score", None)])
def test_a_face_check_out_of_bounds_or_carrying_more_is_refused(
        make_keys: Any, make_package: Any, key: str, value: Any) -> None:
    manifest = make_package(1, 3, signer=make_keys("x25519-chacha20").signer).manifest
    manifest["applicant"]["face_check"] = {**FACE_CHECK, key: value}
    with pytest.raises(Untrusted):
        parse_manifest(json.dumps(manifest).encode())
