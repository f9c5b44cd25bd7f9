"""Device layer: one package per device class.

Each package's ``__init__`` holds the interface (a Protocol, its dataclasses and typed
errors); backends live beside it and are imported lazily by ``kiosk.bootstrap``.
Nothing here imports ``kiosk`` or ``screens``.
"""
