"""Kivy screens (the touchscreen UI). The only package that may import kivy."""
