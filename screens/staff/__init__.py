"""Staff mode's screens go here (hall guides and window staff: sign-in with a staff card and
PIN, assisted sessions, 原件核验, 容缺 approval, reprints, 日检, consumables, the 台账 and
maintenance). They subclass screens.base.KioskScreen like the citizen's, with a staff journey
beside screens/citizen/journey.py that plugs into the same navigator. Empty until the staff
mode issue."""
