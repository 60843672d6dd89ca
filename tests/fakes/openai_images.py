"""A fake of the OpenAI Images API on 127.0.0.1 for the real `openai` SDK (`base_url`).

`POST /v1/images/edits` (multipart) and `/v1/images/generations` (JSON) answer like the
GPT image models: base64 PNGs plus token usage. Tests script what the next requests get:
"ok", ("status", 429 / 500), "refuse" (content policy), ("delay", s), "bad_image",
"not_base64".
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image, ImageOps

from tests.fakes.http_server import LoopbackServer

API_KEY = "sk-test-fake-openai"
SIZES = {"1024x1024": (1024, 1024), "1536x1024": (1536, 1024), "1024x1536": (1024, 1536)}
QUALITIES = {"low", "medium", "high", "auto"}
Behaviour = str | tuple[str, float]


class FakeOpenAIImages:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Behaviour] = []
        self.requests: list[dict[str, Any]] = []
        self.default_delay_s = 0.0
        self._server = LoopbackServer(_Handler)
        self._server._server.fake = self  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return self._server.url + "/v1"

    def start(self) -> FakeOpenAIImages:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.default_delay_s = 0.0

    def script(self, behaviours: list[Behaviour]) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def _next(self) -> Behaviour:
        with self._lock:
            return self._script.pop(0) if self._script else "ok"

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict, dict[str, str]]:
        if self.default_delay_s:
            time.sleep(self.default_delay_s)
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return (
                401,
                _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
                {},
            )
        fields, image = _parse(path, headers.get("Content-Type", ""), body)
        with self._lock:
            self.requests.append(
                {"path": path, "fields": fields, "image_size": image.size if image else None}
            )
        behaviour = self._next()
        if isinstance(behaviour, tuple) and behaviour[0] == "delay":
            time.sleep(behaviour[1])
            behaviour = "ok"
        if isinstance(behaviour, tuple) and behaviour[0] == "status":
            status = int(behaviour[1])
            message = "Rate limit reached" if status == 429 else "The server had an error"
            kind = "requests" if status == 429 else "server_error"
            return status, _error(message, kind, None), {"retry-after-ms": "10"}
        if behaviour == "refuse":
            return (
                400,
                _error(
                    "Your request was rejected by the safety system.",
                    "image_generation_user_error",
                    "moderation_blocked",
                ),
                {},
            )
        problem = _validate(path, fields, image)
        if problem:
            return 400, _error(problem, "invalid_request_error", None), {}
        n = int(fields.get("n") or 1)
        if behaviour == "bad_image":
            payload = base64.b64encode(b"<html>definitely not a png</html>").decode()
        elif behaviour == "not_base64":
            payload = "%%% not base64 %%%"
        else:
            payload = _rendered(
                image, fields.get("image_digest", ""), fields.get("size", "1024x1024")
            )
        return (
            200,
            {
                "created": int(time.time()),
                "data": [{"b64_json": payload}] * n,
                "usage": {
                    "input_tokens": 600,
                    "output_tokens": 4160,
                    "total_tokens": 4760,
                    "input_tokens_details": {"image_tokens": 500, "text_tokens": 100},
                },
            },
            {},
        )


def _error(message: str, kind: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(name, payload) of each form-data part. A plain split on the boundary: the stdlib
    e-mail parser takes ~100 ms per megabyte, which would make this fake the bottleneck."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return []
    parts = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            parts.append((name.group(1).decode(), payload))
    return parts


def _parse(path: str, content_type: str, body: bytes) -> tuple[dict[str, str], Image.Image | None]:
    if path.endswith("/images/generations"):
        data = json.loads(body or b"{}")
        return {k: str(v) for k, v in data.items()}, None
    fields: dict[str, str] = {}
    image = None
    for name, payload in _multipart(content_type, body):
        if name in ("image", "image[]"):
            try:
                Image.open(io.BytesIO(payload)).verify()
                image = Image.open(io.BytesIO(payload))
                fields["image_digest"] = hashlib.sha256(payload).hexdigest()
            except Exception:
                image = None
                fields["image_invalid"] = "1"
        else:
            fields[name] = payload.decode()
    return fields, image


def _validate(path: str, fields: dict[str, str], image: Image.Image | None) -> str | None:
    if path.endswith("/images/edits") and image is None:
        return "Invalid image file or mode for image 1, please check your image file."
    prompt = fields.get("prompt", "")
    if not prompt or len(prompt) > 32000:
        return "Invalid prompt: must be between 1 and 32000 characters."
    if fields.get("size", "1024x1024") not in (*SIZES, "auto"):
        return f"Invalid size '{fields.get('size')}'."
    if fields.get("quality", "auto") not in QUALITIES:
        return f"Invalid quality '{fields.get('quality')}'."
    return None


_RENDERED: dict[tuple[str, str], str] = {}
_RENDER_LOCK = threading.Lock()


def _rendered(source: Image.Image | None, digest: str, size: str) -> str:
    """Base64 PNG answer. The same input and size give the same answer, rendered once,
    so a load test measures the client rather than this fake's image encoding."""
    key = (digest, size)
    with _RENDER_LOCK:
        cached = _RENDERED.get(key)
    if cached is None:
        cached = base64.b64encode(_render(source, size)).decode()
        with _RENDER_LOCK:
            _RENDERED[key] = cached
    return cached


def _render(source: Image.Image | None, size: str) -> bytes:
    """A real image of the requested size, derived from the input (mirrored, tinted)."""
    width, height = SIZES.get(size, (1024, 1024))
    base = source.convert("RGB") if source else Image.new("RGB", (64, 64), (90, 60, 200))
    out = ImageOps.fit(ImageOps.mirror(base), (width, height))
    out = Image.blend(out, Image.new("RGB", out.size, (120, 60, 220)), 0.2)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeOpenAIImages = self.server.fake  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        if path not in ("/v1/images/edits", "/v1/images/generations"):
            status, payload, extra = 404, _error("Not found", "invalid_request_error", None), {}
        else:
            status, payload, extra = fake.handle(path, self.headers, body)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
