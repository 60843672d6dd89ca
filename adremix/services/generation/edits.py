"""Region edits: a painted mask and an instruction make a new generation of one result.

The mask arrives as the strokes the browser's sketch canvas recorded (points in canvas
pixels and a stroke width), not as an image: it is rasterised here at the result's own
size, so the browser never sends a file and the server decides what the mask is. The
edit is a generation like any other (one credit, reserved with it, the same one-press
key), linked to its parent; the provider edits only inside the mask.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import GenerationStatus, ImageKind
from adremix.models import Generation, StoredImage
from adremix.services.generation.images import encode_png, sha256_hex
from adremix.services.generation.jobs import options_from
from adremix.services.generation.remix_options import MAX_INSTRUCTIONS, InvalidRequest
from adremix.services.generation.start import StartedGeneration, start_generation
from adremix.services.generation.stored_images import record_image
from adremix.services.storage import Storage, default_storage

MAX_STROKES = 400
MAX_POINTS = 20_000  # over all strokes
MAX_CANVAS_SIDE = 4096
# A mask this close to the whole image is a full remix, not a region edit.
MAX_MASKED_SHARE = 0.9


@dataclass(frozen=True)
class Stroke:
    points: list[tuple[float, float]]
    width: float


def strokes_from(paths: Any) -> list[Stroke]:
    """The sketch canvas's paths (`[{paths: [{x, y}], strokeWidth, drawMode}]`) as strokes;
    eraser strokes (drawMode false) are kept with width < 0 so they clear the mask."""
    if not isinstance(paths, list) or len(paths) > MAX_STROKES:
        raise InvalidRequest("The painted region could not be read. Paint it again.")
    strokes, total = [], 0
    for path in paths:
        try:
            points = [(float(p["x"]), float(p["y"])) for p in path["paths"]]
            width = float(path.get("strokeWidth", 24))
            erase = path.get("drawMode") is False
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest("The painted region could not be read. Paint it again.") from exc
        total += len(points)
        finite = all(math.isfinite(v) for point in points for v in point)
        if total > MAX_POINTS or not finite or not 0 < width <= 400:
            raise InvalidRequest("The painted region is too complex. Paint it again.")
        if points:
            strokes.append(Stroke(points, -width if erase else width))
    return strokes


def rasterise(
    strokes: list[Stroke], canvas: tuple[float, float], size: tuple[int, int]
) -> Image.Image:
    """The mask at `size`: white (255) where painted, scaled from canvas pixels."""
    if not (0 < canvas[0] <= MAX_CANVAS_SIDE and 0 < canvas[1] <= MAX_CANVAS_SIDE):
        raise InvalidRequest("The painted region could not be read. Paint it again.")
    sx, sy = size[0] / canvas[0], size[1] / canvas[1]
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for stroke in strokes:
        fill = 0 if stroke.width < 0 else 255
        width = max(1, round(abs(stroke.width) * (sx + sy) / 2))
        points = [(x * sx, y * sy) for x, y in stroke.points]
        if len(points) > 1:
            draw.line(points, fill=fill, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps, and a dot for a single click
            r = width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    return mask


def start_region_edit(
    *,
    user_id: int,
    client_request_id: str,
    parent_id: int,
    result_sha256: str,
    paths: Any,
    canvas: tuple[float, float],
    instructions: str,
    storage: Storage | None = None,
) -> StartedGeneration:
    """Store the mask and start the edit as a new generation linked to `parent_id`.

    `paths` are the sketch canvas's strokes, `canvas` its size in CSS pixels."""
    strokes = strokes_from(paths)
    instructions = instructions.strip()
    if not instructions:
        raise InvalidRequest("Say what should change in the painted region.")
    if len(instructions) > MAX_INSTRUCTIONS:
        raise InvalidRequest(f"Instructions are limited to {MAX_INSTRUCTIONS} characters.")
    with session_scope() as session:
        parent = session.get(Generation, parent_id)
        if (
            parent is None
            or parent.user_id != user_id
            or parent.deleted_at is not None
            or result_sha256 not in parent.output_hashes
        ):
            raise InvalidRequest("That image is not available.")
        size = session.exec(
            select(StoredImage.width, StoredImage.height).where(
                StoredImage.user_id == user_id,
                StoredImage.sha256 == result_sha256,
                StoredImage.kind == ImageKind.RESULT,
            )
        ).first()
        if size is None:
            raise InvalidRequest("That image is not available.")
        source_sha, stored = parent.source_image_hash, dict(parent.options or {})
    mask = rasterise(strokes, canvas, (int(size[0]), int(size[1])))
    painted = mask.histogram()[255] / (mask.width * mask.height)
    if painted == 0:
        raise InvalidRequest("Paint over the region to change first.")
    if painted > MAX_MASKED_SHARE:
        raise InvalidRequest("That is nearly the whole image: use Remix for a new version.")
    data = encode_png(mask)
    mask_sha = sha256_hex(data)
    (storage or default_storage()).put(ImageKind.MASK, mask_sha, data)
    with session_scope() as session:
        record_image(session, user_id=user_id, sha256=mask_sha, kind=ImageKind.MASK, size=mask.size)
    options = dataclasses.replace(
        options_from(stored),
        instructions=instructions,
        variations=1,
        headline="",
        call_to_action="",
        edit_of=result_sha256,
        edit_mask=mask_sha,
    )
    return start_generation(
        user_id=user_id,
        client_request_id=client_request_id,
        source_sha256=source_sha,
        options=options,
        fresh=True,  # an edit is asked for to be made, even if an identical one exists
        parent_id=parent_id,
    )


@dataclass(frozen=True)
class Version:
    """One generation in a lineage (an original and every region edit made from it)."""

    id: int
    parent_id: int | None
    status: GenerationStatus
    instructions: str
    cover_sha256: str  # its first result, "" while it has none


def lineage(*, user_id: int, generation_id: int) -> list[Version]:
    """The whole family of a generation, oldest first: its root and every edit below it."""
    with session_scope() as session:
        row = session.get(Generation, generation_id)
        if row is None or row.user_id != user_id or row.deleted_at is not None:
            raise InvalidRequest("That generation does not exist.")
        while row.parent_id is not None:  # up to the original (or the oldest one kept)
            parent = session.get(Generation, row.parent_id)
            if parent is None or parent.user_id != user_id or parent.deleted_at is not None:
                break
            row = parent
        family, frontier = [row], [row.id]
        while frontier:  # down through the edits, a level at a time
            children = session.exec(
                select(Generation).where(
                    Generation.user_id == user_id,
                    Generation.parent_id.in_(frontier),  # type: ignore[union-attr]
                    Generation.deleted_at.is_(None),  # type: ignore[union-attr]
                )
            ).all()
            family.extend(children)
            frontier = [c.id for c in children]
        family.sort(key=lambda g: (g.created_at, g.id or 0))
        return [
            Version(
                id=g.id or 0,
                parent_id=g.parent_id,
                status=GenerationStatus(g.status),
                instructions=g.instructions,
                cover_sha256=g.output_hashes[0] if g.output_hashes else "",
            )
            for g in family
        ]
