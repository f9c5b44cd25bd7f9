"""The handling region's program (``kiosk-region``), run where the region receives packages:
its key pairs, opening what kiosks send (:mod:`.opening`) — a package is hostile until
every check has passed, even one a registered kiosk signed —, taking completed uploads in as
cases (:mod:`.receive`), the back office's moves (:mod:`.casework`) and the signed status
events back to the kiosks (:mod:`.publisher`, :mod:`.feed`). docs/region-intake.md."""
