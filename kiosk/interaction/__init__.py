"""What the touchscreen needs from the core, without Kivy: texts in two languages
(:mod:`.i18n`), spoken prompts (:mod:`.voice`), the pinyin keyboard (:mod:`.ime`), matter
search (:mod:`.search`), the address picker's divisions (:mod:`.divisions`), and the document
camera's live view with auto-capture (:mod:`.camera_feed`, :mod:`.autocapture`). Screens use
these; the session core does not."""
