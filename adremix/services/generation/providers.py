"""Image providers: the OpenAI images API (via the `openai` SDK) and the offline engine.

A provider turns one normalised source image (PNG bytes) and the options into ONE image;
the generation service calls it once per variation, concurrently, so each image succeeds
or fails (and is refunded) on its own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import openai
from PIL import Image

from adremix.blocking import call
from adremix.services.errors import UserFacingError
from adremix.services.generation.images import (
    MAX_UPLOAD_BYTES,
    InvalidImage,
    check_image_bytes,
    encode_png,
)
from adremix.services.generation.prompt import build_prompt
from adremix.services.generation.remix_options import Attachments, RemixOptions
from adremix.settings import Settings

log = logging.getLogger(__name__)

# Models that accept `input_fidelity` (keep faces/logos/products close to the input).
INPUT_FIDELITY_MODELS = ("gpt-image-1", "gpt-image-1.5")


class ProviderError(UserFacingError):
    """Base of provider failures; `code` is also the error class recorded for analytics."""

    code = "provider_error"


class ProviderRefused(ProviderError):
    """The provider refused the request (content policy, bad request): no retry helps."""

    code = "refused"


class ProviderUnavailable(ProviderError):
    """Rate limited, server error or unreachable, after the SDK's own retries."""

    code = "unavailable"


class ProviderQuotaExhausted(ProviderError):
    """The account is out of quota or credit (`insufficient_quota`): an operator's problem,
    which no retry fixes."""

    code = "quota_exhausted"


class ProviderTimedOut(ProviderError):
    code = "timeout"


class ProviderBadOutput(ProviderError):
    """The provider answered, but not with a valid image."""

    code = "bad_output"


class ImageProvider(Protocol):
    name: str
    model: str

    async def generate_one(
        self,
        *,
        source_png: bytes,
        options: RemixOptions,
        index: int,
        attachments: Attachments | None = None,
    ) -> bytes:
        """One image (PNG/JPEG/WebP bytes) for variation `index`; raises ProviderError."""
        ...


# A 429 is either load (`rate_limit_exceeded`: wait and retry) or billing
# (`insufficient_quota`: retrying cannot help); the SDK raises RateLimitError for both.
QUOTA_CODE = "insufficient_quota"
RETRIED_STATUSES = (408, 409, 429)
MAX_DOWNLOAD_BYTES = MAX_UPLOAD_BYTES


def _error_code(body: bytes) -> str:
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code") or error.get("type") or "") if isinstance(error, dict) else ""


class _RetryPolicy:
    """An HTTP response hook that steers the SDK's own retries through the headers the SDK
    obeys: `x-should-retry: false` for `insufficient_quota`, and `retry-after-ms` capped at
    `max_wait_s` when one is set."""

    def __init__(self, max_wait_s: float | None) -> None:
        self.max_wait_s = max_wait_s

    async def __call__(self, response: Any) -> None:
        status = response.status_code
        if status == 429:
            await response.aread()
            if _error_code(response.content) == QUOTA_CODE:
                response.headers["x-should-retry"] = "false"
                return
        if self.max_wait_s is not None and (status in RETRIED_STATUSES or status >= 500):
            response.headers["retry-after-ms"] = str(max(1, round(self.max_wait_s * 1000)))


async def whole_body(request: Any) -> None:
    """Read a request's body into one piece before it is sent. The SDK streams a
    multipart body as some 25 small pieces (each form field's headers, value and line
    break), and the HTTP client writes each to the socket on its own, each write with
    its own timeout scope: CPU on the event loop every job shares, per request. The
    pieces are in memory already (the images are bytes), so joining them costs a copy."""
    await request.aread()


class OpenAIImageProvider:
    """`images.edit` with the source image; retries and timeouts are the SDK's own."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = "",
        timeout_s: float = 120.0,
        max_retries: int = 2,
        deadline_s: float = 300.0,
        retry_max_wait_s: float | None = None,
    ) -> None:
        self.model = model
        self.deadline_s = deadline_s
        self.timeout_s = timeout_s
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url or None,
            timeout=timeout_s,
            max_retries=max_retries,
            http_client=openai.DefaultAsyncHttpxClient(
                event_hooks={
                    "request": [whole_body],
                    "response": [_RetryPolicy(retry_max_wait_s)],
                }
            ),
        )

    def _parameters(self, options: RemixOptions, attachments: Attachments) -> dict:
        with_logo = attachments.logo_png is not None and not options.edit_mask
        params: dict = {
            "model": self.model,
            "prompt": build_prompt(options, with_logo=with_logo),
            "size": options.size,
            "quality": options.quality,
            "n": 1,
        }
        # A logo must come back as drawn: the model keeps input details closer with
        # high input fidelity, where it offers it (not every image model does).
        faithful = options.keep_product or with_logo
        if faithful and self.model in INPUT_FIDELITY_MODELS:
            params["input_fidelity"] = "high"
        return params

    def _images(self, source_png: bytes, options: RemixOptions, attachments: Attachments) -> dict:
        """The multipart files: the source (first), the logo as a second input image,
        and for a region edit the mask (transparent where the image may change)."""
        source = ("source.png", source_png, "image/png")
        if options.edit_mask and attachments.mask_png is not None:
            return {
                "image": source,
                "mask": ("mask.png", openai_mask(attachments.mask_png), "image/png"),
            }
        if attachments.logo_png is not None:
            return {"image": [source, ("logo.png", attachments.logo_png, "image/png")]}
        return {"image": source}

    async def generate_one(
        self,
        *,
        source_png: bytes,
        options: RemixOptions,
        index: int,
        attachments: Attachments | None = None,
    ) -> bytes:
        try:
            return await asyncio.wait_for(
                self._generate(source_png, options, attachments or Attachments()),
                self.deadline_s,
            )
        except TimeoutError as exc:
            raise ProviderTimedOut("The image service took too long to answer.") from exc

    async def _generate(
        self, source_png: bytes, options: RemixOptions, attachments: Attachments
    ) -> bytes:
        try:
            response = await self._client.images.edit(
                **self._images(source_png, options, attachments),
                **self._parameters(options, attachments),
            )
        except openai.APITimeoutError as exc:
            raise ProviderTimedOut("The image service took too long to answer.") from exc
        except openai.BadRequestError as exc:
            raise ProviderRefused(_refusal_message(exc)) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ProviderUnavailable("The image service rejected our credentials.") from exc
        except openai.RateLimitError as exc:
            if exc.code == QUOTA_CODE:
                # The operator must add credit or raise a limit: say so loudly, once.
                log.error(
                    "OpenAI quota exhausted (insufficient_quota), request %s: %s",
                    exc.request_id,
                    exc.message,
                )
                raise ProviderQuotaExhausted(
                    "The image service is temporarily unavailable. Please try again later."
                ) from exc
            raise ProviderUnavailable("The image service is busy or unreachable.") from exc
        except (openai.InternalServerError, openai.APIConnectionError) as exc:
            raise ProviderUnavailable("The image service is busy or unreachable.") from exc
        except openai.APIStatusError as exc:
            raise ProviderUnavailable(f"The image service failed ({exc.status_code}).") from exc
        data = response.data or []
        if data and data[0].b64_json:
            # Decoding and checking a few megabytes takes milliseconds of CPU: on a thread,
            # not on the event loop every other job's requests and responses wait on.
            return await call(_checked_image, data[0].b64_json)
        if data and data[0].url:
            # OpenAI-compatible endpoints (and older models) may answer with a link instead.
            return await call(_checked_image, await self._download(data[0].url))
        raise ProviderBadOutput("The image service returned no image.")

    async def _download(self, url: str) -> bytes:
        """Fetch an image the provider linked to, refusing anything over the size cap."""
        if urlsplit(url).scheme not in ("https", "http"):
            raise ProviderBadOutput("The image service returned an unusable image link.")
        too_big = ProviderBadOutput("The image service returned an image that is too large.")
        received = bytearray()
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=True) as http,
                http.stream("GET", url) as answer,
            ):
                if answer.status_code != 200:
                    raise ProviderBadOutput(
                        f"The image service's image link failed ({answer.status_code})."
                    )
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                    raise too_big
                async for chunk in answer.aiter_bytes():
                    received.extend(chunk)
                    if len(received) > MAX_DOWNLOAD_BYTES:
                        raise too_big
        except httpx.TimeoutException as exc:
            raise ProviderTimedOut("The image service took too long to answer.") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("The image service's image could not be fetched.") from exc
        return bytes(received)


def openai_mask(mask_png: bytes) -> bytes:
    """Our mask (greyscale, white where the image may change) as OpenAI wants it: a PNG
    with an alpha channel, fully transparent where the image should be edited."""
    with Image.open(io.BytesIO(mask_png)) as opened:
        painted = opened.convert("L")
    alpha = painted.point(lambda v: 0 if v >= 128 else 255)
    out = Image.new("RGBA", painted.size, (0, 0, 0, 255))
    out.putalpha(alpha)
    return encode_png(out)


def _refusal_message(exc: openai.BadRequestError) -> str:
    code = getattr(exc, "code", None) or ""
    if "moderation" in str(code) or "safety" in str(code) or "content_policy" in str(code):
        return (
            "The image service declined this request under its content policy. "
            "Try rewording the instructions or using a different image."
        )
    return "The image service could not use this request. Try different instructions or image."


def provider_identity(settings: Settings) -> tuple[str, str]:
    """The configured provider's (name, model), without building its HTTP client."""
    if settings.openai_api_key:
        return OpenAIImageProvider.name, settings.openai_image_model
    from adremix.services.generation.offline_engine import OfflineEngine

    return OfflineEngine.name, OfflineEngine.model


def provider_for(settings: Settings) -> ImageProvider:
    """OpenAI when a key is set, otherwise the offline engine."""
    if settings.openai_api_key:
        return OpenAIImageProvider(
            api_key=settings.openai_api_key,
            model=settings.openai_image_model,
            base_url=settings.openai_base_url,
            timeout_s=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
            deadline_s=settings.generation_deadline_s,
            retry_max_wait_s=settings.openai_retry_max_wait_s,
        )
    from adremix.services.generation.offline_engine import OfflineEngine

    return OfflineEngine()


def _checked_image(answer: str | bytes) -> bytes:
    """The provider's image: base64 (`b64_json`) decoded, or downloaded bytes, checked."""
    not_an_image = "The image service returned something that isn't an image."
    try:
        image_bytes = base64.b64decode(answer, validate=True) if isinstance(answer, str) else answer
        check_image_bytes(image_bytes)
    except (binascii.Error, ValueError, InvalidImage) as exc:
        raise ProviderBadOutput(not_an_image) from exc
    return image_bytes
