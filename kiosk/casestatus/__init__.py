"""A case's status after the receipt: signed events from the handling region (event.py)."""
