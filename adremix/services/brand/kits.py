"""Brand kits: create, edit, list, delete, and which one New Ad preselects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import BrandKit, utcnow
from adremix.services.errors import UserFacingError
from adremix.services.generation import BUNDLED_FONTS, COLOUR_ROLES, holds_claim, parse_hex, to_hex

MAX_KITS = 20
MAX_NAME = 80
MAX_TONE = 300
MAX_AVOID_WORDS = 30
MAX_AVOID_WORD = 40
UPLOADED_FONT = "upload"


class InvalidKit(UserFacingError):
    """A kit the user must fix before it can be saved."""


@dataclass(frozen=True)
class KitInput:
    """What the Brand page's form sends (hashes of uploads made before saving)."""

    name: str
    colors: dict[str, str] = field(default_factory=dict)
    font: str = "inter"
    font_sha256: str = ""
    font_name: str = ""
    logo_sha256: str = ""
    tone: str = ""
    avoid_words: str = ""  # comma or line separated
    is_default: bool = False


@dataclass(frozen=True)
class KitView:
    id: int
    name: str
    is_default: bool
    logo_sha256: str
    colors: dict[str, str]
    font: str
    font_label: str
    font_sha256: str
    tone: str
    avoid_words: list[str]


def split_words(text: str) -> list[str]:
    """Words to avoid from free text: comma or line separated, trimmed, no repeats."""
    words: list[str] = []
    for word in re.split(r"[,\n]", text):
        word = " ".join(word.split())
        if word and word.lower() not in (w.lower() for w in words):
            words.append(word)
    return words


def _validated(user_id: int, data: KitInput, session: Session) -> KitInput:
    name = " ".join(data.name.split())
    if not name:
        raise InvalidKit("Give the kit a name.")
    if len(name) > MAX_NAME:
        raise InvalidKit(f"Kit names are limited to {MAX_NAME} characters.")
    colors: dict[str, str] = {}
    for role, value in data.colors.items():
        if role not in COLOUR_ROLES:
            raise InvalidKit(f"Unknown colour role {role!r}.")
        if not value.strip():
            continue
        parsed = parse_hex(value)
        if parsed is None:
            raise InvalidKit(f"The {role} colour must be a hex colour such as #1a73e8.")
        colors[role] = to_hex(parsed)
    if data.font == UPLOADED_FONT:
        if not data.font_sha256 or not holds_claim(
            session, user_id=user_id, sha256=data.font_sha256, kind=ImageKind.FONT
        ):
            raise InvalidKit("Upload the font file first.")
    elif data.font not in BUNDLED_FONTS:
        raise InvalidKit("Choose one of the offered fonts, or upload a TTF/OTF.")
    if data.logo_sha256 and not holds_claim(
        session, user_id=user_id, sha256=data.logo_sha256, kind=ImageKind.LOGO
    ):
        raise InvalidKit("Upload the logo again.")
    tone = " ".join(data.tone.split())
    if len(tone) > MAX_TONE:
        raise InvalidKit(f"Tone of voice is limited to {MAX_TONE} characters.")
    words = split_words(data.avoid_words)
    if len(words) > MAX_AVOID_WORDS:
        raise InvalidKit(f"At most {MAX_AVOID_WORDS} words to avoid.")
    if any(len(word) > MAX_AVOID_WORD for word in words):
        raise InvalidKit(f"Each word to avoid is limited to {MAX_AVOID_WORD} characters.")
    uploaded = data.font == UPLOADED_FONT
    return KitInput(
        name=name,
        colors=colors,
        font=data.font,
        font_sha256=data.font_sha256 if uploaded else "",
        font_name=data.font_name[:120] if uploaded else "",
        logo_sha256=data.logo_sha256,
        tone=tone,
        avoid_words=", ".join(words),
        is_default=data.is_default,
    )


def _view(kit: BrandKit) -> KitView:
    assert kit.id is not None
    label = kit.font_name if kit.font == UPLOADED_FONT else BUNDLED_FONTS[kit.font][0]
    return KitView(
        id=kit.id,
        name=kit.name,
        is_default=kit.is_default,
        logo_sha256=kit.logo_sha256,
        colors=dict(kit.colors),
        font=kit.font,
        font_label=label or "Uploaded font",
        font_sha256=kit.font_sha256,
        tone=kit.tone,
        avoid_words=list(kit.avoid_words),
    )


def _own(session: Session, user_id: int, kit_id: int) -> BrandKit:
    kit = session.get(BrandKit, kit_id)
    if kit is None or kit.user_id != user_id:
        raise InvalidKit("That brand kit no longer exists.")
    return kit


def _make_default(session: Session, user_id: int, kit_id: int) -> None:
    session.execute(
        update(BrandKit)
        .where(BrandKit.user_id == user_id)
        .values(is_default=BrandKit.id == kit_id)
        .execution_options(synchronize_session=False)
    )


def list_kits(*, user_id: int) -> list[KitView]:
    """The user's kits, the default first, then by name."""
    with session_scope() as session:
        kits = session.exec(select(BrandKit).where(BrandKit.user_id == user_id)).all()
        return [_view(k) for k in sorted(kits, key=lambda k: (not k.is_default, k.name.lower()))]


def save_kit(*, user_id: int, data: KitInput, kit_id: int = 0) -> KitView:
    """Create (kit_id 0) or update a kit; the user's first kit becomes the default."""
    with session_scope() as session:
        clean = _validated(user_id, data, session)
        clash = session.exec(
            select(BrandKit.id).where(BrandKit.user_id == user_id, BrandKit.name == clean.name)
        ).first()
        if clash is not None and clash != kit_id:
            raise InvalidKit(f"You already have a kit called {clean.name!r}.")
        if kit_id:
            kit = _own(session, user_id, kit_id)
        else:
            count = len(session.exec(select(BrandKit.id).where(BrandKit.user_id == user_id)).all())
            if count >= MAX_KITS:
                raise InvalidKit(f"You can keep up to {MAX_KITS} brand kits.")
            kit = BrandKit(user_id=user_id, name=clean.name, is_default=count == 0)
        kit.name = clean.name
        kit.colors = clean.colors
        kit.font = clean.font
        kit.font_sha256 = clean.font_sha256
        kit.font_name = clean.font_name
        kit.logo_sha256 = clean.logo_sha256
        kit.tone = clean.tone
        kit.avoid_words = split_words(clean.avoid_words)
        kit.updated_at = utcnow()
        session.add(kit)
        session.flush()
        assert kit.id is not None
        if clean.is_default:
            _make_default(session, user_id, kit.id)
        session.refresh(kit)
        return _view(kit)


def set_default_kit(*, user_id: int, kit_id: int) -> None:
    with session_scope() as session:
        _own(session, user_id, kit_id)
        _make_default(session, user_id, kit_id)


def delete_kit(*, user_id: int, kit_id: int) -> None:
    """Delete a kit. Generations made with it keep their copy of it; its logo and font
    stay with the account's files (a generation being edited may still use them)."""
    with session_scope() as session:
        kit = _own(session, user_id, kit_id)
        was_default = kit.is_default
        session.delete(kit)
        session.flush()
        if was_default:
            other = session.exec(
                select(BrandKit.id).where(BrandKit.user_id == user_id).order_by(BrandKit.name)
            ).first()
            if other is not None:
                _make_default(session, user_id, other)
