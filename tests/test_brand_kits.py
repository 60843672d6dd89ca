"""Brand kits: CRUD and validation, hostile logos and fonts refused with nothing stored,
and a kit's copy stored with each generation."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlmodel import select

from adremix.db import session_scope
from adremix.models import Generation, StoredImage
from adremix.services import brand
from adremix.services import generation as generations
from adremix.services.accounts import delete_account, export_archive
from adremix.services.brand import InvalidBrandAsset, InvalidKit, KitInput
from adremix.services.generation import (
    InvalidRequest,
    OfflineEngine,
    OpenAIImageProvider,
    RemixOptions,
)
from adremix.services.generation.jobs import local_font
from adremix.services.storage import LocalStorage
from tests.factories import funded_user, jpeg, make_user
from tests.fakes.openai_images import API_KEY, EDIT_PAINT, FakeOpenAIImages

FONT_DIR = Path(__file__).resolve().parents[1] / "assets" / "fonts"
MAGENTA = (230, 0, 200)


def logo_png(size: tuple[int, int] = (300, 120), fmt: str = "PNG") -> bytes:
    """A transparent logo: a magenta rounded bar with a white dot."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, size[0] - 4, size[1] - 4), radius=20, fill=(*MAGENTA, 255))
    draw.ellipse((20, 20, 80, 80), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def stored_files(storage: LocalStorage) -> list[Path]:
    return [p for p in Path(storage.root).rglob("*") if p.is_file()]


def claims(user_id: int) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(StoredImage.kind).where(StoredImage.user_id == user_id)))


def test_a_kit_is_created_listed_edited_made_default_and_deleted(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = make_user()
    logo = brand.ingest_logo(user_id=user_id, data=logo_png(), storage=storage)
    assert logo.transparent and logo.width <= 300
    first = brand.save_kit(
        user_id=user_id,
        data=KitInput(
            name="  Chai   Co ",
            colors={"primary": "#E63", "text": "ffffff", "background": ""},
            font="inter",
            logo_sha256=logo.sha256,
            tone="Warm, witty, never pushy",
            avoid_words="cheap, guaranteed\nCheap, free",
        ),
    )
    assert first.name == "Chai Co" and first.is_default  # the first kit is the default
    assert first.colors == {"primary": "#ee6633", "text": "#ffffff"}
    assert first.avoid_words == ["cheap", "guaranteed", "free"]
    second = brand.save_kit(user_id=user_id, data=KitInput(name="Festive", font="noto_sans"))
    assert not second.is_default
    brand.set_default_kit(user_id=user_id, kit_id=second.id)
    assert [k.name for k in brand.list_kits(user_id=user_id)] == ["Festive", "Chai Co"]
    edited = brand.save_kit(
        user_id=user_id, kit_id=first.id, data=KitInput(name="Chai Co", tone="Calm")
    )
    assert edited.tone == "Calm" and edited.logo_sha256 == ""
    brand.delete_kit(user_id=user_id, kit_id=second.id)
    kits = brand.list_kits(user_id=user_id)
    assert [(k.name, k.is_default) for k in kits] == [("Chai Co", True)]  # default moves on


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (KitInput(name=""), "name"),
        (KitInput(name="x" * 81), "80"),
        (KitInput(name="K", colors={"primary": "orange"}), "hex"),
        (KitInput(name="K", colors={"shadow": "#000"}), "role"),
        (KitInput(name="K", font="comic_sans"), "fonts"),
        (KitInput(name="K", font="upload"), "font file"),
        (KitInput(name="K", logo_sha256="a" * 64), "logo"),
        (KitInput(name="K", tone="t" * 301), "300"),
        (KitInput(name="K", avoid_words=",".join(f"w{i}" for i in range(31))), "30"),
    ],
)
def test_invalid_kits_are_refused_with_a_reason(
    database_url: str, data: KitInput, message: str
) -> None:
    user_id = make_user()
    with pytest.raises(InvalidKit, match=message):
        brand.save_kit(user_id=user_id, data=data)
    assert brand.list_kits(user_id=user_id) == []


def test_kit_names_are_unique_per_user_and_kits_are_private(database_url: str) -> None:
    owner, other = make_user("a@example.com"), make_user("b@example.com")
    kit = brand.save_kit(user_id=owner, data=KitInput(name="Main"))
    with pytest.raises(InvalidKit, match="already"):
        brand.save_kit(user_id=owner, data=KitInput(name="Main"))
    brand.save_kit(user_id=other, data=KitInput(name="Main"))  # another user's is fine
    for action in (
        lambda: brand.delete_kit(user_id=other, kit_id=kit.id),
        lambda: brand.save_kit(user_id=other, kit_id=kit.id, data=KitInput(name="Mine")),
        lambda: brand.set_default_kit(user_id=other, kit_id=kit.id),
    ):
        with pytest.raises(InvalidKit, match="no longer exists"):
            action()
    # Someone else's logo cannot be put in your kit, even knowing its hash.
    logo = brand.ingest_logo(user_id=owner, data=logo_png())
    with pytest.raises(InvalidKit, match="logo"):
        brand.save_kit(user_id=other, data=KitInput(name="Theirs", logo_sha256=logo.sha256))


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SVG, "SVG"),
        (b"  <svg onload='alert(1)'></svg>", "SVG"),
        (jpeg(), "PNG or WebP"),
        (b"", "empty"),
        (logo_png()[:200], "damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024), "5 MB"),
        (logo_png((8, 8)), "too small"),
    ],
    ids=["svg-xml", "svg-bare", "jpeg", "empty", "truncated", "too-big", "tiny"],
)
def test_hostile_or_unsuitable_logos_are_refused_and_nothing_is_stored(
    database_url: str, storage: LocalStorage, data: bytes, message: str
) -> None:
    user_id = make_user()
    with pytest.raises(InvalidBrandAsset, match=message):
        brand.ingest_logo(user_id=user_id, data=data, storage=storage)
    assert stored_files(storage) == [] and claims(user_id) == []


def test_a_webp_logo_is_accepted_and_trimmed_to_its_visible_pixels(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = make_user()
    padded = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(padded).rectangle((100, 150, 299, 249), fill=(*MAGENTA, 255))
    buffer = io.BytesIO()
    padded.save(buffer, format="WEBP", lossless=True)
    upload = brand.ingest_logo(user_id=user_id, data=buffer.getvalue(), storage=storage)
    assert (upload.width, upload.height) == (200, 100)
    assert storage.read("logo", upload.sha256).startswith(b"\x89PNG")


def test_a_bundled_font_passes_the_sanitiser_and_its_output_is_what_is_stored(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = make_user()
    original = (FONT_DIR / "DejaVuSans.ttf").read_bytes()
    upload = brand.ingest_font(user_id=user_id, data=original, storage=storage)
    assert upload.family == "DejaVu Sans"
    kept = storage.read("font", upload.sha256)
    assert kept[:4] == b"\x00\x01\x00\x00"
    kit = brand.save_kit(
        user_id=user_id,
        data=KitInput(name="Own font", font="upload", font_sha256=upload.sha256, font_name="x"),
    )
    assert kit.font_label == "x"


def malformed_font() -> bytes:
    """A real font whose table directory points past the end of the file."""
    data = bytearray((FONT_DIR / "DejaVuSans.ttf").read_bytes()[:4096])
    data[12 + 8 : 12 + 12] = (10_000_000).to_bytes(4, "big")  # first table's offset
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (malformed_font(), "safety check"),
        (b"\x00\x01\x00\x00" + b"\xff" * 500, "safety check"),
        (b"ttcf" + b"\x00" * 100, "collections"),
        (b"wOF2" + b"\x00" * 100, "TrueType"),
        (SVG, "TrueType"),
        (b"\x00\x01\x00\x00" + b"\x00" * (2 * 1024 * 1024), "2 MB"),
        (b"", "empty"),
    ],
    ids=["bad-offsets", "garbage", "collection", "woff2", "svg", "too-big", "empty"],
)
def test_malformed_fonts_are_refused_and_nothing_is_stored(
    database_url: str, storage: LocalStorage, data: bytes, message: str
) -> None:
    user_id = make_user()
    with pytest.raises(InvalidBrandAsset, match=message):
        brand.ingest_font(user_id=user_id, data=data, storage=storage)
    assert stored_files(storage) == [] and claims(user_id) == []


def test_each_generation_keeps_a_copy_of_its_kit_and_the_logo_reaches_the_image(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    logo = brand.ingest_logo(user_id=user_id, data=logo_png(), storage=storage)
    kit = brand.save_kit(
        user_id=user_id,
        data=KitInput(
            name="Chai Co",
            colors={"primary": "#1a73e8", "text": "#ffcc00"},
            logo_sha256=logo.sha256,
            tone="Warm",
        ),
    )
    upload = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    started = generations.start_generation(
        user_id=user_id,
        client_request_id="kit-1",
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="Festive", headline="Chai time", brand_kit_id=kit.id),
        provider="offline",
        model="offline-v1",
    )
    result = asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=OfflineEngine(), storage=storage
        )
    )
    assert result.status == "succeeded"
    # Editing the kit afterwards does not rewrite what the generation used.
    brand.save_kit(user_id=user_id, kit_id=kit.id, data=KitInput(name="Chai Co", tone="Loud"))
    with session_scope() as session:
        row = session.get(Generation, started.generation_id)
        assert row is not None and row.brand_kit_id == kit.id
        snapshot = row.options["brand"]
    assert snapshot["tone"] == "Warm" and snapshot["logo_sha256"] == logo.sha256
    assert snapshot["colors"] == {"primary": "#1a73e8", "text": "#ffcc00"}
    image = Image.open(io.BytesIO(storage.read("result", result.delivered[0]))).convert("RGB")
    magenta = sum(
        1 for r, g, b in image.getdata() if abs(r - 230) < 12 and g < 20 and abs(b - 200) < 12
    )
    assert magenta > 1500  # the logo is there, at a visible size


def test_someone_elses_kit_cannot_be_used(database_url: str, storage: LocalStorage) -> None:
    owner, other = funded_user(2, "a@example.com"), funded_user(2, "b@example.com")
    kit = brand.save_kit(user_id=owner, data=KitInput(name="Secret"))
    upload = generations.ingest_source(user_id=other, data=jpeg(), storage=storage)
    with pytest.raises(InvalidRequest, match="brand kit"):
        generations.start_generation(
            user_id=other,
            client_request_id="steal",
            source_sha256=upload.sha256,
            options=RemixOptions(instructions="x", brand_kit_id=kit.id),
        )


def test_through_the_job_openai_gets_the_kit_logo_and_an_edit_gets_its_mask(
    database_url: str, storage: LocalStorage, openai_images: FakeOpenAIImages
) -> None:
    user_id = funded_user(5)
    logo = brand.ingest_logo(user_id=user_id, data=logo_png(), storage=storage)
    kit = brand.save_kit(
        user_id=user_id, data=KitInput(name="K", logo_sha256=logo.sha256, tone="Calm")
    )

    def fake_openai() -> OpenAIImageProvider:  # one per event loop (each asyncio.run)
        return OpenAIImageProvider(
            api_key=API_KEY, base_url=openai_images.base_url, model="gpt-image-1", max_retries=0
        )

    provider = fake_openai()
    upload = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    started = generations.start_generation(
        user_id=user_id,
        client_request_id="openai-kit",
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="Festive", brand_kit_id=kit.id),
        provider=provider.name,
        model=provider.model,
    )
    result = asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=provider, storage=storage
        )
    )
    assert result.status == "succeeded"
    [remix_request] = openai_images.requests
    assert remix_request["image_sizes"][1] == (logo.width, logo.height)
    assert remix_request["fields"]["input_fidelity"] == "high"
    assert "Tone of voice: Calm" in remix_request["fields"]["prompt"]

    paths = [{"paths": [{"x": 10, "y": 10}, {"x": 60, "y": 10}], "strokeWidth": 20}]
    edit = generations.start_region_edit(
        user_id=user_id,
        client_request_id="openai-edit",
        parent_id=started.generation_id,
        result_sha256=result.delivered[0],
        paths=paths,
        canvas=(512, 512),
        instructions="Make it gold",
        storage=storage,
    )
    edited = asyncio.run(
        generations.run_generation(
            generation_id=edit.generation_id, provider=fake_openai(), storage=storage
        )
    )
    assert edited.status == "succeeded"
    edit_request = openai_images.requests[-1]
    assert len(edit_request["image_sizes"]) == 1 and edit_request["mask"].mode == "RGBA"
    out = Image.open(io.BytesIO(storage.read("result", edited.delivered[0]))).convert("RGB")
    assert out.getpixel((70, 20)) == EDIT_PAINT  # inside the painted stroke
    assert out.getpixel((600, 600)) != EDIT_PAINT


def test_an_uploaded_font_is_used_by_the_offline_job(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(3)
    font = brand.ingest_font(
        user_id=user_id, data=(FONT_DIR / "DejaVuSans.ttf").read_bytes(), storage=storage
    )
    kit = brand.save_kit(
        user_id=user_id,
        data=KitInput(name="F", font="upload", font_sha256=font.sha256, font_name=font.family),
    )
    upload = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    started = generations.start_generation(
        user_id=user_id,
        client_request_id="font",
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="x", headline="Own font", brand_kit_id=kit.id),
        provider="offline",
        model="offline-v1",
    )
    result = asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=OfflineEngine(), storage=storage
        )
    )
    assert result.status == "succeeded"
    assert local_font(storage, font.sha256).read_bytes() == storage.read("font", font.sha256)


def test_the_data_export_has_the_kits_and_deleting_the_account_removes_them(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = make_user("kit@example.com")
    logo = brand.ingest_logo(user_id=user_id, data=logo_png(), storage=storage)
    font = brand.ingest_font(
        user_id=user_id, data=(FONT_DIR / "DejaVuSans.ttf").read_bytes(), storage=storage
    )
    brand.save_kit(
        user_id=user_id,
        data=KitInput(
            name="Mine",
            logo_sha256=logo.sha256,
            font="upload",
            font_sha256=font.sha256,
            font_name=font.family,
            avoid_words="cheap",
        ),
    )
    with zipfile.ZipFile(io.BytesIO(export_archive(user_id=user_id, storage=storage))) as zipped:
        names = zipped.namelist()
        document = json.loads(zipped.read("adremix-data.json"))
    [kit] = document["brand_kits"]
    assert (kit["name"], kit["font"], kit["avoid_words"]) == ("Mine", "DejaVu Sans", ["cheap"])
    assert f"images/logo/{logo.sha256}.png" in names
    assert f"images/font/{font.sha256}.ttf" in names

    delete_account(user_id=user_id, confirm_email="kit@example.com", storage=storage)
    assert brand.list_kits(user_id=user_id) == []
    assert not storage.exists("logo", logo.sha256) and not storage.exists("font", font.sha256)
