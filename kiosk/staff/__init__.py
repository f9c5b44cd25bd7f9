"""Staff mode's core (issue 21): roster and sign-in, sessions and roles, the hash-chained
audit log, the 台账 export. No Kivy here: the staff screens build on these."""
