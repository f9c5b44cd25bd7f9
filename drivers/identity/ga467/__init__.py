"""GA/T 467: the resident ID-card security module on a serial line — framing, the text
block's layouts, the reader backend, the photo plug-in and an emulator of the module."""
