"""Where the project's own folders are: the one place that knows (the CLI's defaults, the
IME dictionary, the fleet operator's build). A deployed kiosk names its folders in its
settings (``[paths]``); these are the checkout's, for the demo and the tools."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config"
ASSETS = REPO / "assets"
DEMO_SETTINGS = CONFIG / "demo.toml"
DEFAULT_CATALOGUE = CONFIG / "catalogue.yaml"
FONT = Path("fonts/NotoSansSC-Regular.otf")       # under an assets folder
CHIME = Path("sounds/chime.wav")                  # the staff-call chime, ditto
