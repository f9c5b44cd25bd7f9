"""The typed manifest model and the schema file we ship say the same thing: every object has
the same keys in both, nothing the model requires is optional in the schema, unknown keys are
refused by both, and what the model writes validates against the schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from kiosk.manifest import Manifest
from kiosk.package import SCHEMA_PATH

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _pairs(model: type[BaseModel], schema: dict[str, Any], where: str = "manifest"):  # type: ignore[no-untyped-def]
    """(model, schema object, dotted place) for the manifest and every nested object."""
    yield model, schema, where
    for name, field in model.model_fields.items():
        sub = schema["properties"][name]
        sub = sub.get("items", sub)
        inner = field.annotation
        for arg in getattr(inner, "__args__", (inner,)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from _pairs(arg, sub, f"{where}.{name}")


@pytest.mark.parametrize("model, schema, where", list(_pairs(Manifest, SCHEMA)),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_model_and_schema_have_the_same_keys(model: type[BaseModel], schema: dict[str, Any],
                                             where: str) -> None:
    assert set(model.model_fields) == set(schema["properties"]), where
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert required <= set(schema.get("required", ())), where
    assert schema.get("additionalProperties") is False
    assert model.model_config.get("extra") == "forbid"


@pytest.fixture
def package(make_package: Callable[..., Any], make_keys: Callable[..., Any]) -> Any:
    return make_package(2, 5, signer=make_keys("x25519-chacha20").signer)


def test_what_the_model_writes_validates(package: Any) -> None:
    built = package
    manifest = json.loads(Manifest.model_validate(built.manifest).to_json())
    assert manifest == built.manifest
    jsonschema.Draft202012Validator(SCHEMA).validate(manifest)
    assert list(manifest)[:3] == ["schema_version", "package_id", "case_number"]


@pytest.mark.parametrize("mutate", [
    lambda m: m.update(package_id="../x"),
    lambda m: m.update(materials="oops"),
    lambda m: m.update(surprise=1),
    lambda m: m["receivers"][0].update(region_code="5001"),
    lambda m: m["materials"][0].update(sha256="0" * 63),
    lambda m: m["seal"].update(suite="rot13"),
], ids=["package_id", "materials", "extra", "region", "sha256", "suite"])
def test_model_and_schema_refuse_alike(package: Any,
                                       mutate: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads(json.dumps(package.manifest))
    mutate(manifest)
    with pytest.raises(ValidationError):
        Manifest.model_validate(manifest)
    assert not jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).is_valid(manifest)
