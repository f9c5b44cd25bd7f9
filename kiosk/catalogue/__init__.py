"""The matter catalogue: schema (``model``) and loading."""

from __future__ import annotations

from pathlib import Path

from kiosk.catalogue.model import (
    REQUIREMENT_TAGS,
    AlternativeGroup,
    Catalogue,
    Material,
    Matter,
    Necessity,
    SingleRequirement,
    Situation,
)
from kiosk.validation import load_model

__all__ = [
    "AlternativeGroup",
    "Catalogue",
    "Material",
    "Matter",
    "Necessity",
    "SingleRequirement",
    "Situation",
    "load_catalogue",
]


def load_catalogue(path: Path) -> Catalogue:
    """Load and validate a catalogue file, or raise ConfigError with file:line messages."""
    return load_model(path, Catalogue, skip_loc=REQUIREMENT_TAGS)
