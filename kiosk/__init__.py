"""The application core. Never imports kivy or a device library (see pyproject contracts)."""
