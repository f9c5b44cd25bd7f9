"""What the kiosk writes with the manifest model validates against the schema file we ship,
and model and schema refuse the same broken manifests (the keys, enums and patterns of the
two are compared in test_package_manifest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from kiosk.manifest import Manifest
from kiosk.package import SCHEMA_PATH

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


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
