"""One fleet-managed kiosk, wired: the running kiosk (host), its configuration agent and its
heartbeat. A kiosk without ``[fleet] repository`` runs its local settings alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.fleet.agent import FleetAgent, running_settings
from kiosk.fleet.client import ConfigClient
from kiosk.fleet.directory import DirectoryChannel
from kiosk.fleet.heartbeat import Heartbeat
from kiosk.fleet.host import KioskHost
from kiosk.fleet.staffmode import selftest_reminder, staff_authority
from kiosk.fleet.status_events import StatusSubscriber
from kiosk.fleet.store import ConfigStore
from kiosk.settings import Settings
from kiosk.staff.authority import StaffAuthority


@dataclass
class FleetNode:
    host: KioskHost
    agent: FleetAgent | None
    heartbeat: Heartbeat | None
    staff: StaffAuthority | None = None      # staff sign-in (unavailable without a roster)
    directory: DirectoryChannel | None = None   # the signed region directory's channel
    status_events: StatusSubscriber | None = None   # case status events from the regions

    @classmethod
    def build(cls, local: Settings, *, background: bool = True,
              clock: Callable[[], datetime] = datetime.now) -> FleetNode:
        """Start on the current fleet version if it still validates (else last-known-good,
        else ``local``). ``background``: status poll and uploader threads."""
        fleet = local.fleet
        if not fleet.repository:
            host = KioskHost(local, background=background, clock=clock)
            return cls(host, None, None, staff_authority(local, host, None, clock))
        store = ConfigStore(local.paths.data_dir / "fleet")
        settings, _version = running_settings(local, store)
        directory = DirectoryChannel(store.folder / "directory", fleet=fleet.name,
                                     suite=lambda: host.kiosk.settings.transfer.suite)
        host = KioskHost(settings, background=background, clock=clock,
                         directory=directory.current)
        client = ConfigClient(fleet=fleet.name, kiosk_id=local.kiosk.id,
                              repository=fleet.repository, root=fleet.root,
                              state_dir=store.folder)
        agent = FleetAgent(local, host, client, store, clock)
        agent.directory = directory
        heartbeat = Heartbeat(fleet, local.kiosk.id, agent) if fleet.broker else None
        staff = staff_authority(local, host, store, clock)
        if heartbeat is not None:
            heartbeat.staff_report = staff.report
            heartbeat.selftest_report = selftest_reminder(local, host, clock).report
        status = (StatusSubscriber(fleet, local.kiosk.id, host.apply_status_event,
                                   local.casestatus.session_expiry_s)
                  if fleet.broker and local.casestatus.mqtt else None)
        return cls(host, agent, heartbeat, staff, directory, status)

    def start(self) -> None:
        if self.agent is not None:
            self.agent.run()
        if self.heartbeat is not None:
            self.heartbeat.start()
        if self.status_events is not None:
            self.status_events.start()

    def close(self) -> None:
        if self.status_events is not None:
            self.status_events.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.agent is not None:
            self.agent.stop()
            self.agent.client.close()
        self.host.close()
