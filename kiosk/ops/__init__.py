"""The unattended kiosk PC: disk floor and reserve, logs, the guarded clock, the UPS, and the
technician's pre-flight checks (``kiosk doctor``)."""
