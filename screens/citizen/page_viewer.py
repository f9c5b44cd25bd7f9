"""The pages the citizen has captured, for them to check before they confirm (issue 20 §8):
thumbnails that open a page large, and the viewer — the page nearly full screen,
上一页 / 下一页 through every page of the application, 重拍 this one page, 关闭.

Used by the capture checklist and the review screen. Images come from the session's sealed
store when shown and are kept only in a screen's ``PageImages``, which the screen drops with
the rest of its state when the session ends.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kivy.core.image import Image as CoreImage
from kivy.core.window import Window
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget
from PIL import Image

from screens.context import Ui
from screens.dialogs import Dialog
from screens.theme import Theme
from screens.widgets import KioskButton, Panel, Picture, Text, escape, fit_height, fit_row

if TYPE_CHECKING:
    from screens.citizen.journey import CitizenJourney
    from screens.navigator import Navigator

THUMB_PX = 400            # a thumbnail's longer side: sharp at the largest thumbnail drawn


@dataclass(frozen=True)
class ViewedPage:
    material_id: str
    name: str                # the material's name in the chosen language
    number: int              # 1-based, within the material
    count: int               # the material's pages
    page: Any                # kiosk.application.StoredPage


def pages_in_order(session: Any, pick: Callable[[str, str], tuple[str, str]]) -> list[ViewedPage]:
    """Every page of the session, material by material in the checklist's order."""
    if session is None or session.situation is None:
        return []
    seen, out = set(), []
    for requirement in session.situation.materials:
        for material in requirement.options:
            if material.id in seen:
                continue
            seen.add(material.id)
            kept = session.pages.get(material.id, [])
            name = pick(material.name, material.name_en)[0]
            out += [ViewedPage(material.id, name, n, len(kept), page)
                    for n, page in enumerate(kept, start=1)]
    return out


class PageImages:
    """Textures of a session's pages by store ref: thumbnails decoded once at reduced size
    (JPEG draft mode: a fraction of a full decode), the full page when it is viewed."""

    def __init__(self, read: Callable[[Any], bytes]) -> None:
        self._read = read
        self._thumbs: dict[str, Texture] = {}

    def thumbnail(self, page: Any) -> Texture:
        texture = self._thumbs.get(page.ref)
        if texture is None:
            with Image.open(io.BytesIO(self._read(page))) as image:
                image.draft("RGB", (THUMB_PX, THUMB_PX))
                small = image.convert("RGB")
            small.thumbnail((THUMB_PX, THUMB_PX))
            texture = Texture.create(size=small.size, colorfmt="rgb")
            texture.flip_vertical()
            texture.blit_buffer(small.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
            self._thumbs[page.ref] = texture
        return texture

    def full(self, page: Any) -> Texture:
        texture: Texture = CoreImage(io.BytesIO(self._read(page)), ext="jpg").texture
        return texture


class Thumbnail(Panel):
    """A page's picture with its number under it; a tap opens it large."""

    def __init__(self, theme: Theme, texture: Texture, label: str, on_tap: Callable[[], None],
                 name: str, **kwargs: Any) -> None:
        super().__init__(theme, padding=theme.mm(1), spacing=theme.mm(1), **kwargs)
        self.name, self.min_target = name, theme.target
        picture = Picture()
        picture.show(texture)
        self.add_widget(picture)
        self.add_widget(Text(theme, label, size=theme.small, halign="center"))
        self._on_tap = on_tap

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            touch.grab(self)
            return True
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is self:
            touch.ungrab(self)
            if self.collide_point(*touch.pos):
                self._on_tap()
            return True
        return bool(super().on_touch_up(touch))


def thumbnail_row(ui: Ui, images: PageImages, viewed: list[ViewedPage],
                  open_page: Callable[[ViewedPage], None]) -> Widget:
    """The pages of one material, side by side, each large enough to recognise."""
    theme = ui.theme
    height = theme.mm(40 if theme.elder else 46)
    row = BoxLayout(size_hint_y=None, height=height, spacing=theme.gap)
    for item in viewed:
        label = str(item.number) + ("" if item.page.quality.ok else " × " + ui.t("需重拍"))
        row.add_widget(Thumbnail(theme, images.thumbnail(item.page), label,
                                 lambda item=item: open_page(item),
                                 name=f"page_{item.material_id}_{item.number}",
                                 size_hint_x=None, width=height * 0.72))
    row.add_widget(Widget())
    return row


class ShowsPages:
    """For a screen that shows the session's pages (the capture checklist, the review):
    the pages in order, their textures kept until the session ends, and the viewer.
    The screen supplies ``ui``, ``nav`` and ``journey`` and says what 重拍 does."""

    ui: Ui
    nav: Navigator
    journey: CitizenJourney
    images: PageImages | None = None

    def retake_page(self, material_id: str, number: int) -> None:
        raise NotImplementedError

    def page_source(self) -> Any:
        """Whose pages: the session's (a 补正's checklist on the capture screen)."""
        return self.journey.session

    def viewed_pages(self) -> list[ViewedPage]:
        return pages_in_order(self.page_source(), self.ui.tr.pick)

    def page_images(self) -> PageImages:
        if self.images is None:
            source = self.page_source()
            assert source is not None
            self.images = PageImages(source.page_image)
        return self.images

    def page_row(self, viewed: list[ViewedPage]) -> Widget:
        return thumbnail_row(self.ui, self.page_images(), viewed, self.open_page)

    def open_page(self, item: ViewedPage) -> None:
        """The page large, with its neighbours a tap away and its retake."""
        viewed = self.viewed_pages()
        index = next(i for i, p in enumerate(viewed) if p.page.ref == item.page.ref)
        self.nav.show(PageViewer(self.ui, self.page_images(), viewed, index, self.retake_page))


class PageViewer(Dialog):
    """One page large over the screen. ``on_retake(material_id, number)`` after it closes."""

    def __init__(self, ui: Ui, images: PageImages, pages: list[ViewedPage], index: int,
                 on_retake: Callable[[str, int], None]) -> None:
        theme = ui.theme
        ModalView.__init__(self, size_hint=(0.94, None), auto_dismiss=False, background="",
                           background_color=(0, 0, 0, 0), overlay_color=(0, 0, 0, 0.7))
        self.name, self.ui, self.images, self.pages = "page_viewer", ui, images, pages
        self.index, self._on_retake = index, on_retake
        panel = Panel(theme, padding=theme.gap * 1.5, spacing=theme.gap * 1.5)
        fit_height(panel)
        self.message = self.caption = Text(theme, "", size=theme.body * 1.1, bold=True)
        panel.add_widget(self.caption)
        self.picture = Picture(size_hint_y=None, height=_picture_height(theme))
        panel.add_widget(self.picture)
        panel.add_widget(self._buttons())
        panel.bind(height=lambda w, h: setattr(self, "height", h))
        self.add_widget(panel)
        self.show_page(index)

    def _buttons(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        row = BoxLayout(size_hint_y=None, height=theme.target * 1.2, spacing=theme.gap)
        self.previous = KioskButton(theme, ui.bi("上一页"), lambda: self.show_page(self.index - 1),
                                    name="viewer_previous", height=theme.target * 1.2)
        self.next = KioskButton(theme, ui.bi("下一页"), lambda: self.show_page(self.index + 1),
                                name="viewer_next", height=theme.target * 1.2)
        for button in (self.previous, self.next):
            row.add_widget(button)
        row.add_widget(KioskButton(theme, ui.bi("重拍这一页"), self._retake, kind="danger",
                                   name="viewer_retake", height=theme.target * 1.2))
        row.add_widget(KioskButton(theme, ui.bi("关闭"), self.close, kind="primary",
                                   name="viewer_close", height=theme.target * 1.2))
        return fit_row(row)

    def show_page(self, index: int) -> None:
        if not 0 <= index < len(self.pages):
            return
        self.index = index
        item, ui = self.pages[index], self.ui
        state = "" if item.page.quality.ok else "　× " + ui.t("需重拍")
        self.caption.text = (f"{escape(item.name)}　" +
                             ui.t("第 {n} 页（共 {m} 页）", n=item.number, m=item.count) + state +
                             f"\n[size={int(ui.theme.small)}]" +
                             ui.t("全部材料第 {i} / {k} 页", i=index + 1, k=len(self.pages)) +
                             "[/size]")
        self.picture.show(self.images.full(item.page))
        self.previous.set_enabled(index > 0)
        self.next.set_enabled(index < len(self.pages) - 1)

    def close(self) -> None:
        self.dismiss(animation=False)       # at once: a fading view would eat the next tap

    def _retake(self) -> None:
        item = self.pages[self.index]
        self.close()
        self._on_retake(item.material_id, item.number)


def _picture_height(theme: Theme) -> float:
    """Most of the window's height: the page itself is what the citizen came to check."""
    return float(Window.height) * (0.58 if theme.landscape else 0.66)
