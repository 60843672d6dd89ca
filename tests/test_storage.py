"""File storage: the local directory and S3 (moto's server, real S3 HTTP) keep one contract,
and the app runs on either."""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import BinaryIO

import pytest
from starlette.testclient import TestClient

from adremix.services import generation as generations
from adremix.services.generation import OfflineEngine, RemixOptions
from adremix.services.storage import LocalStorage, S3Storage, Storage, default_storage
from adremix.settings import get_settings
from tests.conftest import app_client
from tests.factories import balance, funded_user, jpeg
from tests.test_google_sign_in import dev_sign_in


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["local", "s3"])
def any_storage(request: pytest.FixtureRequest, database_url: str) -> Storage:
    if request.param == "s3":
        request.getfixturevalue("s3_bucket")
    return default_storage()


def test_both_backends_keep_the_same_contract(any_storage: Storage) -> None:
    data = b"\\x89PNG fake bytes"
    key = sha(data)
    assert not any_storage.exists("result", key)
    with pytest.raises(FileNotFoundError):
        any_storage.read("result", key)
    any_storage.put("result", key, data)
    any_storage.put("result", key, data)  # content-addressed: writing again is harmless
    assert any_storage.exists("result", key)
    assert any_storage.read("result", key) == data
    assert not any_storage.exists("thumb", key)  # kinds are separate names
    any_storage.delete("result", key)
    any_storage.delete("result", key)  # already gone: fine
    assert not any_storage.exists("result", key)
    any_storage.check()
    with pytest.raises(ValueError):
        any_storage.read("result", "../../etc/passwd")


def test_both_backends_make_a_derived_file_once_and_delete_it_with_its_source(
    any_storage: Storage,
) -> None:
    data = b"original bytes"
    key = sha(data)
    any_storage.put("source", key, data)
    made: list[int] = []

    def make(target: BinaryIO) -> None:
        made.append(1)
        time.sleep(0.05)  # long enough for the other requests to find it missing
        target.write(b"converted")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: any_storage.derived("source", key, "png", make), range(8)))
    assert len(made) == 1
    assert any_storage.read("source", key, "png") == b"converted"
    with closing(any_storage.open("source", key, "png")) as opened:
        assert opened.read(4) + opened.read() == b"converted"
    assert any_storage.read("source", key) == data  # the original is untouched
    with pytest.raises(ValueError):
        any_storage.derived("source", key, "../png", make)
    any_storage.delete("source", key)
    for variant in ("", "png"):
        with pytest.raises(FileNotFoundError):
            any_storage.read("source", key, variant)


def test_s3_is_used_when_a_bucket_is_configured(s3_bucket: str, database_url: str) -> None:
    storage = default_storage()
    assert isinstance(storage, S3Storage) and storage.bucket == s3_bucket


def test_a_missing_bucket_fails_the_storage_check(s3_bucket: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADREMIX_S3_BUCKET", "no-such-bucket")
    get_settings.cache_clear()
    with pytest.raises(Exception, match=r"404|Not Found|NoSuchBucket"):
        default_storage().check()


def test_a_whole_generation_runs_on_s3_and_serves_its_files(
    database_url: str, s3_bucket: str
) -> None:
    storage = default_storage()
    user_id = funded_user(2)
    upload = generations.ingest_source(user_id=user_id, data=jpeg())
    started = generations.start_generation(
        user_id=user_id,
        client_request_id="s3",
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="On object storage", variations=2),
        provider="offline",
        model="offline-v1",
    )
    result = asyncio.run(
        generations.run_generation(generation_id=started.generation_id, provider=OfflineEngine())
    )
    assert (result.status, len(result.delivered)) == ("succeeded", 2)
    assert balance(user_id) == 0
    for key in result.delivered:
        assert storage.exists("result", key) and not storage.exists("thumb", key)
    # Nothing was written to the local directory.
    assert not list(LocalStorage(get_settings().storage_dir).root.glob("**/*.png"))

    client: TestClient = app_client(get_settings())
    dev_sign_in(client, {"email": "maker@example.com"})
    image = client.get(f"/files/result/{result.delivered[0]}")
    assert image.status_code == 200 and image.content == storage.read("result", result.delivered[0])
    thumb = client.get(f"/files/thumb/{result.delivered[0]}.webp")
    assert thumb.status_code == 200 and thumb.content.startswith(b"RIFF")
    assert storage.read("thumb", result.delivered[0]) == thumb.content  # made once, kept
