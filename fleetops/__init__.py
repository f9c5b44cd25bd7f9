"""The fleet operator's program (``kiosk-fleet``), run on the province's (or a city's)
machine, never on a kiosk: the layered configuration tree and its merge (:mod:`.layers`),
bundles per kiosk (:mod:`.operator`), the TUF repository and its keys (:mod:`.repo`), cities'
delegations and uploads (:mod:`.delegation`, :mod:`.uploads`), and the console that reads
kiosks' heartbeats and sends signed commands (:mod:`.console`). It shares the bundle format,
the checks and the command signatures with the kiosk's side in kiosk/fleet/."""
