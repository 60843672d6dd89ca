"""Two users: neither can see, filter into, favourite, delete, export or download the
other's data, by id or by URL."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import pytest
from PIL import Image
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.enums import CreditKind, ImageKind
from adremix.models import Generation, User
from adremix.services import credits, library
from adremix.services import generation as generations
from adremix.services.accounts import SESSION_COOKIE, export_archive, start_session
from adremix.services.generation import OfflineEngine, RemixOptions
from adremix.services.library import HistoryFilter, query_history
from adremix.services.storage import LocalStorage
from adremix.settings import get_settings


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
            credits.grant(
                session=session,
                user_id=user.id,
                amount=5,
                kind=CreditKind.PURCHASE,
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
        self.collection_id = library.create_collection(user_id=self.id, name="Mine")


@pytest.fixture
def two_people(storage: LocalStorage) -> tuple[Person, Person, LocalStorage]:
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


def test_malformed_file_addresses_are_a_plain_not_found(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, _, _ = two_people
    for url in [
        "/files/result/" + "Z" * 64,  # the right length, but not a hash
        "/files/thumb/" + "../" * 21 + "a.webp",
        f"/files/result/{alice.result[:40]}",
        f"/files/result/{alice.result}?format=gif",
        f"/files/result/{alice.result}/placement/billboard-9999x9999.jpg",
        f"/files/prepared/{alice.source}",  # stored, but never served
    ]:
        assert client_for(alice).get(url).status_code == 404, url


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
    alice, bob, _ = two_people
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
        library.set_favourite(user_id=bob.id, generation_ids=[alice.generation_id], value=True) == 0
    )
    assert library.delete_generations(user_id=bob.id, generation_ids=[alice.generation_id]) == 0
    with pytest.raises(library.LibraryError):
        library.add_to_collection(
            user_id=bob.id, collection_id=alice.collection_id, generation_ids=[bob.generation_id]
        )
    assert (
        library.add_to_collection(
            user_id=bob.id, collection_id=bob.collection_id, generation_ids=[alice.generation_id]
        )
        == 0
    )
    with pytest.raises(library.LibraryError):
        library.save_generation_as_template(
            user_id=bob.id, generation_id=alice.generation_id, name="Stolen"
        )
    with session_scope() as session:
        alices = session.get(Generation, alice.generation_id)
        assert alices is not None and not alices.is_favourite and alices.deleted_at is None


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
    direct = export_archive(user_id=alice.id, storage=storage)
    assert bob.result.encode() not in direct


def test_a_source_stays_while_another_generation_uses_it(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, _, storage = two_people
    again = generations.start_generation(
        user_id=alice.id,
        client_request_id="r2",
        source_sha256=alice.source,
        options=RemixOptions(instructions="another take"),
        provider="offline",
        model="offline-v1",
    )
    library.delete_generations(user_id=alice.id, generation_ids=[alice.generation_id])
    assert storage.exists(ImageKind.SOURCE, alice.source)
    assert client_for(alice).get(f"/files/source/{alice.source}").status_code == 200

    library.delete_generations(user_id=alice.id, generation_ids=[again.generation_id])
    assert not storage.exists(ImageKind.SOURCE, alice.source)


def test_deleting_a_generation_removes_its_images_but_keeps_the_ledger(
    two_people: tuple[Person, Person, LocalStorage],
) -> None:
    alice, _, storage = two_people
    assert library.delete_generations(user_id=alice.id, generation_ids=[alice.generation_id]) == 1
    assert not storage.exists(ImageKind.RESULT, alice.result)
    assert not storage.exists(ImageKind.THUMB, alice.result)
    # Nothing else of hers uses the source: it goes too, with its prepared copy.
    assert not storage.exists(ImageKind.SOURCE, alice.source)
    assert not storage.exists(ImageKind.PREPARED, alice.source)
    assert client_for(alice).get(f"/files/result/{alice.result}").status_code == 404
    assert client_for(alice).get(f"/files/source/{alice.source}").status_code == 404
    statement = credits.statement_page(user_id=alice.id, page=0, page_size=10)
    assert CreditKind.GENERATION in [line.kind for line in statement.lines]
    with session_scope() as session:
        assert credits.find_mismatches(session=session) == []
