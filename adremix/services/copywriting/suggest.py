"""'Suggest copy': headline, primary text and CTA variants for each chosen placement, in
English or one of eight Indian languages, within each platform's limits.

With an OpenAI key the text model writes them, answering in a JSON schema (Structured
Outputs, `response_format` type `json_schema`, strict); without one, the phrase bank does.
Either way every variant is checked here against the platform table: one over a limit,
or using a word the brand kit avoids, is dropped (and the phrase bank fills a kind left
empty), so what the user sees always fits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import openai

from adremix.db import session_scope
from adremix.models import BrandKit
from adremix.services.copywriting.limits import PLATFORMS, PlatformLimits, length_on
from adremix.services.copywriting.phrase_bank import PHRASES
from adremix.services.errors import UserFacingError
from adremix.services.generation import LANGUAGES
from adremix.settings import Settings, get_settings

log = logging.getLogger(__name__)

KINDS = ("headline", "primary_text", "cta")
MAX_PRODUCT = 80
MAX_BRIEF = 500
MAX_VARIANTS = 5


class CopyError(UserFacingError):
    """Copy could not be suggested; the message says why."""


class CopyRefused(CopyError):
    """The model declined to write this copy (its `refusal`)."""


@dataclass(frozen=True)
class CopyRequest:
    product: str
    platforms: tuple[str, ...]
    language: str = "en"
    brief: str = ""
    brand_kit_id: int = 0  # its tone and words to avoid apply
    variants: int = 3


@dataclass(frozen=True)
class PlacementCopy:
    platform: str
    platform_name: str
    limits: dict[str, int]
    headlines: list[str]
    primary_texts: list[str]
    ctas: list[str]


@dataclass(frozen=True)
class CopySuggestions:
    language: str
    engine: str  # "openai" or "offline"
    placements: list[PlacementCopy] = field(default_factory=list)
    dropped: int = 0  # model variants over a limit or using an avoided word


def _validated(request: CopyRequest) -> CopyRequest:
    product = " ".join(request.product.split())
    if not product:
        raise CopyError("Say what the ad is for (a product or offer name).")
    if len(product) > MAX_PRODUCT:
        raise CopyError(f"The product name is limited to {MAX_PRODUCT} characters.")
    if request.language not in LANGUAGES:
        raise CopyError("Choose one of the offered languages.")
    platforms = tuple(dict.fromkeys(request.platforms))
    if not platforms:
        raise CopyError("Choose at least one placement.")
    if any(p not in PLATFORMS for p in platforms):
        raise CopyError("Unknown placement.")
    return CopyRequest(
        product=product,
        platforms=platforms,
        language=request.language,
        brief=" ".join(request.brief.split())[:MAX_BRIEF],
        brand_kit_id=request.brand_kit_id,
        variants=max(1, min(MAX_VARIANTS, request.variants)),
    )


def _kit_voice(user_id: int, kit_id: int) -> tuple[str, list[str]]:
    if not kit_id:
        return "", []
    with session_scope() as session:
        kit = session.get(BrandKit, kit_id)
        if kit is None or kit.user_id != user_id:
            raise CopyError("That brand kit no longer exists.")
        return kit.tone, list(kit.avoid_words)


def suggest_copy(
    *, user_id: int, request: CopyRequest, settings: Settings | None = None
) -> CopySuggestions:
    """Copy variants for each placement in the request's language, within limits."""
    settings = settings or get_settings()
    request = _validated(request)
    tone, avoid = _kit_voice(user_id, request.brand_kit_id)
    if settings.openai_api_key:
        written = _from_openai(settings, request, tone, avoid)
        engine = "openai"
    else:
        written = {}
        engine = "offline"
    placements, dropped = [], 0
    for code in request.platforms:
        platform = PLATFORMS[code]
        kinds: dict[str, list[str]] = {}
        for kind in KINDS:
            offered = written.get(code, {}).get(kind, [])
            kept = _fitting(platform, kind, offered, avoid, request.variants)
            dropped += len(offered) - len(kept)
            if not kept:  # the model gave nothing usable: the phrase bank's best
                kept = _fitting(platform, kind, _bank(request, kind), avoid, request.variants)
            kinds[kind] = kept
        placements.append(
            PlacementCopy(
                platform=code,
                platform_name=platform.name,
                limits={kind: getattr(platform, kind) for kind in KINDS},
                headlines=kinds["headline"],
                primary_texts=kinds["primary_text"],
                ctas=kinds["cta"],
            )
        )
    if dropped:
        log.info("Copy suggestions: %s variant(s) dropped for limits or avoided words", dropped)
    return CopySuggestions(request.language, engine, placements, dropped)


def _bank(request: CopyRequest, kind: str) -> list[str]:
    phrases = PHRASES[request.language][kind]
    filled = [p.replace("{product}", request.product) for p in phrases]
    # A long product name can push a phrase over a limit: the generic phrases follow.
    return filled + [p for p in phrases if "{product}" not in p]


def _fitting(
    platform: PlatformLimits, kind: str, texts: list[str], avoid: list[str], count: int
) -> list[str]:
    limit = getattr(platform, kind)
    kept: list[str] = []
    for text in texts:
        text = " ".join(str(text).split())
        lowered = text.casefold()
        if not text or length_on(platform, text) > limit or text in kept:
            continue
        if any(word.casefold() in lowered for word in avoid):
            continue
        kept.append(text)
    return kept[:count]


# --- OpenAI --------------------------------------------------------------------------


def response_schema(platforms: tuple[str, ...]) -> dict[str, Any]:
    """The JSON schema the model answers in (strict: every property required, no others)."""
    strings = {"type": "array", "items": {"type": "string"}}
    placement = {
        "type": "object",
        "properties": {
            "platform": {"type": "string", "enum": list(platforms)},
            "headlines": strings,
            "primary_texts": strings,
            "ctas": strings,
        },
        "required": ["platform", "headlines", "primary_texts", "ctas"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"placements": {"type": "array", "items": placement}},
        "required": ["placements"],
        "additionalProperties": False,
    }


def _messages(request: CopyRequest, tone: str, avoid: list[str]) -> list[dict[str, str]]:
    language = LANGUAGES[request.language]
    rules = [
        "You write short, persuasive ad copy for Indian advertisers.",
        f"Write in {language}"
        + ("" if request.language == "en" else f", in {language}'s own script")
        + "; keep brand and product names as given.",
        f"Give {request.variants} variants of each of headlines, primary_texts and ctas "
        "for every placement listed.",
        "Stay within each placement's limits (characters, counted as Unicode code points):",
    ]
    for code in request.platforms:
        p = PLATFORMS[code]
        rules.append(
            f"- {code} ({p.name}): headline ≤ {p.headline}, primary text ≤ "
            f"{p.primary_text}, CTA ≤ {p.cta}"
        )
    if tone:
        rules.append(f"Tone of voice: {tone}")
    if avoid:
        rules.append("Never use these words: " + ", ".join(avoid))
    user = f"Product or offer: {request.product}"
    if request.brief:
        user += f"\nBrief: {request.brief}"
    return [{"role": "system", "content": "\n".join(rules)}, {"role": "user", "content": user}]


def _from_openai(
    settings: Settings, request: CopyRequest, tone: str, avoid: list[str]
) -> dict[str, dict[str, list[str]]]:
    client = openai.OpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        timeout=min(settings.openai_timeout_s, 60.0),
        max_retries=settings.openai_max_retries,
    )
    try:
        completion = client.chat.completions.create(
            model=settings.openai_text_model,
            messages=_messages(request, tone, avoid),  # type: ignore[arg-type]
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "ad_copy",
                    "strict": True,
                    "schema": response_schema(request.platforms),
                },
            },
        )
    except openai.BadRequestError as exc:
        raise CopyRefused("The copy service could not use this request.") from exc
    except (openai.APIStatusError, openai.APIConnectionError, openai.APITimeoutError) as exc:
        log.warning("Copy suggestions failed: %s", exc)
        raise CopyError("The copy service is busy or unreachable. Please try again.") from exc
    choice = completion.choices[0]
    if choice.message.refusal:
        raise CopyRefused("The copy service declined to write this copy. Try other wording.")
    if choice.finish_reason != "stop" or not choice.message.content:
        raise CopyError("The copy service's answer was cut short. Please try again.")
    try:
        answer = json.loads(choice.message.content)
        written: dict[str, dict[str, list[str]]] = {}
        for item in answer["placements"]:
            written[str(item["platform"])] = {
                "headline": [str(t) for t in item["headlines"]],
                "primary_text": [str(t) for t in item["primary_texts"]],
                "cta": [str(t) for t in item["ctas"]],
            }
    except (ValueError, KeyError, TypeError) as exc:
        raise CopyError("The copy service answered in an unexpected shape.") from exc
    return written
