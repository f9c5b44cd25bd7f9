"""The kiosk's side of TUF: refresh the metadata against the pinned root, find this kiosk's
bundle, download it only when its version is new. Every refusal becomes a FleetError whose
code goes into logs and the heartbeat.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from tuf.api import exceptions as tuf_errors
from tuf.ngclient import Updater, UpdaterConfig

from kiosk.fleet.bundle import Bundle, read_bundle
from kiosk.fleet.errors import FleetError
from kiosk.fleet.fetch import ConditionalFetcher

log = logging.getLogger(__name__)


def target_path(kiosk_id: str) -> str:
    """Where a kiosk's bundle is listed in the targets metadata."""
    return f"kiosks/{kiosk_id}/bundle.zip"


class ConfigClient:
    def __init__(self, *, fleet: str, kiosk_id: str, repository: str, root: Path,
                 state_dir: Path, fetcher: ConditionalFetcher | None = None) -> None:
        self.fleet, self.kiosk_id = fleet, kiosk_id
        self._base = repository.rstrip("/") + "/"
        self._metadata_dir = state_dir / "tuf"
        self._targets_dir = state_dir / "downloads"
        self.fetcher = fetcher or ConditionalFetcher()
        self._refreshed: Updater | None = None    # this round's, for other targets
        self._refresh_error: FleetError | None = None
        try:
            self._root = root.read_bytes()
        except OSError as exc:
            raise FleetError(f"找不到受信根元数据 {root}", f"pinned root metadata {root}: {exc}",
                             code="untrusted") from None

    def check(self, current: int | None) -> Bundle | None:
        """A bundle newer than ``current``, verified and opened; None when there is none."""
        self._refreshed = self._refresh_error = None       # a new round
        try:
            updater = self._refresh()
            info = updater.get_targetinfo(target_path(self.kiosk_id))
            if info is None:
                raise FleetError("配置库中没有本机的配置包",
                                 f"the repository lists no bundle for {self.kiosk_id}",
                                 code="not_listed")
            listed = info.custom.get("version")
            if not isinstance(listed, int):
                raise FleetError("配置包版本缺失", "target lacks custom.version", code="invalid")
            if current is not None and listed < current:
                raise FleetError(f"配置库提供的版本 {listed} 比本机的 {current} 旧",
                                 f"repository offers version {listed}, older than the "
                                 f"applied {current}", code="rollback")
            if current is not None and listed == current:
                return None
            path = updater.find_cached_target(info) or updater.download_target(info)
            data = Path(path).read_bytes()
        except FleetError:
            raise
        except Exception as exc:   # why: every library failure becomes one typed refusal
            raise refusal(exc) from exc
        bundle = read_bundle(data, kiosk=self.kiosk_id, fleet=self.fleet)
        if bundle.version != listed:
            raise FleetError("配置包版本与签名元数据不符",
                             f"bundle says version {bundle.version}, metadata {listed}",
                             code="tampered")
        return bundle

    def target(self, path: str, newer_than: int | None) -> tuple[int, bytes] | None:
        """Another signed target of the fleet (the region directory): its signed
        ``custom.version`` and verified bytes when newer than ``newer_than``; None when not
        listed or not newer. Uses the metadata :meth:`check` refreshed this round."""
        try:
            updater = self._refresh()
            info = updater.get_targetinfo(path)
            if info is None:
                return None
            listed = info.custom.get("version")
            if not isinstance(listed, int):
                raise FleetError(f"{path} 版本缺失", f"{path}: target lacks custom.version",
                                 code="invalid")
            if newer_than is not None and listed < newer_than:
                raise FleetError(f"配置库提供的 {path} 版本 {listed} 比本机的 {newer_than} 旧",
                                 f"repository offers {path} version {listed}, older than "
                                 f"the {newer_than} in use", code="rollback")
            if newer_than is not None and listed == newer_than:
                return None
            found = updater.find_cached_target(info) or updater.download_target(info)
            return listed, Path(found).read_bytes()
        except FleetError:
            raise
        except Exception as exc:   # why: every library failure becomes one typed refusal
            raise refusal(exc) from exc

    def _refresh(self) -> Updater:
        """This round's verified metadata, refreshed once: a refresh that failed fails the
        round's other targets with the same refusal (an offline kiosk waits once per poll)."""
        if self._refreshed is not None:
            return self._refreshed
        if self._refresh_error is not None:
            raise self._refresh_error
        try:
            updater = self._updater()
            updater.refresh()
        except Exception as exc:   # why: every library failure becomes one typed refusal
            self._refresh_error = refusal(exc)
            raise self._refresh_error from exc
        self._refreshed = updater
        return updater

    def _updater(self) -> Updater:
        for folder in (self._metadata_dir, self._targets_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return Updater(str(self._metadata_dir), self._base + "metadata/",
                       str(self._targets_dir), self._base + "targets/", fetcher=self.fetcher,
                       config=UpdaterConfig(app_user_agent="tongban-kiosk"),
                       # always the pinned root: ngclient follows the rotations it verified
                       # before from its own root history, never from a file it can't check
                       bootstrap=self._root)

    def close(self) -> None:
        self.fetcher.close()


def refusal(exc: Exception) -> FleetError:
    """Map python-tuf's and the network's errors to one FleetError each."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, tuf_errors.ExpiredMetadataError):
        return FleetError("配置元数据已过期（时间戳未续签）", f"metadata expired: {detail}",
                          code="expired")
    if isinstance(exc, tuf_errors.BadVersionNumberError):
        return FleetError("配置元数据版本回退", f"metadata rollback: {detail}", code="rollback")
    if isinstance(exc, (tuf_errors.LengthOrHashMismatchError,
                        tuf_errors.DownloadLengthMismatchError)):
        return FleetError("下载内容与签名不符", f"download does not match its signed hash: "
                          f"{detail}", code="tampered")
    if isinstance(exc, tuf_errors.RepositoryError):
        return FleetError("配置元数据签名无效", f"metadata not trusted: {detail}",
                          code="untrusted")
    if isinstance(exc, (tuf_errors.DownloadError, httpx.HTTPError, OSError)):
        return FleetError("无法连接配置库", f"repository unreachable: {detail}",
                          code="unreachable")
    return FleetError("配置更新失败", f"update failed: {detail}", code="untrusted")
