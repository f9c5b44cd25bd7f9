"""Delegations: a city signs its own kiosks' bundles, if the province allows.

The province's targets role delegates to ``city-<code>`` the exact bundle paths of that
city's kiosks in the inventory, as a terminating delegation: a kiosk in a delegated city is
looked up there and nowhere else, and TUF on the kiosk trusts the city's key for those paths
only. The city builds its kiosks' bundles from the province's tree (shared with it read-only)
with its own city, hall and kiosk layers, so it answers for their whole configuration.

    city      kiosk fleet init --city 510100         its key; .fleet/city-510100.pub.json
    city      kiosk fleet publish --as-city 510100   into uploads/city-510100/ (then copied
                                                     to the province's upload area)
    province  kiosk fleet delegate 510100 --key city-510100.pub.json
    province  kiosk fleet timestamp                  (the timer) takes the upload in
    province  kiosk fleet delegate 510100 --revoke   the province signs those kiosks again

A city never writes into the repository. Its publish goes live when the province's timer job
has checked the upload (fleetops/uploads.py) and re-signed the snapshot, within the hour.
"""

from __future__ import annotations

import json
from pathlib import Path

from securesystemslib.signer import Key, SSlibKey
from tuf.api.metadata import DelegatedRole, Delegations, Targets

from fleetops import uploads
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.bundle import Bundle
from kiosk.fleet.client import target_path
from kiosk.fleet.errors import FleetError


def role_name(city: str) -> str:
    return f"city-{city}"


def new_city_key(keys: KeyStore, city: str) -> Path:
    """The city's signing key; returns its public half, the file the province delegates to."""
    key = keys.generate(role_name(city)).public_key
    path = keys.folder.parent / f"{role_name(city)}.pub.json"
    path.write_text(json.dumps({"keyid": key.keyid, **key.to_dict()}, indent=1) + "\n",
                    encoding="utf-8")
    return path


def read_public_key(path: Path) -> Key:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SSlibKey.from_dict(data.pop("keyid"), data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FleetError(f"无法读取市级公钥 {path}", f"cannot read the city's public key "
                         f"{path}: {exc}", code="bad_key") from None


def delegate(repo: Repository, city: str, key: Key, kiosk_ids: list[str]) -> int:
    """Hand ``kiosk_ids`` (the city's kiosks in the inventory) to the city's key, or update
    the list. The city's upload must be signed with that key and hold a bundle for each,
    newer than what the province lists. Returns the new targets version."""
    role = role_name(city)
    paths = sorted(target_path(k) for k in kiosk_ids)
    if not paths:
        raise FleetError(f"清单中没有 {city} 的终端", f"no kiosk of {city} in the inventory",
                         code="empty")

    def edit(targets: Targets) -> None:
        delegations = targets.delegations or Delegations(keys={}, roles={})
        assert delegations.roles is not None      # we never use succinct (hash-bin) roles
        delegations.roles[role] = DelegatedRole(role, [key.keyid], 1, True, paths)
        delegations.keys[key.keyid] = key
        _drop_unused_keys(delegations)
        targets.delegations = delegations
        upload, refused = uploads.newest(repo.uploads / role, role, targets,
                                         after=repo.latest(role) or 0)
        if upload is None and refused:
            raise FleetError(f"{city} 上传的配置未通过检查（签名密钥或内容不符）",
                             f"{role}'s upload fails its checks (signed by another key, or "
                             "damaged); see the log", code="untrusted")
        for path in paths:
            own = targets.targets.pop(path, None)
            theirs = upload.signed.targets.get(path) if upload else None
            # strictly newer: a kiosk running the province's version N takes no other N
            if theirs is None or (own and theirs.custom["version"] <= own.custom["version"]):
                raise FleetError(f"{city} 尚未为 {path.split('/')[1]} 上传比省级更新的配置",
                                 f"{role} uploaded no bundle for {path} newer than the "
                                 f"province's", code="not_published")

    return repo.publish([], version=repo.bundle_version(), resign=True, edit=edit)


def revoke(repo: Repository, city: str, bundles: list[Bundle]) -> int:
    """Take the city's kiosks back: the delegation goes and the province's own ``bundles``
    for them are listed in the same targets version."""
    role = role_name(city)

    def edit(targets: Targets) -> None:
        roles = targets.delegations.roles if targets.delegations else None
        if not roles or role not in roles:
            raise FleetError(f"{city} 没有获得授权", f"{role} is not delegated",
                             code="not_delegated")
        del roles[role]
        assert targets.delegations is not None
        _drop_unused_keys(targets.delegations)
        if not roles:
            targets.delegations = None

    return repo.publish(bundles, version=bundles[0].version if bundles else
                        repo.bundle_version(), resign=True, edit=edit)


def _drop_unused_keys(delegations: Delegations) -> None:
    used = {k for r in (delegations.roles or {}).values() for k in r.keyids}
    for keyid in set(delegations.keys) - used:
        del delegations.keys[keyid]
