"""Two users: neither can see, filter into, favourite, delete, export or download the
other's data, by id or by URL."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import Generation, User
from adremix.services import generation as generations
from adremix.services import ledger, library
from adremix.services.account import export_archive
from adremix.services.auth_sessions import SESSION_COOKIE, start_session
from adremix.services.history import HistoryFilter, query_history
from adremix.services.offline_engine import OfflineEngine
from adremix.services.storage import LocalStorage
from adremix.services.templates import RemixOptions
from adremix.settings import get_settings
from tests.conftest import use_database


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), color).save(buffer, format="PNG")
    return buffer.getvalue()


class Person:
    def __init__(self, email: str, color: tuple[int, int, int], storage: LocalStorage) -> None:
        with session_scope() as session:
            user = User(email=email, name=email.split("@")[0])
            session.add(user)
            session.flush()
            assert user.id is not None
            self.id = user.id
            ledger.grant(
                session=session,
                user_id=user.id,
                amount=5,
                kind="purchase",
                idempotency_key=f"fund:{email}",
            )
            self.token = start_session(session=session, user=user, days=1)
        upload = generations.ingest_source(user_id=self.id, data=png(color), storage=storage)
        self.source = upload.sha256
        started = generations.start_generation(
            user_id=self.id,
            client_request_id="r1",
            source_sha256=upload.sha256,
            options=RemixOptions(instructions=f"secret plan of {email}"),
            provider="offline",
            model="offline-v1",
        )
        result = asyncio.run(
            generations.run_generation(
                generation_id=started.generation_id, provider=OfflineEngine(), storage=storage
            )
        )
        self.generation_id = started.generation_id
        self.result = result.delivered[0]
        with session_scope() as session:
            self.collection_id = (
                library.create_collection(session=session, user_id=self.id, name="Mine").id or 0
            )


@pytest.fixture
def two_people(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Person, Person, LocalStorage]:
    storage_dir = tmp_path / "files"
    use_database(monkeypatch, database_url, ADREMIX_STORAGE_DIR=str(storage_dir))
    storage = LocalStorage(storage_dir)
    # Different images, so neither result is shared by content hash.
    alice = Person("alice@example.com", (10, 120, 200), storage)
    bob = Person("bob@example.com", (220, 90, 30), storage)
    return alice, bob, storage


def client_for(person: Person | None) -> TestClient:
    client = TestClient(build_api_app(get_settings()), follow_redirects=False)
    if person is not None:
        client.cookies.set(SESSION_COOKIE, person.token)
    return client


def test_files_are_served_to_their_owner_only(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, bob, _ = two_people
    urls = [
        f"/files/result/{alice.result}",
        f"/files/result/{alice.result}?format=jpeg&download=1",
        f"/files/source/{alice.source}",
        f"/files/thumb/{alice.result}.webp",
        f"/files/result/{alice.result}/placements.zip",
        f"/files/result/{alice.result}/placement/story-1080x1920.jpg",
    ]
    for url in urls:
        assert client_for(alice).get(url).status_code == 200, url
        assert client_for(bob).get(url).status_code == 404, url
        assert client_for(None).get(url).status_code == 404, url


def test_placement_exports_have_the_standard_sizes(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, _, _ = two_people
    archive = client_for(alice).get(f"/files/result/{alice.result}/placements.zip")
    sizes = {}
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        for name in zipped.namelist():
            sizes[name.rsplit("-", 1)[-1]] = Image.open(io.BytesIO(zipped.read(name))).size
    assert sizes == {
        "1080x1080.jpg": (1080, 1080),
        "1080x1350.jpg": (1080, 1350),
        "1080x1920.jpg": (1080, 1920),
        "1200x628.jpg": (1200, 628),
    }


def test_history_and_library_actions_never_reach_the_other_user(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, bob, storage = two_people
    with session_scope() as session:
        page = query_history(
            session=session,
            user_id=bob.id,
            filters=HistoryFilter(collection_id=alice.collection_id),
        )
        assert page.items == []
        mine = query_history(session=session, user_id=bob.id, filters=HistoryFilter(search="alice"))
        assert mine.items == []
        assert (
            library.set_favourite(
                session=session, user_id=bob.id, generation_ids=[alice.generation_id], value=True
            )
            == 0
        )
        assert (
            library.delete_generations(
                session=session,
                user_id=bob.id,
                generation_ids=[alice.generation_id],
                storage=storage,
            )
            == 0
        )
        with pytest.raises(library.LibraryError):
            library.add_to_collection(
                session=session,
                user_id=bob.id,
                collection_id=alice.collection_id,
                generation_ids=[bob.generation_id],
            )
        assert (
            library.add_to_collection(
                session=session,
                user_id=bob.id,
                collection_id=bob.collection_id,
                generation_ids=[alice.generation_id],
            )
            == 0
        )
        alices = session.get(Generation, alice.generation_id)
        assert alices is not None and not alices.is_favourite and alices.deleted_at is None
    assert generations.generation_for(user_id=bob.id, generation_id=alice.generation_id) is None


def test_export_contains_only_the_exporters_data(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, bob, storage = two_people
    response = client_for(bob).get("/api/account/export.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        names = zipped.namelist()
        document = json.loads(zipped.read("adremix-data.json"))
    assert any(bob.result in name for name in names)
    assert not any(alice.result in name or alice.source in name for name in names)
    assert "alice" not in json.dumps(document)
    assert client_for(None).get("/api/account/export.zip").status_code == 404
    with session_scope() as session:
        direct = export_archive(session=session, user_id=alice.id, storage=storage)
    assert bob.result.encode() not in direct


def test_deleting_a_generation_removes_its_images_but_keeps_the_ledger(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, _, storage = two_people
    with session_scope() as session:
        assert (
            library.delete_generations(
                session=session,
                user_id=alice.id,
                generation_ids=[alice.generation_id],
                storage=storage,
            )
            == 1
        )
    assert not storage.exists("result", alice.result)
    assert client_for(alice).get(f"/files/result/{alice.result}").status_code == 404
    with session_scope() as session:
        kinds = [e.kind for e in ledger.list_entries(session=session, user_id=alice.id, limit=10)]
        assert "generation" in kinds
        assert ledger.find_mismatches(session=session) == []
