"""`python -m adremix remix`: one source, remixed into a folder, for agencies' scripts.

It runs the web app's own pieces (the upload checks, the remix options and their
validation, the brand kit's logo and font checks, the same providers) with no account and
no credits: it is an operator tool. The folder gets one PNG per placement and variation
and `result.json` (options, engine, timings, file names).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adremix.services.brand import InvalidBrandAsset, check_logo, sanitise_font
from adremix.services.errors import UserFacingError
from adremix.services.generation import (
    BUNDLED_FONTS,
    COLOUR_ROLES,
    Attachments,
    ImageProvider,
    OfflineEngine,
    ProviderError,
    RemixOptions,
    encode_png,
    parse_hex,
    prepare_source,
    provider_for,
    to_hex,
)
from adremix.settings import Settings, get_settings

UPLOADED_FONT = "upload"


class BrandFileError(UserFacingError):
    """The brand kit file (or --logo / --colors) cannot be used; the message says why."""


@dataclass
class BatchResult:
    out_dir: Path
    files: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BrandFiles:
    """A kit read from disk: the options' copy of it and the provider's attachments."""

    snapshot: dict[str, Any]
    attachments: Attachments


def load_brand_file(
    path: Path | None, *, logo: Path | None, colors: str, workdir: Path
) -> BrandFiles | None:
    """A kit from a JSON file (`name`, `colors` by role, `font` (a bundled key or a
    TTF/OTF path), `logo` (PNG/WebP path), `tone`, `avoid_words`), or from --logo and
    --colors (hex, in role order primary, secondary, accent, text, background)."""
    spec: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BrandFileError(f"Cannot read the brand kit file {path}: {exc}") from exc
        if not isinstance(spec, dict):
            raise BrandFileError("The brand kit file must hold a JSON object.")
        base = path.parent
    if logo is not None:
        spec["logo"] = str(logo.resolve())
    if colors:
        spec["colors"] = dict(
            zip(COLOUR_ROLES, [c.strip() for c in colors.split(",")], strict=False)
        )
    if not spec:
        return None
    clean: dict[str, str] = {}
    for role, value in dict(spec.get("colors") or {}).items():
        parsed = parse_hex(str(value))
        if role not in COLOUR_ROLES or parsed is None:
            raise BrandFileError(f"Colour {role}={value!r}: use roles {COLOUR_ROLES} and #rrggbb.")
        clean[role] = to_hex(parsed)
    attachments = Attachments()
    logo_sha = ""
    if spec.get("logo"):
        try:
            checked = check_logo((base / str(spec["logo"])).read_bytes())
        except OSError as exc:
            raise BrandFileError(f"Cannot read the logo: {exc}") from exc
        except InvalidBrandAsset as exc:
            raise BrandFileError(f"Logo: {exc}") from exc
        attachments = dataclasses.replace(attachments, logo_png=encode_png(checked))
        logo_sha = "cli"
    font = str(spec.get("font") or "inter")
    if font not in BUNDLED_FONTS:
        try:
            sanitised, _family = sanitise_font((base / font).read_bytes())
        except OSError as exc:
            raise BrandFileError(f"Cannot read the font {font}: {exc}") from exc
        except InvalidBrandAsset as exc:
            raise BrandFileError(f"Font: {exc}") from exc
        font_path = workdir / "font.sanitised"
        font_path.write_bytes(sanitised)
        attachments = dataclasses.replace(attachments, font_path=str(font_path))
        font = UPLOADED_FONT
    snapshot = {
        "name": str(spec.get("name") or "CLI kit")[:80],
        "colors": clean,
        "font": font,
        "logo_sha256": logo_sha,
        "tone": str(spec.get("tone") or "")[:300],
        "avoid_words": [str(w)[:40] for w in spec.get("avoid_words") or []][:30],
    }
    return BrandFiles(snapshot, attachments)


def remix_to_folder(
    *,
    source: Path,
    out_dir: Path,
    options: RemixOptions,
    placements: list[str],
    engine: str = "offline",
    brand_file: Path | None = None,
    logo: Path | None = None,
    colors: str = "",
    settings: Settings | None = None,
    provider: ImageProvider | None = None,
) -> BatchResult:
    """Remix `source` for each placement (`options.variations` images each) into
    `out_dir`, with `result.json`; no account, no credits."""
    settings = settings or get_settings()
    started = time.perf_counter()
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise BrandFileError(f"Cannot read the source image: {exc}") from exc
    prepared = prepare_source(data).provider_png
    if provider is None:
        if engine == "openai" and not settings.openai_api_key:
            raise BrandFileError("--engine openai needs OPENAI_API_KEY.")
        provider = provider_for(settings) if engine == "openai" else OfflineEngine()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="adremix-cli-") as workdir:
        kit = load_brand_file(brand_file, logo=logo, colors=colors, workdir=Path(workdir))
        requests = []
        for placement in placements or [options.placement]:
            request = dataclasses.replace(
                options, placement=placement, brand=kit.snapshot if kit else {}
            ).validated()
            requests.extend((request, index) for index in range(request.variations))
        attachments = kit.attachments if kit else None
        outcomes = asyncio.run(_run_all(provider, prepared, requests, attachments))
    result = BatchResult(out_dir=out_dir)
    images = []
    for (request, index), (image, elapsed_ms, error) in zip(requests, outcomes, strict=True):
        name = f"{request.placement}-{index + 1}.png"
        entry: dict[str, Any] = {
            "placement": request.placement,
            "variation": index + 1,
            "ms": elapsed_ms,
        }
        if image is not None:
            (out_dir / name).write_bytes(image)
            result.files.append(name)
            entry["file"] = name
        else:
            result.failures.append(f"{name}: {error}")
            entry["error"] = error
        images.append(entry)
    option_fields = dataclasses.asdict(options) | {"brand": kit.snapshot if kit else {}}
    option_fields.pop("edit_of"), option_fields.pop("edit_mask"), option_fields.pop("brand_kit_id")
    result.summary = {
        "source": str(source),
        "engine": provider.name,
        "model": provider.model,
        "options": option_fields,
        "placements": placements or [options.placement],
        "images": images,
        "files": result.files,
        "timings": {
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
            "per_image_ms": [entry["ms"] for entry in images],
        },
    }
    (out_dir / "result.json").write_text(
        json.dumps(result.summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return result


async def _run_all(
    provider: ImageProvider,
    source_png: bytes,
    requests: list[tuple[RemixOptions, int]],
    attachments: Attachments | None,
) -> list[tuple[bytes | None, float, str]]:
    async def one(request: RemixOptions, index: int) -> tuple[bytes | None, float, str]:
        began = time.perf_counter()
        try:
            image = await provider.generate_one(
                source_png=source_png, options=request, index=index, attachments=attachments
            )
        except ProviderError as exc:
            return None, round((time.perf_counter() - began) * 1000, 1), exc.message
        return image, round((time.perf_counter() - began) * 1000, 1), ""

    return list(await asyncio.gather(*(one(r, i) for r, i in requests)))
