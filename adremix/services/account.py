"""Account: sign-in sessions, data export and account deletion."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, select

from adremix.models import (
    AuthSession,
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
from adremix.services.auth_sessions import hash_token
from adremix.services.images import media_type_of
from adremix.services.storage import LocalStorage


class AccountError(Exception):
    """A request the user must change (message safe to show)."""


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


def live_sessions(
    *, session: Session, user_id: int, current_token: str | None
) -> list[SessionInfo]:
    current_hash = hash_token(current_token) if current_token else ""
    rows = session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
            AuthSession.expires_at > utcnow(),
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


def export_archive(*, session: Session, user_id: int, storage: LocalStorage) -> bytes:
    """A zip of the user's images plus a JSON of their generations and ledger entries."""
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
                archive.writestr(f"images/{image.kind}/{image.sha256}.{extension}", data)
    return buffer.getvalue()


def delete_account(
    *, session: Session, user_id: int, confirm_email: str, storage: LocalStorage
) -> None:
    """Delete images and personal data; keep anonymised ledger and payment rows (accounting)."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise AccountError("Unknown user.")
    if confirm_email.strip().lower() != user.email:
        raise AccountError("Type your e-mail address exactly to confirm.")
    hashes = {
        (image.kind, image.sha256)
        for image in session.exec(select(StoredImage).where(StoredImage.user_id == user_id))
    }
    session.execute(delete(StoredImage).where(StoredImage.user_id == user_id))
    session.flush()
    for kind, sha in hashes:
        if session.exec(select(StoredImage.id).where(StoredImage.sha256 == sha)).first() is None:
            storage.delete(kind, sha)
            storage.delete("thumb", sha)
            if kind == "source":
                storage.delete("prepared", sha)
    collection_ids = select(Collection.id).where(Collection.user_id == user_id)
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id.in_(collection_ids)))  # type: ignore[attr-defined]
    session.execute(delete(Collection).where(Collection.user_id == user_id))
    session.execute(delete(UserTemplate).where(UserTemplate.user_id == user_id))
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
    # The ledger and payment rows stay (accounting) but point at an anonymous user.
    user.email = f"deleted-user-{user_id}@deleted.invalid"
    user.name = "Deleted user"
    user.avatar_url = ""
    user.oidc_subject = None
    user.preferences = {}
    user.deleted_at = utcnow()
    session.add(user)
