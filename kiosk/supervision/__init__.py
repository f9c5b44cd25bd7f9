"""Running unattended under systemd: the sd_notify client, the liveness of the UI thread and
the device workers behind every watchdog ping, and the run marker that tells the next start
how the last run ended (docs/layout.md)."""
