"""'Edit a region' in History: paint a mask over a result, describe the change, generate.

Generate is a one-press button like New Ad's: the press carries the dialog's idempotency
key, rotated once a job has been accepted, so a repeated press starts (and charges) one
edit.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from adremix.enums import LimitedAction
from adremix.services import generation
from adremix.state.errors import error_toast
from adremix.state.limits import count_attempt
from adremix.state.session import SessionState, current_user_id
from adremix.urls import file_url

CANVAS_WIDTH = 512
# What one dialog keeps before Generate (the service checks again): a tab cannot grow
# its server-side state without bound by sending strokes.
MAX_PATHS = 100
MAX_POINTS = 20_000


class RegionEditState(rx.State):
    open: bool = False
    parent_id: int = 0
    result_sha: str = ""
    canvas_height: int = CANVAS_WIDTH
    brush: int = 32
    instructions: str = ""
    request_key: str = ""
    press_ack: int = 0
    starting: bool = False
    # Remounts the canvas (a clean sheet) when it changes.
    canvas_key: int = 0
    _paths: list[dict[str, Any]] = []
    painted: int = 0  # strokes so far, for the button and the hint

    @rx.var
    def image_url(self) -> str:
        return file_url(self.result_sha) if self.result_sha else ""

    @rx.event
    def open_editor(self, generation_id: int, sha: str, canvas_height: int) -> None:
        self.open = True
        self.parent_id, self.result_sha = generation_id, sha
        self.canvas_height = max(64, min(2048, int(canvas_height)))
        self.instructions = ""
        self.request_key = uuid.uuid4().hex
        self._clear()

    def _clear(self) -> None:
        self._paths = []
        self.painted = 0
        self.canvas_key += 1

    @rx.event
    def clear(self) -> None:
        self._clear()

    @rx.event
    def set_open(self, value: bool) -> None:
        self.open = value

    @rx.event
    def set_brush(self, value: str) -> None:
        if value.isdigit():
            self.brush = max(4, min(120, int(value)))

    @rx.event
    def set_instructions(self, value: str) -> None:
        self.instructions = value

    @rx.event
    def add_stroke(self, path: dict[str, Any]) -> rx.event.EventSpec | None:
        points = path.get("paths") if isinstance(path, dict) else None
        if not isinstance(points, list):
            return None
        held = sum(len(p.get("paths", [])) for p in self._paths)
        if len(self._paths) >= MAX_PATHS or held + len(points) > MAX_POINTS:
            return rx.toast.warning("That is enough painting for one edit: Clear to start over.")
        self._paths = [*self._paths, path]
        self.painted = len(self._paths)
        return None

    @rx.event(background=True)
    async def generate(self, request_key: str):  # type: ignore[no-untyped-def]
        """Start the edit for this press (see the module docstring)."""
        async with self:
            user_id = await current_user_id(self)
            edit = {
                "parent_id": self.parent_id,
                "result_sha256": self.result_sha,
                "paths": list(self._paths),
                "canvas": (float(CANVAS_WIDTH), float(self.canvas_height)),
                "instructions": self.instructions,
            }
            self.starting = True
        try:
            await count_attempt(self, LimitedAction.GENERATION, user_id)
            if user_id is None:
                raise generation.InvalidRequest("Please sign in again.")
            started = await generation.submit_region_edit(
                user_id=user_id,
                client_request_id=request_key if isinstance(request_key, str) else "",
                parent_id=edit["parent_id"],
                result_sha256=edit["result_sha256"],
                paths=edit["paths"],
                canvas=edit["canvas"],
                instructions=edit["instructions"],
            )
        except Exception as exc:
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
                self.request_key = uuid.uuid4().hex
            self.open = False
        if started.repeated:
            return
        yield SessionState.refresh_balance
        yield rx.toast.success(
            f"Edit started as generation #{started.generation_id}: it appears in History."
        )
