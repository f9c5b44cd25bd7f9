"""好差评 kept and uploaded: every rating a citizen gives is written to disk the moment it is
given, then sent to the hall's evaluation system with that endpoint's own code tables."""
