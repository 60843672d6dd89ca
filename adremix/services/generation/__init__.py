"""Generation: take in an ad, validate a remix request, reserve credits, queue the job,
run the image provider (OpenAI or the offline engine) as a durable job, store what came
back, show progress, export placements."""

from adremix.services.generation.downloads import (
    DOWNLOAD_MEDIA_TYPES,
    ConversionTooLarge,
    ImageFile,
    owned_image_file,
    owned_placement,
    owned_placements_zip,
    owned_thumbnail,
)
from adremix.services.generation.images import (
    MAX_UPLOAD_BYTES,
    InvalidImage,
    drop_refusal,
    media_type_of,
    open_untrusted,
)
from adremix.services.generation.ingest import SourceUpload, ingest_source, use_result_as_source
from adremix.services.generation.jobs import (
    GenerationResult,
    JobWorker,
    requeue_lapsed,
    result_of,
    run_generation,
)
from adremix.services.generation.offline_engine import OfflineEngine
from adremix.services.generation.placements import (
    PLACEMENT_EXPORTS,
    placements_zip,
)
from adremix.services.generation.progress import (
    DraftSource,
    NewAdSession,
    job_progress,
    restore_new_ad,
    save_draft,
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
from adremix.services.generation.queue import (
    JobQueue,
    job_queue,
    run_worker,
    serve_in_process,
    submit_generation,
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
from adremix.services.generation.start import (
    GenerationSummary,
    StartedGeneration,
    credits_for,
    start_generation,
)
from adremix.services.generation.stored_images import (
    forget_images,
    owns_image,
    thumbnail_bytes,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "DOWNLOAD_MEDIA_TYPES",
    "MAX_INSTRUCTIONS",
    "MAX_TEXT",
    "MAX_UPLOAD_BYTES",
    "MAX_VARIATIONS",
    "PLACEMENTS",
    "PLACEMENT_EXPORTS",
    "QUALITIES",
    "STYLES",
    "ConversionTooLarge",
    "DraftSource",
    "GenerationResult",
    "GenerationSummary",
    "ImageFile",
    "ImageProvider",
    "InvalidImage",
    "InvalidRequest",
    "JobQueue",
    "JobWorker",
    "NewAdSession",
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
    "drop_refusal",
    "forget_images",
    "ingest_source",
    "job_progress",
    "job_queue",
    "media_type_of",
    "open_untrusted",
    "owned_image_file",
    "owned_placement",
    "owned_placements_zip",
    "owned_thumbnail",
    "owns_image",
    "placements_zip",
    "provider_for",
    "requeue_lapsed",
    "restore_new_ad",
    "result_of",
    "run_generation",
    "run_worker",
    "save_draft",
    "serve_in_process",
    "start_generation",
    "submit_generation",
    "thumbnail_bytes",
    "use_result_as_source",
]
