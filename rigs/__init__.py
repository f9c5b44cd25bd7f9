"""Emulators of the kiosk's uplink side, for the demo, the tests and the benchmarks, as the
virtual printer is for printers: :mod:`rigs.tus_rig` runs the reference tus 1.0
server (``tus-server/``, @tus/server with @tus/file-store) as the handling region's upload
endpoint, with the server-side dedup that makes each package's delivery exactly once, and
:mod:`rigs.chaos` is a TCP proxy that plays a bad hall network between the two
(a slow link, latency, a reset mid-upload, a stretch of silence). For the fleet,
:mod:`rigs.static_site` serves a published TUF repository as a web server or CDN
would (ETag, 304), and :mod:`rigs.mqtt_rig` runs Mosquitto as the MQTT 5 broker."""
