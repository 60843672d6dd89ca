"""New Ad: the upload, the options and the running generations on this page."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import reflex as rx

from adremix.blocking import call
from adremix.enums import (
    ACTIVE_GENERATION_STATUSES,
    GenerationStage,
    GenerationStatus,
    ImageKind,
    LimitedAction,
)
from adremix.services import generation, library
from adremix.services.generation import (
    DEFAULT_OPTIONS,
    MAX_VARIATIONS,
    PLACEMENTS,
    QUALITIES,
    STYLES,
    RemixOptions,
)
from adremix.settings import get_settings
from adremix.state.errors import error_toast
from adremix.state.limits import count_attempt
from adremix.state.session import SessionState, current_user_id
from adremix.urls import file_url

UPLOAD_ID = "source-upload"
STAGE_LABELS = {
    GenerationStage.QUEUED: "Starting…",
    GenerationStage.PREPARING: "Preparing your image…",
    GenerationStage.GENERATING: "Generating…",
    GenerationStage.FINISHING: "Finishing…",
}


def _new_request_id() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass
class SavedTemplate:
    id: str
    name: str


@dataclasses.dataclass
class JobView:
    """One generation as the page shows it."""

    id: int
    status: str
    stage: str
    done: int
    total: int
    pending: list[int]
    images: list[str]
    error: str
    instructions: str
    cached: bool


class NewAdState(rx.State):
    source_sha: str = ""
    source_note: str = ""
    source_size: str = ""
    uploading: bool = False
    instructions: str = ""
    template: str = DEFAULT_OPTIONS.template
    placement: str = DEFAULT_OPTIONS.placement
    quality: str = DEFAULT_OPTIONS.quality
    variations: int = DEFAULT_OPTIONS.variations
    headline: str = ""
    call_to_action: str = ""
    brand_colors: str = ""
    keep_product: bool = False
    fresh: bool = False
    starting: bool = False
    # The idempotency key of the form's current intent, rendered into Generate's press.
    request_key: str = ""
    # Incremented once per press answered (accepted, repeated or refused): releases the
    # busy Generate button (components/one_press.py).
    press_ack: int = 0
    last_accepted_form: str = ""
    engine_label: str = ""
    jobs: list[JobView] = []
    saved_templates: list[SavedTemplate] = []
    saved_template_id: str = ""

    @rx.var
    def source_url(self) -> str:
        return file_url(self.source_sha, ImageKind.SOURCE) if self.source_sha else ""

    @rx.var
    def cost(self) -> int:
        return generation.credits_for(self._options())

    @rx.var
    def instructions_length(self) -> int:
        return len(self.instructions)

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        settings = get_settings()
        self.engine_label = (
            f"OpenAI {settings.openai_image_model}" if settings.openai_api_key else "Offline engine"
        )
        self.request_key = self.request_key or _new_request_id()
        user_id = await current_user_id(self)
        if user_id is not None and not self.jobs and not self.instructions:
            defaults = await call(library.new_ad_defaults, user_id=user_id)
            prefs = defaults.preferences
            self.template = prefs["default_template"]
            self.placement = prefs["default_placement"]
            self.quality = prefs["default_quality"]
            self.variations = int(prefs["default_variations"])
            self.saved_templates = [
                SavedTemplate(id=str(t.id), name=t.name) for t in defaults.saved_templates
            ]
        remix = self.router.url.query_parameters.get("remix", "")
        if remix and user_id is not None:
            return NewAdState.use_result(remix)
        return None

    @rx.event
    async def use_saved_template(self, template_id: str):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            options = await call(
                library.template_options, user_id=user_id, template_id=int(template_id)
            )
        except (library.LibraryError, ValueError):
            return rx.toast.error("That template no longer exists.")
        self.saved_template_id = template_id
        self.instructions = str(options.get("instructions", self.instructions))
        self.template = str(options.get("template", self.template))
        self.placement = str(options.get("placement", self.placement))
        self.quality = str(options.get("quality", self.quality))
        self.variations = int(options.get("variations", self.variations))
        self.headline = str(options.get("headline", ""))
        self.call_to_action = str(options.get("call_to_action", ""))
        self.brand_colors = str(options.get("brand_colors", ""))
        self.keep_product = bool(options.get("keep_product", False))
        return rx.toast.info("Template applied.")

    @rx.event
    async def use_result(self, sha: str) -> None:
        """ "Remix this": an earlier result becomes the source (silently ignored if gone)."""
        user_id = await current_user_id(self)
        if user_id is None:
            return
        try:
            upload = await call(generation.use_result_as_source, user_id=user_id, sha256=sha)
        except (generation.InvalidRequest, generation.InvalidImage, OSError):
            return
        self._show_source(upload)
        self.source_note = "Remixing an earlier result."

    def _show_source(self, upload: generation.SourceUpload) -> None:
        self.source_sha = upload.sha256
        self.source_size = f"{upload.width} x {upload.height} px"
        self.source_note = " ".join(upload.notes)

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        if not files:
            return
        user_id = await current_user_id(self)
        if user_id is None:
            return
        self.uploading = True
        yield
        try:
            await count_attempt(self, LimitedAction.UPLOAD, user_id)
            data = await files[0].read()
            upload = await call(generation.ingest_source, user_id=user_id, data=data)
        except Exception as exc:
            self.uploading = False
            yield error_toast(self, exc)
            return
        self.uploading = False
        self._show_source(upload)
        if upload.notes:
            yield rx.toast.info(" ".join(upload.notes))

    @rx.event
    def clear_source(self) -> None:
        self.source_sha = ""
        self.source_note = ""
        self.source_size = ""

    @rx.event
    def set_template(self, code: str) -> None:
        if code in STYLES:
            self.template = code

    @rx.event
    def set_placement(self, value: str | list[str]) -> None:
        if isinstance(value, str) and value in PLACEMENTS:
            self.placement = value

    @rx.event
    def set_quality(self, value: str | list[str]) -> None:
        if isinstance(value, str) and value in QUALITIES:
            self.quality = value

    @rx.event
    def set_variations(self, value: str) -> None:
        self.variations = max(1, min(MAX_VARIATIONS, int(value or 1)))

    @rx.event
    def set_instructions(self, value: str) -> None:
        self.instructions = value

    @rx.event
    def set_headline(self, value: str) -> None:
        self.headline = value

    @rx.event
    def set_call_to_action(self, value: str) -> None:
        self.call_to_action = value

    @rx.event
    def set_brand_colors(self, value: str) -> None:
        self.brand_colors = value

    @rx.event
    def set_keep_product(self, value: bool) -> None:
        self.keep_product = value

    @rx.event
    def set_fresh(self, value: bool) -> None:
        self.fresh = value

    def _options(self) -> RemixOptions:
        return RemixOptions(
            instructions=self.instructions,
            template=self.template,
            placement=self.placement,
            quality=self.quality,
            variations=self.variations,
            headline=self.headline,
            call_to_action=self.call_to_action,
            brand_colors=self.brand_colors,
            keep_product=self.keep_product,
        )

    def _update_job(self, generation_id: int, **changes: Any) -> None:
        self.jobs = [
            dataclasses.replace(job, **changes) if job.id == generation_id else job  # type: ignore[arg-type]
            for job in self.jobs
        ]

    @rx.var
    def generate_label(self) -> str:
        """ "Generate again" while the form is exactly what the last accepted job used."""
        same = self.last_accepted_form != "" and self.last_accepted_form == self._form_key()
        return "Generate again" if same else "Generate"

    def _form_key(self) -> str:
        """What the user is asking for: the source, every option and the cache choice."""
        return json.dumps(
            [self.source_sha, dataclasses.asdict(self._options()), self.fresh], sort_keys=True
        )

    @rx.event(background=True)
    async def generate(self, request_key: str):  # type: ignore[no-untyped-def]
        """Start a job for the form's current intent.

        `request_key` is the intent's idempotency key, rendered into the button: every
        copy of this press (a double click, a replayed or re-sent websocket event, a second
        worker) carries the same key, and the service turns repeats into the job that
        already exists, free. The key is rotated only once a job has been accepted for it.
        """
        async with self:
            user_id = await current_user_id(self)
            options = self._options()
            source_sha, fresh, form_key = self.source_sha, self.fresh, self._form_key()
            self.starting = True
        try:
            await count_attempt(self, LimitedAction.GENERATION, user_id)
            if user_id is None:
                raise generation.InvalidRequest("Please sign in again.")
            started = await call(
                generation.start_generation,
                user_id=user_id,
                client_request_id=request_key if isinstance(request_key, str) else "",
                source_sha256=source_sha,
                options=options,
                fresh=fresh,
            )
        except Exception as exc:  # whatever it was, the press is answered
            async with self:
                self.starting = False
                self.press_ack += 1
                toast = error_toast(self, exc)
            yield toast
            return
        async with self:
            self.starting = False
            self.press_ack += 1
            if request_key == self.request_key:
                self.request_key = _new_request_id()  # the next press is a new intent
                self.last_accepted_form = form_key
            if not any(job.id == started.generation_id for job in self.jobs):
                # The card appears at once, whichever copy of the press got here first.
                self.jobs = [_job_from(started.summary), *self.jobs]
        if started.repeated:
            return  # a copy of a press already accepted: its own task runs the job
        yield SessionState.refresh_balance
        if started.cached:
            yield rx.toast.success("Identical request: served from your earlier result, free.")
            return

        async def progress(stage: GenerationStage, done: int) -> None:
            async with self:
                self._update_job(
                    started.generation_id,
                    stage=STAGE_LABELS.get(stage, stage),
                    done=done,
                    pending=list(range(max(0, options.variations - done))),
                )

        # Async all the way: the provider's HTTP calls are awaited, and the service hands
        # its own database and Pillow work to threads.
        result = await generation.run_generation(
            generation_id=started.generation_id, progress=progress
        )
        async with self:
            self._update_job(
                started.generation_id,
                status=result.status,
                stage="",
                images=result.delivered,
                pending=[],
                error=result.error_message or "",
            )
        yield SessionState.refresh_balance
        if result.status == GenerationStatus.SUCCEEDED:
            yield rx.toast.success(f"{len(result.delivered)} new creative(s) ready.")
        elif result.status == GenerationStatus.PARTIAL:
            yield rx.toast.warning(
                f"{len(result.delivered)} of {options.variations} images were made; "
                f"{result.failed} credit(s) refunded. {result.error_message or ''}"
            )
        else:
            yield rx.toast.error(
                f"{result.error_message or 'Generation failed.'} Your credits were refunded."
            )


def _job_from(summary: generation.GenerationSummary) -> JobView:
    running = summary.status in ACTIVE_GENERATION_STATUSES
    done = len(summary.output_hashes)
    return JobView(
        id=summary.id,
        status=summary.status,
        stage=STAGE_LABELS[GenerationStage.QUEUED] if running else "",
        done=done,
        total=summary.variations,
        pending=list(range(summary.variations - done)) if running else [],
        images=summary.output_hashes,
        error=summary.error_message or "",
        instructions=summary.instructions[:120],
        cached=summary.cached,
    )
