"""A browser tab without the browser: Reflex's websocket (Engine.IO 4 / Socket.IO 5), spoken
by hand over `simple_websocket`, so tests can open many tabs cheaply.

A tab is a client token whose state the server keeps; the session cookie of the tab's
websocket handshake is what the tab's state knows of the user, exactly as in a browser.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from typing import Any

from simple_websocket import Client, ConnectionClosed

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"


class ReflexTab:
    """One connected tab; `close()` disconnects it (its state stays on the server)."""

    def __init__(self, base_url: str, *, cookie: str = "", path: str = "/new") -> None:
        self.token = str(uuid.uuid4())
        self.cookie = cookie
        self.path = path
        ws_url = base_url.replace("http://", "ws://", 1)
        headers = {"Cookie": cookie} if cookie else {}
        self._ws = Client.connect(
            f"{ws_url}{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}",
            headers=headers,
        )
        # Connect to the namespace at once: Engine.IO's own "open" packet can arrive in the
        # same read as the HTTP upgrade, where simple_websocket only sees it once more data
        # comes; the namespace's answer is that data.
        self._ws.send(f"40{NAMESPACE},")
        self._hydrated = threading.Event()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # The first event of a tab, as the browser sends it: it links the token, and
        # the state keeps the handshake's headers (the cookie) as the tab's router data.
        self.emit(f"{ROOT_STATE}.hydrate")
        if not self._hydrated.wait(timeout=30):
            raise TimeoutError("the tab was not hydrated")

    def emit(self, handler: str, payload: dict[str, Any] | None = None) -> None:
        event = {
            "name": handler,
            "payload": payload or {},
            "router_data": {"pathname": self.path, "query": {}, "asPath": self.path},
        }
        self._ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))

    def _read(self) -> None:
        # The server may close the socket between a ping and its answer (a refused
        # tab, the app stopping): the reader then just ends.
        with contextlib.suppress(ConnectionClosed):
            while not self._closed:
                message = self._ws.receive(timeout=1)
                if message is None:
                    continue
                if message == "2":  # Engine.IO ping: a tab that never answers is dropped
                    self._ws.send("3")
                elif message.startswith(f"42{NAMESPACE},"):
                    self._hydrated.set()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(ConnectionClosed):
            self._ws.close()
