"""Region directory documents for tests, built as the operator's tool writes them (real keys
of either suite, real JSON)."""

from __future__ import annotations

import json
from typing import Any

from kiosk.routing.directory_format import DIRECTORY_FORMAT, SCHEMA
from kiosk.transfer.keys import KeyFile, generate
from kiosk.transfer.suites import Role

SUITE = "x25519-chacha20"
ALWAYS = ("2026-01-01T00:00:00+08:00", "2030-01-01T00:00:00+08:00")


def key(owner: str, suite: str = SUITE, valid: tuple[str, str] = ALWAYS
        ) -> tuple[dict[str, Any], KeyFile]:
    made = generate(owner, Role.ENCRYPT, suite)
    return ({"suite": suite, "key_id": made.key_id, "public": made.public.hex(),
             "not_before": valid[0], "not_after": valid[1]}, made)


def entry(name: str, keys: list[dict[str, Any]], *, phone: str = "0816-3260000",
          transport: str = "directory", endpoint: str = "",
          departments: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "transport": transport, "endpoint": endpoint, "phone": phone,
            "departments": departments or {"": f"{name}政务服务中心"}, "keys": keys, **extra}


def document(regions: dict[str, Any], exchanges: dict[str, Any] | None = None, *,
             revoked: list[dict[str, Any]] | None = None, version: int = 1,
             fleet: str = "demo-sichuan") -> bytes:
    return json.dumps({"format": DIRECTORY_FORMAT, "schema": SCHEMA, "fleet": fleet,
                       "version": version, "issued": "2026-12-01T08:00:00+08:00",
                       "regions": regions, "exchanges": exchanges or {},
                       "revoked": revoked or []}, ensure_ascii=False).encode()
