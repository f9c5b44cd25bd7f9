"""Devices in the core: one kind vocabulary (:mod:`.kinds`), a registry of backends with
typed options (:mod:`.registry`, :mod:`.options`, :mod:`.builtin`), the run-time owner of the
kiosk's devices (:mod:`.manager`) and printers named by URL (:mod:`.urls`)."""
