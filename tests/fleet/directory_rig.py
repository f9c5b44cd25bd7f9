"""An operator's region table for the directory tests: real region key files (both halves
made here, the .pub beside the table), written as TOML or CSV the way an operator would."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from kiosk.transfer.keys import KeyFile, generate, write_public
from kiosk.transfer.suites import Role

ALWAYS = ("2026-01-01T00:00:00+08:00", "2030-01-01T00:00:00+08:00")
EXPIRED = ("2025-01-01T00:00:00+08:00", "2026-06-30T00:00:00+08:00")


@dataclass
class RegionTable:
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, list[KeyFile]] = field(default_factory=dict)

    def add(self, code: str, name: str, *, phone: str = "0839-3260000",
            valid: tuple[tuple[str, str], ...] = (ALWAYS,), suite: str = "x25519-chacha20",
            departments: dict[str, str] | None = None, provinces: list[str] | None = None,
            transport: str = "directory", endpoint: str = "") -> list[KeyFile]:
        """A region (or ``exchange:<id>``) with one fresh key per validity window."""
        made = []
        for i, window in enumerate(valid):
            key = generate(code.replace("exchange:", "x-"), Role.ENCRYPT, suite)
            rel = f"keys/{code.replace(':', '-')}-{len(self.keys.get(code, [])) + i}.pub"
            write_public(self.folder / rel, key)
            made.append((key, rel, window))
        self.keys.setdefault(code, []).extend(k for k, _, _ in made)
        self.rows.append({"code": code, "name": name, "phone": phone, "transport": transport,
                          "endpoint": endpoint, "department": f"{name}政务服务中心",
                          "departments": departments or {}, "provinces": provinces,
                          "keys": [{"file": rel, "not_before": w[0], "not_after": w[1]}
                                   for _, rel, w in made]})
        return [k for k, _, _ in made]

    def toml(self, name: str = "regions.toml") -> Path:
        regions, exchanges = [], []
        for row in self.rows:
            item = {k: v for k, v in row.items() if v is not None and k != "code"}
            if row["code"].startswith("exchange:"):
                exchanges.append({"id": row["code"][9:], **item})
            else:
                item.pop("provinces", None)
                regions.append({"code": row["code"], **item})
        path = self.folder / name
        path.write_text(tomli_w.dumps({"region": regions, "exchange": exchanges}),
                        encoding="utf-8")
        return path

    def csv(self, name: str = "regions.csv") -> Path:
        path = self.folder / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["code", "name", "transport", "endpoint", "phone", "department",
                          "departments", "provinces", "key_file", "not_before", "not_after"])
            for row in self.rows:
                deps = ";".join(f"{k}={v}" for k, v in row["departments"].items())
                for i, key in enumerate(row["keys"]):
                    route = [row["code"], row["name"], row["transport"], row["endpoint"],
                             row["phone"], row["department"], deps,
                             " ".join(row["provinces"] or [])]
                    if i:
                        route = [row["code"]] + [""] * 7
                    out.writerow([*route, key["file"], key["not_before"], key["not_after"]])
        return path
