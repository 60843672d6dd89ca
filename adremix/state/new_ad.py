"""New Ad: the upload, the options and the running generations on this page."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import reflex as rx

from adremix.db import session_scope
from adremix.services import generation as generations
from adremix.services import library
from adremix.services.image_providers import provider_for
from adremix.services.images import InvalidImage
from adremix.services.storage import LocalStorage
from adremix.services.templates import (
    PLACEMENTS,
    QUALITIES,
    TEMPLATES,
    InvalidRequest,
    RemixOptions,
)
from adremix.settings import get_settings
from adremix.state.errors import user_message
from adremix.state.session import SessionState

UPLOAD_ID = "source-upload"
STAGE_LABELS = {
    "queued": "Starting…",
    "preparing": "Preparing your image…",
    "generating": "Generating…",
    "finishing": "Finishing…",
}


def _storage() -> LocalStorage:
    return LocalStorage(get_settings().storage_dir)


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
    template: str = "minimal"
    placement: str = "square"
    quality: str = "medium"
    variations: int = 1
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
        return f"/files/source/{self.source_sha}" if self.source_sha else ""

    @rx.var
    def cost(self) -> int:
        return self.variations

    @rx.var
    def instructions_length(self) -> int:
        return len(self.instructions)

    @rx.event
    async def load(self) -> None:
        settings = get_settings()
        self.engine_label = (
            f"OpenAI {settings.openai_image_model}" if settings.openai_api_key else "Offline engine"
        )
        self.request_key = self.request_key or _new_request_id()
        user_id = await self._user_id()
        if user_id is not None and not self.jobs and not self.instructions:
            self._apply_preferences(*await asyncio.to_thread(_preferences_and_templates, user_id))
        remix = self.router.url.query_parameters.get("remix", "")
        if remix:
            await self._use_result(remix)

    def _apply_preferences(self, prefs: dict, saved: list) -> None:
        self.template = prefs["default_template"]
        self.placement = prefs["default_placement"]
        self.quality = prefs["default_quality"]
        self.variations = int(prefs["default_variations"])
        self.saved_templates = [SavedTemplate(id=str(t.id), name=t.name) for t in saved]

    @rx.event
    async def use_saved_template(self, template_id: str):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return None
        try:
            with session_scope() as session:
                options = library.template_options(
                    session=session, user_id=user_id, template_id=int(template_id)
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

    async def _user_id(self) -> int | None:
        return (await self.get_state(SessionState)).current_user_id()

    async def _use_result(self, sha: str) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        try:
            upload = await asyncio.to_thread(
                generations.use_result_as_source, user_id=user_id, sha256=sha, storage=_storage()
            )
        except (InvalidRequest, InvalidImage, OSError):
            return
        self._show_source(upload)
        self.source_note = "Remixing an earlier result."

    def _show_source(self, upload: generations.SourceUpload) -> None:
        self.source_sha = upload.sha256
        self.source_size = f"{upload.width} x {upload.height} px"
        self.source_note = " ".join(upload.notes)

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        if not files:
            return
        user_id = await self._user_id()
        if user_id is None:
            return
        self.uploading = True
        yield
        try:
            data = await files[0].read()
            upload = await asyncio.to_thread(
                generations.ingest_source, user_id=user_id, data=data, storage=_storage()
            )
        except InvalidImage as exc:
            self.uploading = False
            yield rx.toast.error(user_message(exc))
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
        if code in TEMPLATES:
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
        self.variations = max(1, min(4, int(value or 1)))

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

    def _update_job(self, generation_id: int, **changes: object) -> None:
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
            user_id = await self._user_id()
            options = self._options()
            source_sha, fresh, form_key = self.source_sha, self.fresh, self._form_key()
            self.starting = True
        settings = get_settings()
        provider = provider_for(settings)
        try:
            if user_id is None:
                raise InvalidRequest("Please sign in again.")
            if not source_sha:
                raise InvalidRequest("Upload an ad image first.")
            started = await asyncio.to_thread(
                generations.start_generation,
                user_id=user_id,
                client_request_id=request_key if isinstance(request_key, str) else "",
                source_sha256=source_sha,
                options=options,
                provider=provider.name,
                model=provider.model,
                fresh=fresh,
            )
        except Exception as exc:  # whatever it was, the press is answered
            async with self:
                self.starting = False
                self.press_ack += 1
            yield rx.toast.error(user_message(exc))
            return
        summary = await asyncio.to_thread(
            generations.generation_for, user_id=user_id, generation_id=started.generation_id
        )
        async with self:
            self.starting = False
            self.press_ack += 1
            if request_key == self.request_key:
                self.request_key = _new_request_id()  # the next press is a new intent
                self.last_accepted_form = form_key
            known = any(job.id == started.generation_id for job in self.jobs)
            if summary is not None and not known:
                # The card appears at once, whichever copy of the press got here first.
                self.jobs = [_job_from(summary), *self.jobs]
        if started.repeated:
            return  # a copy of a press already accepted: its own task runs the job
        yield SessionState.refresh_balance
        if started.cached:
            yield rx.toast.success("Identical request: served from your earlier result, free.")
            return

        async def progress(stage: str, done: int) -> None:
            async with self:
                self._update_job(
                    started.generation_id,
                    stage=STAGE_LABELS.get(stage, stage),
                    done=done,
                    pending=list(range(max(0, options.variations - done))),
                )

        result = await generations.run_generation(
            generation_id=started.generation_id,
            provider=provider,
            storage=_storage(),
            progress=progress,
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
        if result.status == "succeeded":
            yield rx.toast.success(f"{len(result.delivered)} new creative(s) ready.")
        elif result.status == "partial":
            yield rx.toast.warning(
                f"{len(result.delivered)} of {options.variations} images were made; "
                f"{result.failed} credit(s) refunded. {result.error_message or ''}"
            )
        else:
            yield rx.toast.error(
                f"{result.error_message or 'Generation failed.'} Your credits were refunded."
            )


def _preferences_and_templates(user_id: int) -> tuple[dict, list]:
    with session_scope() as session:
        return (
            library.get_preferences(session=session, user_id=user_id),
            library.list_templates(session=session, user_id=user_id),
        )


def _job_from(summary: generations.GenerationSummary) -> JobView:
    running = summary.status in generations.ACTIVE_STATUSES
    done = len(summary.output_hashes)
    return JobView(
        id=summary.id,
        status=summary.status,
        stage=STAGE_LABELS["queued"] if running else "",
        done=done,
        total=summary.variations,
        pending=list(range(summary.variations - done)) if running else [],
        images=summary.output_hashes,
        error=summary.error_message or "",
        instructions=summary.instructions[:120],
        cached=summary.cached,
    )
