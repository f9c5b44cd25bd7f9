"""The hall case index: 进度查询 for any case received at this hall (docs/hall-cards.md)."""
