"""Region edits: a painted mask makes a new generation linked to its parent, charged like
any generation; offline, only pixels inside the mask change; History's lineage."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from adremix.db import session_scope
from adremix.models import Generation
from adremix.services import generation as generations
from adremix.services import library
from adremix.services.generation import (
    InvalidRequest,
    OfflineEngine,
    RemixOptions,
    lineage,
    rasterise,
    start_region_edit,
    strokes_from,
)
from adremix.services.storage import LocalStorage
from tests.factories import balance, funded_user, make_user

# What the sketch canvas sends: one stroke across the middle-left of a 512x512 canvas.
PATHS = [
    {
        "drawMode": True,
        "strokeColor": "rgba(255,0,80,0.5)",
        "strokeWidth": 40,
        "paths": [{"x": 100, "y": 200}, {"x": 160, "y": 220}, {"x": 220, "y": 240}],
    }
]


def striped_source() -> bytes:
    """Detail everywhere, so inpainting visibly changes what it fills."""
    image = Image.new("RGB", (1024, 1024), (240, 240, 235))
    draw = ImageDraw.Draw(image)
    for x in range(0, 1024, 32):
        draw.rectangle((x, 0, x + 12, 1023), fill=(30, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def made(user_id: int, storage: LocalStorage) -> tuple[int, str]:
    """A finished offline generation: (its id, its result's hash)."""
    upload = generations.ingest_source(user_id=user_id, data=striped_source(), storage=storage)
    started = generations.start_generation(
        user_id=user_id,
        client_request_id="parent",
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="Clean it up", template="minimal"),
        provider="offline",
        model="offline-v1",
    )
    result = asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=OfflineEngine(), storage=storage
        )
    )
    return started.generation_id, result.delivered[0]


def edit(user_id: int, parent: int, sha: str, key: str, text: str, storage: LocalStorage):  # type: ignore[no-untyped-def]
    started = start_region_edit(
        user_id=user_id,
        client_request_id=key,
        parent_id=parent,
        result_sha256=sha,
        paths=PATHS,
        canvas=(512, 512),
        instructions=text,
        storage=storage,
    )
    result = asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=OfflineEngine(), storage=storage
        )
    )
    return started, result


def pixels(storage: LocalStorage, sha: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(storage.read("result", sha))).convert("RGB")).astype(
        int
    )


def test_an_offline_edit_changes_pixels_only_inside_the_mask(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    parent, sha = made(user_id, storage)
    _, result = edit(user_id, parent, sha, "edit-1", "Remove the stripes here", storage)
    assert result.status == "succeeded"
    before, after = pixels(storage, sha), pixels(storage, result.delivered[0])
    mask = np.asarray(rasterise(strokes_from(PATHS), (512, 512), (1024, 1024))) > 0
    changed = np.any(before != after, axis=2)
    assert changed.sum() > 1000  # the stripes under the stroke were filled in
    assert not changed[~mask].any()  # and not one pixel outside the mask moved
    assert balance(user_id) == 5 - 2  # the parent and the edit, one credit each


def test_quoted_text_in_the_instruction_is_set_inside_the_region(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    parent, sha = made(user_id, storage)
    _, plain = edit(user_id, parent, sha, "e-plain", "Clean this area", storage)
    _, texted = edit(user_id, parent, sha, "e-text", 'Write "SALE" here', storage)
    a, b = pixels(storage, plain.delivered[0]), pixels(storage, texted.delivered[0])
    mask = np.asarray(rasterise(strokes_from(PATHS), (512, 512), (1024, 1024))) > 0
    differs = np.any(a != b, axis=2)
    assert differs[mask].sum() > 200 and not differs[~mask].any()


def test_an_edit_is_a_generation_linked_to_its_parent_with_the_one_press_rule(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    parent, sha = made(user_id, storage)
    first, _ = edit(user_id, parent, sha, "press-1", "Brighter", storage)
    again = start_region_edit(
        user_id=user_id,
        client_request_id="press-1",  # the same press, replayed
        parent_id=parent,
        result_sha256=sha,
        paths=PATHS,
        canvas=(512, 512),
        instructions="Brighter",
        storage=storage,
    )
    assert again.repeated and again.generation_id == first.generation_id
    assert balance(user_id) == 3  # charged once
    _, child = edit(
        user_id,
        first.generation_id,
        first.summary.output_hashes[0]
        if first.summary.output_hashes
        else generations.result_of(first.generation_id).delivered[0],
        "press-2",
        "Darker",
        storage,
    )
    versions = lineage(user_id=user_id, generation_id=child.generation_id)
    assert [v.id for v in versions] == [parent, first.generation_id, child.generation_id]
    assert [v.parent_id for v in versions] == [None, parent, first.generation_id]
    assert lineage(user_id=user_id, generation_id=parent) == versions


@pytest.mark.parametrize(
    ("paths", "text", "message"),
    [
        ([], "x", "Paint over"),
        (PATHS, "  ", "what should change"),
        (
            [
                {"paths": [{"x": 0, "y": y}, {"x": 512, "y": y}], "strokeWidth": 400}
                for y in (100, 300, 500)
            ],
            "x",
            "nearly the whole",
        ),
        ([{"paths": "nope"}], "x", "could not be read"),
        ([{"paths": [{"x": float("nan"), "y": 1}], "strokeWidth": 5}], "x", "too complex"),
    ],
)
def test_bad_edits_are_refused_and_cost_nothing(
    database_url: str, storage: LocalStorage, paths: list, text: str, message: str
) -> None:
    user_id = funded_user(5)
    parent, sha = made(user_id, storage)
    with pytest.raises(InvalidRequest, match=message):
        start_region_edit(
            user_id=user_id,
            client_request_id="bad",
            parent_id=parent,
            result_sha256=sha,
            paths=paths,
            canvas=(512, 512),
            instructions=text,
            storage=storage,
        )
    assert balance(user_id) == 4


def test_someone_elses_result_cannot_be_edited(database_url: str, storage: LocalStorage) -> None:
    owner = funded_user(2, "a@example.com")
    parent, sha = made(owner, storage)
    other = make_user("b@example.com")
    with pytest.raises(InvalidRequest, match="not available"):
        start_region_edit(
            user_id=other,
            client_request_id="x",
            parent_id=parent,
            result_sha256=sha,
            paths=PATHS,
            canvas=(512, 512),
            instructions="mine now",
            storage=storage,
        )
    with pytest.raises(InvalidRequest):
        lineage(user_id=other, generation_id=parent)


def test_deleting_an_edit_forgets_its_mask_and_the_lineage_skips_deleted_versions(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    parent, sha = made(user_id, storage)
    started, _ = edit(user_id, parent, sha, "e1", "Brighter", storage)
    second, _ = edit(
        user_id, started.generation_id, generations.result_of(started.generation_id).delivered[0],
        "e2", "Darker", storage,
    )  # fmt: skip
    with session_scope() as session:
        row = session.get(Generation, started.generation_id)
        assert row is not None
        mask_sha = row.options["edit_mask"]
    assert storage.exists("mask", mask_sha)
    library.delete_generations(user_id=user_id, generation_ids=[started.generation_id])
    assert storage.exists("mask", mask_sha)  # the second edit painted the same strokes
    with session_scope() as session:
        row = session.get(Generation, second.generation_id)
        assert row is not None and row.options["edit_mask"] == mask_sha
    # The first edit is gone: the second's lineage starts where the kept chain does.
    assert [v.id for v in lineage(user_id=user_id, generation_id=second.generation_id)] == [
        second.generation_id
    ]
    assert [v.id for v in lineage(user_id=user_id, generation_id=parent)] == [parent]
    library.delete_generations(user_id=user_id, generation_ids=[second.generation_id])
    assert not storage.exists("mask", mask_sha)  # its last user gone, the mask goes too
