"""The handling region's program (``kiosk-region``), run where the region receives packages:
its key pairs, and opening what kiosks send (:mod:`.opening`) — a package is hostile until
every check has passed, even one a registered kiosk signed."""
