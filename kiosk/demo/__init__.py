"""The demo: a scripted citizen who runs a whole session on emulated devices with no screen
(:mod:`.citizen`, ``kiosk demo --headless``), and the hand it and the on-screen demo strip use
to lay cards and pages on the emulators (:mod:`.hand`)."""
