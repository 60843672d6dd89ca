"""Generation: take in an ad, validate a remix request, reserve credits, run the image
provider (OpenAI or the offline engine), store what came back, export placements."""

from adremix.services.generation.images import (
    MAX_UPLOAD_BYTES,
    InvalidImage,
    encode,
    media_type_of,
    open_untrusted,
)
from adremix.services.generation.ingest import SourceUpload, ingest_source, use_result_as_source
from adremix.services.generation.offline_engine import OfflineEngine
from adremix.services.generation.placements import (
    PLACEMENT_EXPORTS,
    export_placement,
    placements_zip,
)
from adremix.services.generation.prompt import build_prompt
from adremix.services.generation.providers import (
    ImageProvider,
    OpenAIImageProvider,
    ProviderBadOutput,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRefused,
    ProviderTimedOut,
    ProviderUnavailable,
    provider_for,
)
from adremix.services.generation.remix_options import (
    DEFAULT_OPTIONS,
    MAX_INSTRUCTIONS,
    MAX_TEXT,
    MAX_VARIATIONS,
    PLACEMENTS,
    QUALITIES,
    STYLES,
    InvalidRequest,
    RemixOptions,
    Style,
)
from adremix.services.generation.runner import (
    GenerationResult,
    recover_interrupted,
    run_generation,
)
from adremix.services.generation.start import (
    GenerationSummary,
    StartedGeneration,
    credits_for,
    start_generation,
)
from adremix.services.generation.stored_images import forget_images, owns_image

__all__ = [
    "DEFAULT_OPTIONS",
    "MAX_INSTRUCTIONS",
    "MAX_TEXT",
    "MAX_UPLOAD_BYTES",
    "MAX_VARIATIONS",
    "PLACEMENTS",
    "PLACEMENT_EXPORTS",
    "QUALITIES",
    "STYLES",
    "GenerationResult",
    "GenerationSummary",
    "ImageProvider",
    "InvalidImage",
    "InvalidRequest",
    "OfflineEngine",
    "OpenAIImageProvider",
    "ProviderBadOutput",
    "ProviderError",
    "ProviderQuotaExhausted",
    "ProviderRefused",
    "ProviderTimedOut",
    "ProviderUnavailable",
    "RemixOptions",
    "SourceUpload",
    "StartedGeneration",
    "Style",
    "build_prompt",
    "credits_for",
    "encode",
    "export_placement",
    "forget_images",
    "ingest_source",
    "media_type_of",
    "open_untrusted",
    "owns_image",
    "placements_zip",
    "provider_for",
    "recover_interrupted",
    "run_generation",
    "start_generation",
    "use_result_as_source",
]
