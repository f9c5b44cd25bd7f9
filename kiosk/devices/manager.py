"""The kiosk's devices at run time: built from settings through the registry, each with its
own worker thread for blocking I/O; open, status and close in one place; events onto the bus
as ``device.<kind>``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from drivers.status import DeviceEvent, DeviceStatus
from kiosk.devices.registry import DeviceContext, DeviceSpec, Registry

T = TypeVar("T")
Publish = Callable[[str, DeviceEvent], None]


class Configured(Protocol):
    """One ``[devices.<kind>]`` section as settings hold it (kiosk.settings.DeviceConfig)."""

    @property
    def backend(self) -> str: ...

    @property
    def options(self) -> Mapping[str, Any]: ...


def configure(configured: Mapping[str, Configured],
              registry: Registry) -> dict[str, DeviceSpec]:
    """Every kind the registry knows, as configured or with its default backend."""
    specs = {}
    for kind in registry.kinds:
        conf = configured.get(kind.name)
        backend, options = (conf.backend, conf.options) if conf else (kind.default_backend, {})
        specs[kind.name] = registry.spec(kind.name, backend, options)
    unknown = set(configured) - set(specs)
    if unknown:   # settings loaded with another registry: refuse rather than ignore
        registry.spec(sorted(unknown)[0], "", {})
    return specs


class DeviceManager:
    def __init__(self, specs: dict[str, DeviceSpec], devices: dict[str, Any],
                 publish: Publish) -> None:
        self.specs = specs
        self._devices = devices
        self._publish = publish
        self._workers: dict[str, ThreadPoolExecutor] = {}

    @classmethod
    def build(cls, configured: Mapping[str, Configured], registry: Registry,
              context: DeviceContext, publish: Publish) -> DeviceManager:
        specs = configure(configured, registry)
        return cls(specs, {k: registry.build(s, context) for k, s in specs.items()}, publish)

    def __getitem__(self, kind: str) -> Any:
        return self._devices[kind]

    def managed(self) -> Iterator[tuple[str, Any]]:
        """The devices with a life (open, status, close); not pure functions like decoders."""
        return ((k, d) for k, d in self._devices.items() if self.specs[k].kind.managed)

    def open(self) -> None:
        for kind, device in self.managed():
            device.open(self._sink(kind))

    def statuses(self) -> dict[str, DeviceStatus]:
        return {kind: device.status() for kind, device in self.managed()}

    def run(self, kind: str, call: Callable[[], T]) -> Future[T]:
        """Run blocking device I/O on that device's own worker thread."""
        worker = self._workers.get(kind)
        if worker is None:
            worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=kind)
            self._workers[kind] = worker
        return worker.submit(call)

    def workers(self) -> dict[str, Executor]:
        """The device workers started so far (the watchdog probes them)."""
        return dict(self._workers)

    def close(self) -> None:
        for worker in self._workers.values():
            worker.shutdown(wait=True)
        for _, device in self.managed():
            device.close()

    def _sink(self, kind: str) -> Callable[[DeviceEvent], None]:
        def sink(event: DeviceEvent) -> None:
            self._publish(f"device.{kind}", event)
        return sink
