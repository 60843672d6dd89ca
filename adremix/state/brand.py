"""Brand: the user's kits and the form that creates or edits one."""

from __future__ import annotations

import dataclasses

import reflex as rx

from adremix.blocking import call
from adremix.enums import ImageKind, LimitedAction
from adremix.services import brand
from adremix.services.generation import BUNDLED_FONTS, COLOUR_ROLES
from adremix.state.errors import error_toast
from adremix.state.limits import count_attempt
from adremix.state.session import current_user_id
from adremix.urls import file_url

LOGO_UPLOAD_ID = "logo-upload"
FONT_UPLOAD_ID = "font-upload"


@dataclasses.dataclass
class Swatch:
    role: str
    colour: str


@dataclasses.dataclass
class KitCard:
    id: int
    name: str
    is_default: bool
    logo_url: str
    swatches: list[Swatch]
    font: str
    tone: str
    avoid: str


def kit_card(kit: brand.KitView) -> KitCard:
    return KitCard(
        id=kit.id,
        name=kit.name,
        is_default=kit.is_default,
        logo_url=file_url(kit.logo_sha256, ImageKind.LOGO) if kit.logo_sha256 else "",
        swatches=[Swatch(role, kit.colors[role]) for role in COLOUR_ROLES if role in kit.colors],
        font=kit.font_label,
        tone=kit.tone,
        avoid=", ".join(kit.avoid_words),
    )


async def _read_bounded(file: rx.UploadFile, limit: int, what: str) -> bytes:
    """At most `limit` bytes of an upload: one byte more means it is too large, and the
    rest is never read into memory."""
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise brand.InvalidBrandAsset(f"The {what} is larger than {limit // (1024 * 1024)} MB.")
    return data


class BrandState(rx.State):
    kits: list[KitCard] = []
    loaded: bool = False
    # The form: 0 creates a kit, otherwise the id of the kit being edited.
    editing_id: int = 0
    name: str = ""
    primary: str = ""
    secondary: str = ""
    accent: str = ""
    text: str = ""
    background: str = ""
    font: str = "inter"
    font_sha: str = ""
    font_name: str = ""
    logo_sha: str = ""
    tone: str = ""
    avoid_words: str = ""
    make_default: bool = False
    uploading_logo: bool = False
    uploading_font: bool = False
    saving: bool = False

    @rx.var
    def logo_url(self) -> str:
        return file_url(self.logo_sha, ImageKind.LOGO) if self.logo_sha else ""

    @rx.var
    def font_options(self) -> list[list[str]]:
        """[value, label] pairs for the font select; an uploaded font while one is set."""
        options = [[key, label] for key, (label, _) in BUNDLED_FONTS.items()]
        if self.font_sha:
            options.append([brand.UPLOADED_FONT, f"{self.font_name or 'Uploaded font'} (uploaded)"])
        return options

    @rx.event
    async def load(self) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        kits = await call(brand.list_kits, user_id=user_id)
        self.kits = [kit_card(k) for k in kits]
        self.loaded = True

    @rx.event
    def new_kit(self) -> None:
        self._fill(None)

    @rx.event
    async def edit_kit(self, kit_id: int) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        kits = await call(brand.list_kits, user_id=user_id)
        self._fill(next((k for k in kits if k.id == kit_id), None))

    def _fill(self, kit: brand.KitView | None) -> None:
        self.editing_id = kit.id if kit else 0
        self.name = kit.name if kit else ""
        colours = kit.colors if kit else {}
        self.primary = colours.get("primary", "")
        self.secondary = colours.get("secondary", "")
        self.accent = colours.get("accent", "")
        self.text = colours.get("text", "")
        self.background = colours.get("background", "")
        self.font = kit.font if kit else "inter"
        self.font_sha = kit.font_sha256 if kit else ""
        self.font_name = kit.font_label if kit and kit.font == brand.UPLOADED_FONT else ""
        self.logo_sha = kit.logo_sha256 if kit else ""
        self.tone = kit.tone if kit else ""
        self.avoid_words = ", ".join(kit.avoid_words) if kit else ""
        self.make_default = kit.is_default if kit else False

    @rx.event
    def set_field(self, field: str, value: str) -> None:
        if field in ("name", "tone", "avoid_words", *COLOUR_ROLES):
            setattr(self, field, value)

    @rx.event
    def set_font(self, value: str) -> None:
        self.font = value

    @rx.event
    def set_make_default(self, value: bool) -> None:
        self.make_default = value

    @rx.event
    def remove_logo(self) -> None:
        self.logo_sha = ""

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if not files or user_id is None:
            return
        self.uploading_logo = True
        yield
        try:
            await count_attempt(self, LimitedAction.UPLOAD, user_id)
            data = await _read_bounded(files[0], brand.MAX_LOGO_BYTES, "logo")
            logo = await call(brand.ingest_logo, user_id=user_id, data=data)
        except Exception as exc:
            self.uploading_logo = False
            yield error_toast(self, exc)
            return
        self.uploading_logo = False
        self.logo_sha = logo.sha256
        if not logo.transparent:
            yield rx.toast.warning(
                "This logo has no transparent background: it will show as a rectangle."
            )

    @rx.event
    def logo_rejected(self, _rejected: list[dict]) -> rx.event.EventSpec:
        """The browser's own check refused the file (type or size); the server checks
        again whatever reaches it."""
        return rx.toast.error(
            "Logos must be PNG or WebP files up to 5 MB. SVG isn't accepted: it can carry "
            "scripts. Export your logo as a PNG with a transparent background."
        )

    @rx.event
    def font_rejected(self, _rejected: list[dict]) -> rx.event.EventSpec:
        return rx.toast.error("Fonts must be TTF or OTF files up to 2 MB.")

    @rx.event
    async def upload_font(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if not files or user_id is None:
            return
        self.uploading_font = True
        yield
        try:
            await count_attempt(self, LimitedAction.UPLOAD, user_id)
            data = await _read_bounded(files[0], brand.MAX_FONT_BYTES, "font")
            font = await call(brand.ingest_font, user_id=user_id, data=data)
        except Exception as exc:
            self.uploading_font = False
            yield error_toast(self, exc)
            return
        self.uploading_font = False
        self.font_sha, self.font_name, self.font = font.sha256, font.family, brand.UPLOADED_FONT
        yield rx.toast.success(f"{font.family} passed the font safety check.")

    @rx.event
    async def save(self):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return
        self.saving = True
        yield
        data = brand.KitInput(
            name=self.name,
            colors={role: getattr(self, role) for role in COLOUR_ROLES},
            font=self.font,
            font_sha256=self.font_sha,
            font_name=self.font_name,
            logo_sha256=self.logo_sha,
            tone=self.tone,
            avoid_words=self.avoid_words,
            is_default=self.make_default,
        )
        try:
            saved = await call(brand.save_kit, user_id=user_id, data=data, kit_id=self.editing_id)
        except Exception as exc:
            self.saving = False
            yield error_toast(self, exc)
            return
        self.saving = False
        self._fill(None)
        yield BrandState.load
        yield rx.toast.success(f"Brand kit “{saved.name}” saved.")

    @rx.event
    async def make_kit_default(self, kit_id: int):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            await call(brand.set_default_kit, user_id=user_id, kit_id=kit_id)
        except Exception as exc:
            return error_toast(self, exc)
        return BrandState.load

    @rx.event
    async def delete_kit(self, kit_id: int):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            await call(brand.delete_kit, user_id=user_id, kit_id=kit_id)
        except Exception as exc:
            return error_toast(self, exc)
        if self.editing_id == kit_id:
            self._fill(None)
        return [BrandState.load, rx.toast.success("Brand kit deleted.")]
