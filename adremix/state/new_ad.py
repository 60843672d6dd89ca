"""New Ad: the upload, the options and the running generations on this page."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid

import reflex as rx

from adremix.blocking import call
from adremix.enums import (
    ACTIVE_GENERATION_STATUSES,
    GenerationStage,
    GenerationStatus,
    ImageKind,
    LimitedAction,
)
from adremix.services import brand, generation, library
from adremix.services.generation import (
    DEFAULT_OPTIONS,
    LANGUAGES,
    MAX_TEXT,
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
    GenerationStage.QUEUED: "Waiting for a worker…",
    GenerationStage.GENERATING: "Generating…",
}
# How often the page reads running jobs' progress from the database.
PROGRESS_POLL_S = 0.75
# A watcher that has not reported for this long died with its web worker.
WATCHER_STALE_S = 5.0


def _new_request_id() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass
class KitChoice:
    id: str
    name: str


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
    image_alt: str


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
    language: str = DEFAULT_OPTIONS.language
    # The brand kit to use (0: none); the user's default kit is preselected.
    brand_kit_id: int = 0
    kits: list[KitChoice] = []
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
    # The progress watcher now running for this page (backend only) and its last beat.
    _watcher: str = ""
    _watcher_beat: float = 0.0

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
    async def load(self) -> list[rx.event.EventSpec] | None:
        """The whole form in one update: every update of this state re-renders every part
        of the page bound to it, so the defaults, the restored draft and the kits are
        not sent one event after another."""
        settings = get_settings()
        self.engine_label = (
            f"OpenAI {settings.openai_image_model}" if settings.openai_api_key else "Offline engine"
        )
        self.request_key = self.request_key or _new_request_id()
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        if not self.jobs and not self.instructions:
            defaults = await call(library.new_ad_defaults, user_id=user_id)
            prefs = defaults.preferences
            self.template = prefs["default_template"]
            self.placement = prefs["default_placement"]
            self.quality = prefs["default_quality"]
            self.variations = int(prefs["default_variations"])
            self.saved_templates = [
                SavedTemplate(id=str(t.id), name=t.name) for t in defaults.saved_templates
            ]
        if not self.jobs and not self.source_sha:
            # A fresh page state (new tab, or a restart lost it): bring back the form
            # and the jobs from the database.
            await self._restore(user_id)
        await self._load_kits(user_id)
        follow_ups: list[rx.event.EventSpec] = []
        remix = self.router.url.query_parameters.get("remix", "")
        if remix:
            follow_ups.append(NewAdState.use_result(remix))
        if any(_active(job) for job in self.jobs):
            # Every (re)connect runs load: a watcher that died with its web worker restarts.
            follow_ups.append(NewAdState.watch_jobs)
        return follow_ups or None

    async def _load_kits(self, user_id: int) -> None:
        """The kit choices; the default kit is preselected on a fresh form."""
        kits = await call(brand.list_kits, user_id=user_id)
        self.kits = [KitChoice(id=str(k.id), name=k.name) for k in kits]
        known = {k.id for k in kits}
        if self.brand_kit_id not in known:
            default = next((k.id for k in kits if k.is_default), 0)
            # A fresh form gets the default kit; a restored one keeps "no kit".
            self.brand_kit_id = 0 if self.jobs or self.instructions else default

    @rx.event
    def set_brand_kit(self, value: str) -> rx.event.EventSpec:
        self.brand_kit_id = int(value) if value.isdigit() else 0
        return NewAdState.remember_form

    @rx.event
    def set_language(self, value: str) -> rx.event.EventSpec | None:
        if value in LANGUAGES:
            self.language = value
            return NewAdState.remember_form
        return None

    async def _restore(self, user_id: int) -> None:
        """The form and the jobs as the user left them (reload, reconnect, restart)."""
        restored = await call(generation.restore_new_ad, user_id=user_id)
        if restored.source is not None and not self.source_sha:
            self.source_sha = restored.source.sha256
            self.source_size = f"{restored.source.width} x {restored.source.height} px"
        for name, value in restored.options.items():
            setattr(self, name, value)
        known = {job.id for job in self.jobs}
        self.jobs = [*self.jobs, *(_job_from(s) for s in restored.jobs if s.id not in known)]

    @rx.event
    async def remember_form(self) -> None:
        """Keep the form as a draft, so a reload or a restart does not lose it."""
        user_id = await current_user_id(self)
        if user_id is None:
            return
        await call(
            generation.save_draft,
            user_id=user_id,
            source_sha256=self.source_sha,
            options=dataclasses.asdict(self._options()) | {"fresh": self.fresh},
        )

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
    async def use_result(self, sha: str) -> rx.event.EventSpec | None:
        """ "Remix this": an earlier result becomes the source (silently ignored if gone)."""
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            upload = await call(generation.use_result_as_source, user_id=user_id, sha256=sha)
        except (generation.InvalidRequest, generation.InvalidImage, OSError):
            return None
        self._show_source(upload)
        self.source_note = "Remixing an earlier result."
        return NewAdState.remember_form  # type: ignore[return-value]

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
        yield NewAdState.remember_form
        if upload.notes:
            yield rx.toast.info(" ".join(upload.notes))

    @rx.event
    def refuse_files(self, codes: list[str]) -> rx.event.EventSpec:
        """The drop zone refused files before uploading them (react-dropzone's error
        codes): say why, in our words."""
        return error_toast(self, generation.drop_refusal(codes))

    @rx.event
    def clear_source(self) -> rx.event.EventSpec:
        self.source_sha = ""
        self.source_note = ""
        self.source_size = ""
        return NewAdState.remember_form

    # Choices are kept at once; free text when its field loses focus (on_blur).
    @rx.event
    def set_template(self, code: str) -> rx.event.EventSpec | None:
        if code in STYLES:
            self.template = code
            return NewAdState.remember_form
        return None

    @rx.event
    def set_placement(self, value: str | list[str]) -> rx.event.EventSpec | None:
        if isinstance(value, str) and value in PLACEMENTS:
            self.placement = value
            return NewAdState.remember_form
        return None

    @rx.event
    def set_quality(self, value: str | list[str]) -> rx.event.EventSpec | None:
        if isinstance(value, str) and value in QUALITIES:
            self.quality = value
            return NewAdState.remember_form
        return None

    @rx.event
    def set_variations(self, value: str) -> rx.event.EventSpec:
        self.variations = max(1, min(MAX_VARIATIONS, int(value or 1)))
        return NewAdState.remember_form

    @rx.event
    def take_copy(self, field: str, text: str) -> list[rx.event.EventSpec]:
        """A suggested headline or CTA goes into the form (cut to the form's limit)."""
        if field in ("headline", "call_to_action"):
            setattr(self, field, text[:MAX_TEXT])
        return [NewAdState.remember_form, rx.toast.info("Copied into the form.")]

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
    def set_keep_product(self, value: bool) -> rx.event.EventSpec:
        self.keep_product = value
        return NewAdState.remember_form

    @rx.event
    def set_fresh(self, value: bool) -> rx.event.EventSpec:
        self.fresh = value
        return NewAdState.remember_form

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
            language=self.language,
            brand_kit_id=self.brand_kit_id,
        )

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
        The job itself runs on the queue; the page follows it from the database.
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
            started = await generation.submit_generation(
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
            return  # a copy of a press already accepted: its job exists already
        yield SessionState.refresh_balance
        yield NewAdState.remember_form
        if started.cached:
            yield rx.toast.success("Identical request: served from your earlier result, free.")
            return
        yield NewAdState.watch_jobs

    @rx.event(background=True)
    async def watch_jobs(self):  # type: ignore[no-untyped-def]
        """Follow running jobs from the database until none is left running.

        Whichever web worker holds the page's websocket runs this; if that worker dies,
        the reconnect's `load` starts a new watcher. One watcher per page: a newer one
        replaces an older one, and one that stopped beating is replaced.
        """
        me = uuid.uuid4().hex
        async with self:
            alive = self._watcher and time.time() - self._watcher_beat < WATCHER_STALE_S
            if alive or not any(_active(job) for job in self.jobs):
                return
            self._watcher, self._watcher_beat = me, time.time()
            user_id = await current_user_id(self)
        if user_id is None:
            return
        while True:
            await asyncio.sleep(PROGRESS_POLL_S)
            async with self:
                if self._watcher != me:
                    return
                self._watcher_beat = time.time()
                watched = [job.id for job in self.jobs if _active(job)]
                if not watched:
                    self._watcher = ""
                    return
            try:
                progress = await call(
                    generation.job_progress, user_id=user_id, generation_ids=watched
                )
            except Exception:  # the database is briefly unreachable: try again
                continue
            async with self:
                finished = self._apply_progress(progress)
            if finished:
                yield SessionState.refresh_balance
                for summary in finished:
                    yield _finished_toast(summary)

    def _apply_progress(
        self, progress: list[generation.GenerationSummary]
    ) -> list[generation.GenerationSummary]:
        """Show the jobs' progress; returns those that finished since the last look."""
        by_id = {summary.id: summary for summary in progress}
        finished = [
            by_id[job.id]
            for job in self.jobs
            if _active(job) and job.id in by_id and not _running(by_id[job.id])
        ]
        self.jobs = [
            _job_from(by_id[job.id], cached=job.cached) if job.id in by_id else job
            for job in self.jobs
        ]
        return finished


def _running(summary: generation.GenerationSummary) -> bool:
    return summary.status in ACTIVE_GENERATION_STATUSES


def _active(job: JobView) -> bool:
    return job.status in ACTIVE_GENERATION_STATUSES


def _finished_toast(summary: generation.GenerationSummary) -> rx.event.EventSpec:
    delivered = len(summary.output_hashes)
    if summary.status == GenerationStatus.SUCCEEDED:
        return rx.toast.success(f"{delivered} new creative(s) ready.")
    if summary.status == GenerationStatus.PARTIAL:
        return rx.toast.warning(
            f"{delivered} of {summary.variations} images were made; "
            f"{summary.failed} credit(s) refunded. {summary.error_message or ''}"
        )
    return rx.toast.error(
        f"{summary.error_message or 'Generation failed.'} Your credits were refunded."
    )


def _job_from(summary: generation.GenerationSummary, *, cached: bool = False) -> JobView:
    running = _running(summary)
    done = len(summary.output_hashes) + summary.failed
    stage = GenerationStage.QUEUED if summary.queued else GenerationStage.GENERATING
    return JobView(
        id=summary.id,
        status=summary.status,
        stage=STAGE_LABELS[stage] if running else "",
        done=done,
        total=summary.variations,
        pending=list(range(summary.variations - done)) if running else [],
        images=summary.output_hashes,
        error=summary.error_message or "",
        instructions=summary.instructions[:120],
        cached=summary.cached or cached,
        image_alt=summary.image_description,
    )
