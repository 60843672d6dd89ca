"""Every websocket event to our states passes here first (a Reflex app middleware).

The browser is not trusted: a crafted event can name any handler with any arguments.
Events whose arguments do not fit the handler (missing, unknown, wrong shape, huge) are
refused before the handler runs, so the state stays as it was, and the tab sees one
generic message. A tab without a signed-in user may only reach the sign-in states: its
server-side state stays the size of the defaults, and expires with Reflex's token
expiry like any other. Events to the admin console's states are dropped, silently, unless
the tab's user is staff right now (read from the database, not from the tab's state):
a normal user injecting them learns nothing, not even that the console exists.
"""

from __future__ import annotations

import inspect
import json
import logging
import types
import typing
from typing import Any

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from adremix.blocking import call
from adremix.services.accounts import signed_in_user
from adremix.state.admin import AdminState
from adremix.state.errors import GENERIC_MESSAGE
from adremix.state.session import LoginState, SessionState, session_hash

log = logging.getLogger(__name__)

# Far above anything the pages send (instructions are at most 2,000 characters).
MAX_PAYLOAD_BYTES = 32 * 1024
MAX_STRING_CHARS = 5_000
SCALARS = (str, int, float, bool)
# Reachable without a signed-in user: who is signed in, and the login page.
OPEN_STATES = (SessionState, LoginState)


class EventGuard(Middleware):
    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        found = _our_handler(state, event)
        if found is None:
            return None  # Reflex's own events (hydrate, client storage, uploads' plumbing)
        state_class, handler = found
        problem = _argument_problem(handler.fn, event.payload)
        if problem:
            log.warning("Refused event %s: %s", event.name, problem)
            return StateUpdate(events=Event.from_event_type(rx.toast.error(GENERIC_MESSAGE)))
        if not issubclass(state_class, OPEN_STATES):
            session = await state.get_state(SessionState)
            if not session.signed_in:
                return StateUpdate()  # nothing for a tab that nobody is signed in to
        if issubclass(state_class, AdminState):
            user = await call(signed_in_user, token_hash=session_hash(state))
            if user is None or not user.role:
                log.warning("Refused admin event %s from a non-staff tab", event.name)
                return StateUpdate()
        return None


def _our_handler(state: BaseState, event: Event) -> tuple[type[BaseState], Any] | None:
    state_path, _, name = event.name.rpartition(".")
    try:
        state_class = type(state).get_class_substate(state_path)
    except ValueError:
        return None
    if not state_class.__module__.startswith("adremix.state."):
        return None
    handler = state_class.event_handlers.get(name)
    return (state_class, handler) if handler is not None else None


def _argument_problem(fn: Any, payload: dict[str, Any]) -> str:
    """Why `payload` cannot be the arguments of `fn`; empty when it can."""
    if not isinstance(payload, dict):
        return "payload is not an object"
    try:
        size = len(json.dumps(payload, default=str))
    except (TypeError, ValueError):
        return "payload is not JSON"
    if size > MAX_PAYLOAD_BYTES:
        return f"payload of {size} bytes"
    parameters = list(inspect.signature(fn).parameters.values())[1:]  # after self
    hints = typing.get_type_hints(fn)
    names = {p.name for p in parameters}
    if unknown := set(payload) - names:
        return f"unknown arguments {sorted(unknown)}"
    for parameter in parameters:
        if parameter.name not in payload:
            if parameter.default is inspect.Parameter.empty:
                return f"missing argument {parameter.name}"
            continue
        if not _fits(payload[parameter.name], hints.get(parameter.name, Any)):
            return f"argument {parameter.name} has the wrong type"
    return ""


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` has the shape `hint` asks for (coercion is Reflex's job)."""
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        return False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    target = origin or hint
    if target in SCALARS:
        return isinstance(value, SCALARS)
    if target in (list, tuple, set):
        return isinstance(value, list | tuple) and all(
            _fits(item, _element_hint(hint)) for item in value
        )
    if target is dict:
        return isinstance(value, dict)
    return True  # Reflex's own types (uploaded files) are Reflex's to check


def _element_hint(hint: Any) -> Any:
    args = typing.get_args(hint)
    return args[0] if args and args[0] in SCALARS else Any
