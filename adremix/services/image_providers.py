"""Image providers: the OpenAI images API (via the `openai` SDK) and the offline engine.

A provider turns one normalised source image (PNG bytes) and the options into ONE image;
the generation service calls it once per variation, concurrently, so each image succeeds
or fails (and is refunded) on its own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Protocol

import openai

from adremix.services.images import InvalidImage, check_image_bytes
from adremix.services.templates import RemixOptions, build_prompt
from adremix.settings import Settings

# Models that accept `input_fidelity` (keep faces/logos/products close to the input).
INPUT_FIDELITY_MODELS = ("gpt-image-1", "gpt-image-1.5")


class ProviderError(Exception):
    """Base of provider failures; `kind` is the error class recorded for analytics."""

    kind = "provider_error"


class ProviderRefused(ProviderError):
    """The provider refused the request (content policy, bad request): no retry helps."""

    kind = "refused"


class ProviderUnavailable(ProviderError):
    """Rate limited, server error or unreachable, after the SDK's own retries."""

    kind = "unavailable"


class ProviderTimedOut(ProviderError):
    kind = "timeout"


class ProviderBadOutput(ProviderError):
    """The provider answered, but not with a valid image."""

    kind = "bad_output"


class ImageProvider(Protocol):
    name: str
    model: str

    async def generate_one(self, *, source_png: bytes, options: RemixOptions, index: int) -> bytes:
        """One image (PNG/JPEG/WebP bytes) for variation `index`; raises ProviderError."""
        ...


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
    ) -> None:
        self.model = model
        self.deadline_s = deadline_s
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url or None,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _parameters(self, options: RemixOptions) -> dict:
        params: dict = {
            "model": self.model,
            "prompt": build_prompt(options),
            "size": options.size,
            "quality": options.quality,
            "n": 1,
        }
        if options.keep_product and self.model in INPUT_FIDELITY_MODELS:
            params["input_fidelity"] = "high"
        return params

    async def generate_one(self, *, source_png: bytes, options: RemixOptions, index: int) -> bytes:
        try:
            response = await asyncio.wait_for(
                self._client.images.edit(
                    image=("source.png", source_png, "image/png"), **self._parameters(options)
                ),
                timeout=self.deadline_s,
            )
        except TimeoutError as exc:
            raise ProviderTimedOut("The image service took too long to answer.") from exc
        except openai.APITimeoutError as exc:
            raise ProviderTimedOut("The image service took too long to answer.") from exc
        except openai.BadRequestError as exc:
            raise ProviderRefused(_refusal_message(exc)) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ProviderUnavailable("The image service rejected our credentials.") from exc
        except (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APIConnectionError,
        ) as exc:
            raise ProviderUnavailable("The image service is busy or unreachable.") from exc
        except openai.APIStatusError as exc:
            raise ProviderUnavailable(f"The image service failed ({exc.status_code}).") from exc
        data = response.data or []
        if not data or not data[0].b64_json:
            raise ProviderBadOutput("The image service returned no image.")
        try:
            image_bytes = base64.b64decode(data[0].b64_json, validate=True)
            check_image_bytes(image_bytes)
        except (binascii.Error, ValueError, InvalidImage) as exc:
            raise ProviderBadOutput(
                "The image service returned something that isn't an image."
            ) from exc
        return image_bytes


def _refusal_message(exc: openai.BadRequestError) -> str:
    code = getattr(exc, "code", None) or ""
    if "moderation" in str(code) or "safety" in str(code) or "content_policy" in str(code):
        return (
            "The image service declined this request under its content policy. "
            "Try rewording the instructions or using a different image."
        )
    return "The image service could not use this request. Try different instructions or image."


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
        )
    from adremix.services.offline_engine import OfflineEngine

    return OfflineEngine()
