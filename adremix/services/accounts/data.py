"""The Account page: sessions, preferences and templates; data export; account deletion."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import (
    AdDraft,
    AuthSession,
    BillingProfile,
    BrandKit,
    Collection,
    CollectionItem,
    CreditTransaction,
    Generation,
    PaymentOrder,
    StoredImage,
    User,
    UserTemplate,
    utcnow,
)
from adremix.services.accounts.users import forget_identity, reindex_user
from adremix.services.errors import UserFacingError
from adremix.services.generation import forget_images, media_type_of
from adremix.services.library import SavedTemplate, list_templates, read_preferences
from adremix.services.storage import Storage, default_storage
from adremix.settings import get_settings


class AccountError(UserFacingError):
    """An account request the user must change."""


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


def live_sessions(
    session: Session, *, user_id: int, current_token_hash: str | None
) -> list[SessionInfo]:
    current_hash = current_token_hash or ""
    idle = timedelta(hours=get_settings().session_idle_hours)
    rows = session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
            AuthSession.expires_at > utcnow(),
            AuthSession.last_seen_at > utcnow() - idle,
        )
        .order_by(AuthSession.created_at.desc())  # type: ignore[attr-defined]
    ).all()
    return [
        SessionInfo(
            id=row.id or 0,
            created_at=row.created_at,
            expires_at=row.expires_at,
            user_agent=row.user_agent,
            current=row.token_hash == current_hash,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class AccountOverview:
    sessions: list[SessionInfo]
    saved_templates: list[SavedTemplate]
    preferences: dict[str, Any]


def account_overview(*, user_id: int, current_token_hash: str | None) -> AccountOverview:
    """What the Account page lists: live sessions, saved templates and preferences."""
    with session_scope() as session:
        return AccountOverview(
            sessions=live_sessions(session, user_id=user_id, current_token_hash=current_token_hash),
            saved_templates=list_templates(session, user_id=user_id),
            preferences=read_preferences(session, user_id=user_id),
        )


def export_archive(*, user_id: int, storage: Storage | None = None) -> bytes:
    """A zip of the user's images plus a JSON of their generations and ledger entries."""
    with session_scope() as session:
        return _archive(session, user_id, storage or default_storage())


def _archive(session: Session, user_id: int, storage: Storage) -> bytes:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("Unknown user.")
    generations = session.exec(
        select(Generation).where(Generation.user_id == user_id, Generation.deleted_at.is_(None))  # type: ignore[union-attr]
    ).all()
    entries = session.exec(
        select(CreditTransaction).where(CreditTransaction.user_id == user_id)
    ).all()
    orders = session.exec(select(PaymentOrder).where(PaymentOrder.user_id == user_id)).all()
    images = session.exec(select(StoredImage).where(StoredImage.user_id == user_id)).all()
    kits = session.exec(select(BrandKit).where(BrandKit.user_id == user_id)).all()
    document = {
        "exported_at": utcnow().isoformat(),
        "profile": {
            "email": user.email,
            "name": user.name,
            "created_at": user.created_at.isoformat(),
        },
        "preferences": user.preferences,
        "generations": [
            {
                "id": g.id,
                "created_at": g.created_at.isoformat(),
                "status": g.status,
                "instructions": g.instructions,
                "options": g.options,
                "source_image": f"images/source/{g.source_image_hash}",
                "results": [f"images/result/{sha}.png" for sha in g.output_hashes],
                "credits_spent": g.credits_spent,
                "favourite": g.is_favourite,
            }
            for g in generations
        ],
        "brand_kits": [
            {
                "name": k.name,
                "default": k.is_default,
                "logo": f"images/logo/{k.logo_sha256}.png" if k.logo_sha256 else None,
                "colors": k.colors,
                "font": k.font_name or k.font,
                "tone": k.tone,
                "avoid_words": k.avoid_words,
            }
            for k in kits
        ],
        "credit_ledger": [
            {
                "created_at": e.created_at.isoformat(),
                "kind": e.kind,
                "amount": e.amount,
                "balance_after": e.balance_after,
                "reference": e.reference,
                "reason": e.reason,
            }
            for e in entries
        ],
        "payments": [
            {
                "receipt_number": o.receipt_number,
                "status": o.status,
                "credits": o.credits,
                "amount_paise": o.amount_paise,
                "paid_at": o.paid_at.isoformat() if o.paid_at else None,
            }
            for o in orders
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("adremix-data.json", json.dumps(document, indent=2))
        for image in images:
            if storage.exists(image.kind, image.sha256):
                data = storage.read(image.kind, image.sha256)
                extension = media_type_of(data).split("/")[-1].replace("jpeg", "jpg")
                if image.kind == ImageKind.FONT:  # a brand kit's font (sanitised)
                    extension = "otf" if data[:4] == b"OTTO" else "ttf"
                archive.writestr(f"images/{image.kind}/{image.sha256}.{extension}", data)
    return buffer.getvalue()


def delete_account(*, user_id: int, confirm_email: str, storage: Storage | None = None) -> None:
    """Delete images and personal data; keep anonymised ledger and payment rows (accounting)."""
    with session_scope() as session:
        _delete_account(session, user_id, confirm_email, storage or default_storage())


def _delete_account(session: Session, user_id: int, confirm_email: str, storage: Storage) -> None:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise AccountError("Unknown user.")
    if confirm_email.strip().lower() != user.email:
        raise AccountError("Type your e-mail address exactly to confirm.")
    claims = session.exec(
        select(StoredImage.kind, StoredImage.sha256).where(StoredImage.user_id == user_id)
    ).all()
    forget_images(
        session,
        user_id=user_id,
        images=[(ImageKind(kind), sha) for kind, sha in claims],
        storage=storage,
    )
    collection_ids = select(Collection.id).where(Collection.user_id == user_id)
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id.in_(collection_ids)))  # type: ignore[attr-defined]
    session.execute(delete(Collection).where(Collection.user_id == user_id))
    session.execute(delete(UserTemplate).where(UserTemplate.user_id == user_id))
    # Tax documents already issued keep the buyer as invoiced (GST records are kept for
    # six years); the profile that would name them on new ones goes.
    session.execute(delete(BillingProfile).where(BillingProfile.user_id == user_id))
    session.execute(delete(AdDraft).where(AdDraft.user_id == user_id))  # type: ignore[arg-type]
    session.execute(delete(BrandKit).where(BrandKit.user_id == user_id))  # type: ignore[arg-type]
    session.execute(
        update(Generation)
        .where(Generation.user_id == user_id)
        .values(
            instructions="",
            options={},
            output_hashes=[],
            source_image_hash="",
            deleted_at=utcnow(),
            is_favourite=False,
        )
    )
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )
    forget_identity(session, email=user.email, subject=user.oidc_subject)
    # The ledger and payment rows stay (accounting) but point at an anonymous user.
    user.email = f"deleted-user-{user_id}@deleted.invalid"
    user.name = "Deleted user"
    user.avatar_url = ""
    user.oidc_subject = None
    user.preferences = {}
    user.deleted_at = utcnow()
    session.add(user)
    reindex_user(session, user)  # found by the anonymous address only
