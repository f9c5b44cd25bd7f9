"""The citizen's screens, in journey order (attract → matters → guide → identify → capture →
review → delivery → confirm → printing → rating → done), their frame (:mod:`.frame`: the
nine steps in the progress bar) and the journey that owns the citizen's session."""
