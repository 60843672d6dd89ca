"""Decoded images stay within a memory budget, and conversions are made once."""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from starlette.testclient import TestClient

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import User
from adremix.services import generation
from adremix.services.accounts import SESSION_COOKIE, start_session
from adremix.services.generation.decode_budget import DecodeBudget, decode_budget
from adremix.services.generation.images import ImageHeader
from adremix.services.storage import LocalStorage
from adremix.settings import get_settings
from tests.conftest import app_client
from tests.factories import jpeg, make_user

MB = 1024 * 1024


def signed_in_client(email: str) -> tuple[int, TestClient]:
    with session_scope() as session:
        user = User(email=email, name="Owner")
        session.add(user)
        session.flush()
        assert user.id is not None
        user_id, token = user.id, start_session(session=session, user=user, days=1)
    client = app_client(get_settings())
    client.cookies.set(SESSION_COOKIE, token)
    return user_id, client


def test_concurrent_decodes_never_hold_more_than_the_budget() -> None:
    budget = DecodeBudget(100)
    held = 0
    peak = 0
    lock = threading.Lock()

    def decode(size: int) -> None:
        nonlocal held, peak
        with budget.hold(size):
            with lock:
                held += min(size, 100)
                peak = max(peak, held)
            time.sleep(0.02)
            with lock:
                held -= min(size, 100)

    sizes = [40, 70, 30, 500, 10, 60, 90, 20] * 3
    with ThreadPoolExecutor(max_workers=len(sizes)) as pool:
        list(pool.map(decode, sizes))
    assert 0 < peak <= 100  # the 500 ran alone, as a whole budget


def test_a_big_decode_is_not_starved_by_a_stream_of_small_ones() -> None:
    budget = DecodeBudget(100)
    order: list[str] = []
    release_first = threading.Event()

    def decode(name: str, size: int, until: threading.Event | None = None) -> None:
        with budget.hold(size):
            order.append(name)
            if until is not None:
                until.wait(timeout=5)

    first = threading.Thread(target=decode, args=("first", 60, release_first))
    first.start()
    time.sleep(0.05)
    big = threading.Thread(target=decode, args=("big", 100))
    big.start()
    time.sleep(0.05)
    small = threading.Thread(target=decode, args=("small", 10))
    small.start()
    time.sleep(0.05)
    assert order == ["first"]  # the small one would fit, but waits its turn behind the big one
    release_first.set()
    for thread in (first, big, small):
        thread.join(timeout=5)
    assert order == ["first", "big", "small"]


def test_a_format_conversion_is_decoded_once_then_served_from_disk(
    storage: LocalStorage,
) -> None:
    user_id, client = signed_in_client("owner@example.com")
    upload = generation.ingest_source(user_id=user_id, data=jpeg(size=(900, 700)), storage=storage)
    url = f"/files/source/{upload.sha256}?format=png&download=1"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.headers["content-disposition"].endswith('.png"')
    assert Image.open(io.BytesIO(first.content)).size == (900, 700)
    assert storage.read(ImageKind.SOURCE, upload.sha256, "png") == first.content  # kept
    assert client.get(url).content == first.content
    # As stored, no conversion at all.
    as_stored = client.get(f"/files/source/{upload.sha256}")
    assert as_stored.headers["content-type"] == "image/jpeg"


def test_a_conversion_that_would_not_fit_the_memory_budget_is_refused(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, client = signed_in_client("owner@example.com")
    upload = generation.ingest_source(
        user_id=user_id, data=jpeg(size=(4000, 3000)), storage=storage
    )
    monkeypatch.setenv("ADREMIX_IMAGE_MEMORY_MB", "64")
    get_settings.cache_clear()
    # 12 MP: 48 MB decoded, and WebP's encoder needs about 70 MB more.
    webp = client.get(f"/files/source/{upload.sha256}?format=webp")
    assert webp.status_code == 422
    assert webp.text == (
        "This image is too large to convert to WEBP. "
        "Download it as it is stored, or in another format."
    )
    assert client.get(f"/files/source/{upload.sha256}?format=png").status_code == 200
    assert client.get(f"/files/source/{upload.sha256}").status_code == 200


def test_an_upload_that_would_not_fit_the_memory_budget_is_refused_before_decoding(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREMIX_IMAGE_MEMORY_MB", "64")
    get_settings.cache_clear()
    exif = Image.Exif()
    exif[0x0112] = 6  # a quarter turn: the CMYK pixels twice, then an RGB copy
    buffer = io.BytesIO()
    Image.new("CMYK", (4000, 3000)).save(buffer, format="JPEG", exif=exif.tobytes())
    with pytest.raises(generation.InvalidImage, match="4000x3000 and too large to process"):
        generation.ingest_source(user_id=make_user(), data=buffer.getvalue())


def test_the_largest_rgb_upload_fits_the_default_budget_and_a_cmyk_one_does_not(
    database_url: str,
) -> None:
    limit = decode_budget().limit_bytes  # ADREMIX_IMAGE_MEMORY_MB's default, 256
    rgb = ImageHeader(format="PNG", size=(10_000, 5_000), mode="RGB", orientation=1, animated=False)
    assert rgb.decode_bytes(None, working_bytes=rgb.pixels) <= limit  # as ingest asks
    assert dataclasses.replace(rgb, mode="P").decode_bytes(None, rgb.pixels) <= limit
    assert dataclasses.replace(rgb, mode="CMYK").decode_bytes(None) > limit
    # A sideways 50 MP JPEG is never decoded at full size: drafted to the provider's size.
    sideways = dataclasses.replace(rgb, format="JPEG", orientation=6)
    assert sideways.decode_bytes(sideways.draft_size(1536)) < 32 * 1024 * 1024


def test_an_18_megapixel_photo_is_taken_in_without_decoding_it_at_full_size(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREMIX_IMAGE_MEMORY_MB", "64")
    get_settings.cache_clear()
    # At full size its pixels alone would take 5200 x 3500 x 4 bytes = 69 MB, more than
    # the whole budget: only a JPEG decoded at a reduced scale (draft) gets through.
    width, height = 5200, 3500
    assert width * height * 4 > 64 * MB
    upload = generation.ingest_source(user_id=make_user(), data=jpeg(size=(width, height)))
    assert (upload.width, upload.height) == (width, height)
    prepared = Image.open(io.BytesIO(storage.read(ImageKind.PREPARED, upload.sha256)))
    assert prepared.size == (1536, 1034)


@pytest.mark.parametrize("work", ["upload", "conversion"])
def test_a_decode_waits_while_the_budget_is_spent(work: str, storage: LocalStorage) -> None:
    user_id = make_user()
    stored = generation.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    png = io.BytesIO()
    Image.new("RGB", (900, 700), "navy").save(png, format="PNG")
    decodes = {
        "upload": lambda: generation.ingest_source(user_id=user_id, data=png.getvalue()),
        "conversion": lambda: generation.owned_image_file(
            user_id=user_id, kind=ImageKind.SOURCE, sha256=stored.sha256, fmt="webp"
        ),
    }
    finished = threading.Event()

    def decode() -> None:
        decodes[work]()
        finished.set()

    budget = decode_budget()
    thread = threading.Thread(target=decode)
    with budget.hold(budget.limit_bytes):  # other requests' pixels fill the budget
        thread.start()
        assert not finished.wait(timeout=1)
    assert finished.wait(timeout=30), "the decode went ahead once there was room"
    thread.join()
