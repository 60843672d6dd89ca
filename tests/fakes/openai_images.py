"""A fake of the OpenAI Images API on 127.0.0.1 for the real `openai` SDK (`base_url`).

`POST /v1/images/edits` (multipart) and `POST /v1/images/generations` (JSON) answer like
the GPT image models: base64 images of the requested size plus token `usage`, and OpenAI's
error JSON (`{"error": {"message", "type", "param", "code"}}`) for a wrong key (401) and
invalid parameters (400 `invalid_request_error`).

Tests script what the next authenticated requests get, one item per request:
"ok", ("status", 429 | 500 | 503 | ...), "quota" (429 `insufficient_quota`), "refuse"
(gpt-image's `moderation_blocked`), "content_policy" (`content_policy_violation`),
("delay", seconds), "bad_image" (base64 of bytes that are not an image), "not_base64",
"jpeg" / "webp" (that output format whatever was asked, as some compatible servers do),
"url" (a `url` answer instead of `b64_json`, the image served by this fake at that URL),
"url_huge" (the URL streams more than any image cap, without a Content-Length),
"url_gone" (the URL answers 404) and "url_not_image". An empty script answers "ok".

`POST /v1/chat/completions` (the text model behind "Suggest copy") answers as Chat
Completions does with Structured Outputs: a strict `json_schema` response format is
checked as OpenAI checks it (every property required, `additionalProperties: false`,
400 `invalid_request_error` otherwise) and the answer's `message.content` is JSON valid
against that schema. Its scripted behaviours: "refusal" (`message.refusal` set, content
null), "length" (`finish_reason: "length"`, the JSON cut off) and "over_limit" (one
variant of each kind far longer than any platform allows).
Every answer carries an `x-request-id`; a rate limit carries `Retry-After` in seconds.
`default_delay_s` slows every request (benchmarks); `requests` records what the API was
sent.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image, ImageOps
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from tests.fakes.http_server import LoopbackServer

API_KEY = "sk-test-fake-openai"
SIZES = {"1024x1024": (1024, 1024), "1536x1024": (1536, 1024), "1024x1536": (1024, 1536)}
QUALITIES = ("low", "medium", "high", "auto")
OUTPUT_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
BACKGROUNDS = ("transparent", "opaque", "auto")
INPUT_FIDELITIES = ("high", "low")
INPUT_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_PROMPT_CHARS = 32_000
MAX_INPUT_IMAGES = 16
MAX_INPUT_IMAGE_BYTES = 50 * 1024 * 1024
REFUSAL_MESSAGE = "Your request was rejected by the safety system."
CONTENT_POLICY_MESSAGE = (
    "Your request was rejected as a result of our safety system. Your prompt may contain "
    "text that is not allowed by our safety system."
)
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)
# A real 429 says how long to wait, in whole seconds.
RETRY_AFTER_S = "1"
HUGE_DOWNLOAD_BYTES = 21 * 1024 * 1024
STRING_BEHAVIOURS = (
    "ok",
    "refuse",
    "content_policy",
    "quota",
    "bad_image",
    "not_base64",
    "jpeg",
    "webp",
    "url",
    "url_huge",
    "url_gone",
    "url_not_image",
    "refusal",
    "length",
    "over_limit",
)
# gpt-image-1 output tokens per image by quality and size, from OpenAI's pricing table.
OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
IMAGE_TOKENS_PER_INPUT = 323

Behaviour = str | tuple[str, float]
Answer = tuple[int, dict[str, Any], dict[str, str]]


class BadRequest(Exception):
    """A 400 `invalid_request_error`, as OpenAI words it."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass
class InputImage:
    data: bytes
    image: Image.Image | None  # None when Pillow cannot decode it


@dataclass
class ParsedRequest:
    fields: dict[str, Any] = field(default_factory=dict)
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None


class FakeOpenAIImages:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Behaviour] = []
        self._rendered: dict[tuple[str, str, str], str] = {}
        self._files: dict[str, bytes] = {}  # what "url" answers link to
        # Each request: path, fields (form or JSON, images excluded), image_size (the
        # first input image's (width, height) or None), image_sizes, status answered.
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
            self._files.clear()
            self.default_delay_s = 0.0

    def script(self, behaviours: list[Behaviour]) -> None:
        """Queue behaviours for the next authenticated requests, in order."""
        for behaviour in behaviours:
            if not _is_behaviour(behaviour):
                raise ValueError(f"Unknown scripted behaviour {behaviour!r}")
        with self._lock:
            self._script.extend(behaviours)

    def _next(self) -> Behaviour:
        with self._lock:
            return self._script.pop(0) if self._script else "ok"

    def handle(self, path: str, headers: Any, body: bytes) -> Answer:
        if self.default_delay_s:
            time.sleep(self.default_delay_s)
        record: dict[str, Any] = {
            "path": path,
            "fields": {},
            "image_size": None,
            "image_sizes": [],
            "status": None,
        }
        with self._lock:
            self.requests.append(record)
        status, payload, extra = self._answer(path, headers, body, record)
        record["status"] = status
        return status, payload, extra

    def _answer(self, path: str, headers: Any, body: bytes, record: dict[str, Any]) -> Answer:
        authorization = headers.get("Authorization") or ""
        if not authorization.startswith("Bearer "):
            return _error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
            )
        if authorization != f"Bearer {API_KEY}":
            return _error(
                401,
                f"Incorrect API key provided: {_redacted(authorization[7:])}.",
                "invalid_request_error",
                code="invalid_api_key",
            )
        if path.endswith("/chat/completions"):
            return self._chat(body, record)
        try:
            request = _parse(path, headers.get("Content-Type") or "", body)
        except BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", exc.param, exc.code)
        record["fields"] = request.fields
        sizes = [i.image.size if i.image else None for i in request.images]
        record["image_sizes"] = sizes
        record["image_size"] = sizes[0] if sizes else None
        if request.mask is not None:
            record["mask"] = request.mask.image

        behaviour = self._next()
        if isinstance(behaviour, tuple) and behaviour[0] == "delay":
            time.sleep(float(behaviour[1]))
            behaviour = "ok"
        if isinstance(behaviour, tuple) and behaviour[0] == "status":
            return _scripted_status(int(behaviour[1]))
        if behaviour == "quota":
            return _error(429, QUOTA_MESSAGE, "insufficient_quota", code="insufficient_quota")
        try:
            _validate(path, request)
        except BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", exc.param, exc.code)
        if behaviour == "refuse":
            return _error(
                400, REFUSAL_MESSAGE, "image_generation_user_error", code="moderation_blocked"
            )
        if behaviour == "content_policy":
            return _error(
                400,
                CONTENT_POLICY_MESSAGE,
                "invalid_request_error",
                code="content_policy_violation",
            )
        return 200, self._success(request, behaviour), {}

    def _chat(self, body: bytes, record: dict[str, Any]) -> Answer:
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise BadRequest("The request body must be a JSON object.")
            _validate_chat(data)
        except ValueError:
            return _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        except BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", exc.param, exc.code)
        record["fields"] = data
        behaviour = self._next()
        if isinstance(behaviour, tuple) and behaviour[0] == "delay":
            time.sleep(float(behaviour[1]))
            behaviour = "ok"
        if isinstance(behaviour, tuple) and behaviour[0] == "status":
            return _scripted_status(int(behaviour[1]))
        if behaviour == "quota":
            return _error(429, QUOTA_MESSAGE, "insufficient_quota", code="insufficient_quota")
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish = "stop"
        if behaviour == "refusal":
            message["refusal"] = "I'm sorry, I can't assist with that request."
        else:
            content = json.dumps(
                _answer_for(data, over_limit=behaviour == "over_limit"), ensure_ascii=False
            )
            if behaviour == "length":
                content, finish = content[: len(content) // 2], "length"
            message["content"] = content
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in data["messages"]) // 4
        completion_tokens = len(message["content"] or message["refusal"] or "") // 4
        return (
            200,
            {
                "id": f"chatcmpl-{secrets.token_hex(12)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": data["model"],
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_fake",
            },
            {},
        )

    def file(self, name: str) -> bytes | None:
        """What GET /files/<name> serves (a "url" answer's image)."""
        with self._lock:
            return self._files.get(name)

    def _link(self, data: bytes, suffix: str) -> str:
        name = secrets.token_hex(8) + suffix
        with self._lock:
            self._files[name] = data
        return f"{self._server.url}/files/{name}"

    def _success(self, request: ParsedRequest, behaviour: Behaviour) -> dict[str, Any]:
        fields = request.fields
        source = request.images[0] if request.images else None
        size = fields.get("size") or "auto"
        if size == "auto":
            size = _auto_size(source.image if source else None)
        quality = fields.get("quality") or "auto"
        if quality == "auto":
            quality = "medium"
        output_format = fields.get("output_format") or "png"
        if behaviour in ("jpeg", "webp"):
            output_format = str(behaviour)
        n = int(fields.get("n") or 1)
        if behaviour == "bad_image":
            payload = base64.b64encode(b"<html>definitely not a png</html>").decode()
        elif behaviour == "not_base64":
            payload = "%%% not base64 %%%"
        elif request.mask is not None and source is not None:
            payload = base64.b64encode(_edited(source, request.mask, size)).decode()
        else:
            payload = self._rendered_image(source, size, output_format)
        broken = behaviour in ("bad_image", "not_base64")
        payloads = [payload if broken else _one_of_a_kind(payload) for _ in range(n)]
        item: dict[str, str] = {"b64_json": payloads[0]}
        if behaviour == "url":
            item = {"url": self._link(base64.b64decode(payload), "." + output_format)}
        elif behaviour == "url_not_image":
            item = {"url": self._link(b"<html>not an image</html>", ".png")}
        elif behaviour == "url_huge":
            item = {"url": f"{self._server.url}/files/huge.png"}
        elif behaviour == "url_gone":
            item = {"url": f"{self._server.url}/files/expired.png"}
        text_tokens = max(1, len(str(fields.get("prompt", ""))) // 4)
        image_tokens = IMAGE_TOKENS_PER_INPUT * len(request.images)
        output_tokens = OUTPUT_TOKENS[quality][size] * n
        return {
            "created": int(time.time()),
            "background": "opaque",
            "output_format": output_format,
            "quality": quality,
            "size": size,
            "data": [item if "url" in item else {"b64_json": p} for p in payloads],
            "usage": {
                "input_tokens": text_tokens + image_tokens,
                "output_tokens": output_tokens,
                "total_tokens": text_tokens + image_tokens + output_tokens,
                "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
                "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
            },
        }

    def _rendered_image(self, source: InputImage | None, size: str, output_format: str) -> str:
        """Base64 image answer. The same input, size and format give the same answer,
        rendered once, so a load test measures the client rather than this fake's encoder."""
        digest = hashlib.sha256(source.data).hexdigest() if source else ""
        key = (digest, size, output_format)
        with self._lock:
            cached = self._rendered.get(key)
        if cached is None:
            image = source.image if source else None
            cached = base64.b64encode(_render(image, size, output_format)).decode()
            with self._lock:
                self._rendered[key] = cached
        return cached


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _one_of_a_kind(payload: str) -> str:
    """A rendered answer (base64) made unlike any other this fake gives: the real API never
    answers the same bytes twice (each image is sampled anew), so neither does this fake,
    or a client's content-addressed storage would see a hundred writes of one object, which
    never happens in production. The pixels stay the cached rendering's; a PNG gets a
    `tEXt` chunk and a JPEG a comment segment carrying a fresh random id. Anything else
    (WebP) is answered as rendered."""
    data = base64.b64decode(payload)
    marker = secrets.token_hex(8).encode()
    if data.startswith(PNG_SIGNATURE):
        body = b"tEXt" + b"Comment\0" + marker
        chunk = (len(body) - 4).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
        after_header = len(PNG_SIGNATURE) + 25  # IHDR: length, type, 13 bytes, CRC
        data = data[:after_header] + chunk + data[after_header:]
    elif data.startswith(b"\xff\xd8"):
        data = data[:2] + b"\xff\xfe" + (len(marker) + 2).to_bytes(2, "big") + marker + data[2:]
    else:
        return payload
    return base64.b64encode(data).decode()


def _is_behaviour(behaviour: object) -> bool:
    if isinstance(behaviour, str):
        return behaviour in STRING_BEHAVIOURS
    return (
        isinstance(behaviour, tuple)
        and len(behaviour) == 2
        and behaviour[0] in ("status", "delay")
        and isinstance(behaviour[1], int | float)
    )


def _error(
    status: int,
    message: str,
    kind: str,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return status, body, headers or {}


def _scripted_status(status: int) -> Answer:
    if status == 429:
        return _error(
            429,
            "Rate limit reached for gpt-image-1 on images per minute. Please try again shortly.",
            "requests",
            code="rate_limit_exceeded",
            headers={
                "retry-after": RETRY_AFTER_S,
                "x-ratelimit-limit-images": "5",
                "x-ratelimit-remaining-images": "0",
                "x-ratelimit-reset-images": RETRY_AFTER_S + "s",
            },
        )
    if status == 503:
        return _error(
            503, "The engine is currently overloaded, please try again later.", "server_error"
        )
    if status >= 500:
        return _error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        )
    return _error(status, f"Scripted error {status}.", "invalid_request_error")


def _redacted(key: str) -> str:
    return f"{key[:3]}{'*' * 8}{key[-4:]}" if len(key) > 8 else "*" * len(key)


def _parse(path: str, content_type: str, body: bytes) -> ParsedRequest:
    if path.endswith("/images/generations"):
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise BadRequest("We could not parse the JSON body of your request.") from exc
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return ParsedRequest(fields=data)
    mime, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise BadRequest(
            "Invalid Content-Type header; expected multipart/form-data with a boundary."
        )
    request = ParsedRequest()
    for name, filename, payload in _multipart_parts(boundary, body):
        if name in ("image", "image[]"):
            request.images.append(InputImage(payload, _decoded(payload)))
        elif name == "mask":
            request.mask = InputImage(payload, _decoded(payload))
        elif filename is None:
            request.fields[name] = payload.decode("utf-8", errors="replace")
        else:
            request.fields[name] = f"<file {filename!r}, {len(payload)} bytes>"
    return request


def _multipart_parts(boundary: bytes, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(name, filename, payload) of each form-data part, parsed by python-multipart."""
    parts: list[tuple[str, str | None, bytes]] = []
    headers: dict[bytes, bytes] = {}
    header_name = bytearray()
    header_value = bytearray()
    payload = bytearray()

    def on_part_begin() -> None:
        headers.clear()
        payload.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        payload.extend(data[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition"))
        if b"name" not in disposition:
            raise BadRequest("A multipart part has no name.")
        filename = disposition.get(b"filename")
        parts.append(
            (
                disposition[b"name"].decode("utf-8", errors="replace"),
                filename.decode("utf-8", errors="replace") if filename is not None else None,
                bytes(payload),
            )
        )

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise BadRequest("The multipart body of your request could not be parsed.") from exc
    return parts


_DECODED: dict[str, Image.Image | None] = {}
_DECODED_LOCK = threading.Lock()


def _decoded(data: bytes) -> Image.Image | None:
    """The input image if Pillow can read it in a format OpenAI accepts, else None.

    The same bytes decode the same way, so a load test that sends one image many times
    pays for one decode (the answer is treated as read-only)."""
    digest = hashlib.sha256(data).hexdigest()
    with _DECODED_LOCK:
        if digest in _DECODED:
            return _DECODED[digest]
    image = _decode(data)
    with _DECODED_LOCK:
        if len(_DECODED) >= 32:
            _DECODED.clear()
        _DECODED[digest] = image
    return image


def _decode(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        return None
    return image if (image.format or "").upper() in INPUT_FORMATS else None


def _validate(path: str, request: ParsedRequest) -> None:
    fields = request.fields
    if path.endswith("/images/edits"):
        if not request.images:
            raise BadRequest("Missing required parameter: 'image'.", "image", "missing_required")
        if len(request.images) > MAX_INPUT_IMAGES:
            raise BadRequest(
                f"Invalid 'image': too many images. Expected at most {MAX_INPUT_IMAGES}.",
                "image",
                "array_above_max_length",
            )
        for number, item in enumerate(request.images, start=1):
            if len(item.data) > MAX_INPUT_IMAGE_BYTES:
                raise BadRequest(f"Image {number} is larger than 50 MB.", "image")
            if item.image is None:
                raise BadRequest(
                    f"Invalid image file or mode for image {number}, please check your image file.",
                    "image",
                    "invalid_image_file",
                )
    if request.mask is not None:
        _validate_mask(request.mask, request.images[0])
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise BadRequest("Missing required parameter: 'prompt'.", "prompt", "missing_required")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadRequest(
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{MAX_PROMPT_CHARS}, but got a string with length {len(prompt)} instead.",
            "prompt",
            "string_above_max_length",
        )
    _check_choice(fields, "size", (*SIZES, "auto"))
    _check_choice(fields, "quality", QUALITIES)
    _check_choice(fields, "output_format", tuple(OUTPUT_FORMATS))
    _check_choice(fields, "background", BACKGROUNDS)
    _check_choice(fields, "input_fidelity", INPUT_FIDELITIES)
    try:
        n = int(fields.get("n") or 1)
    except (TypeError, ValueError) as exc:
        raise BadRequest("Invalid 'n': expected an integer.", "n", "invalid_type") from exc
    if not 1 <= n <= 10:
        raise BadRequest(
            f"Invalid 'n': expected a value between 1 and 10, but got {n} instead.",
            "n",
            "integer_below_min_value" if n < 1 else "integer_above_max_value",
        )


CHAT_ROLES = ("system", "developer", "user", "assistant")
# What the fake "model" writes, by the language the system message asks for.
SAMPLE_COPY = {
    "English": ("Fresh deals for you", "Discover the season's best offers, delivered.", "Shop now"),
    "Hindi": ("आपके लिए नए ऑफ़र", "इस मौसम के सबसे अच्छे ऑफ़र, अब घर पर।", "अभी खरीदें"),
    "Bengali": ("আপনার জন্য নতুন অফার", "এই মরসুমের সেরা অফার, এখন ঘরে।", "এখনই কিনুন"),
    "Tamil": ("உங்களுக்கு புதிய சலுகை", "இந்த பருவத்தின் சிறந்த சலுகைகள்.", "வாங்குங்கள்"),
    "Telugu": ("మీ కోసం కొత్త ఆఫర్లు", "ఈ సీజన్ ఉత్తమ ఆఫర్లు, ఇంటికే.", "కొనండి"),
    "Marathi": ("तुमच्यासाठी नवे ऑफर", "या हंगामातील सर्वोत्तम ऑफर, घरपोच.", "खरेदी करा"),
    "Gujarati": ("તમારા માટે નવી ઓફર", "આ સીઝનની શ્રેષ્ઠ ઓફર, ઘરે બેઠા.", "ખરીદો"),
    "Kannada": ("ನಿಮಗಾಗಿ ಹೊಸ ಕೊಡುಗೆ", "ಈ ಋತುವಿನ ಅತ್ಯುತ್ತಮ ಕೊಡುಗೆಗಳು.", "ಖರೀದಿಸಿ"),
    "Malayalam": ("നിങ്ങൾക്കായി പുതിയ ഓഫർ", "ഈ സീസണിലെ മികച്ച ഓഫറുകൾ.", "വാങ്ങൂ"),
}


def _validate_chat(data: dict[str, Any]) -> None:
    if not isinstance(data.get("model"), str) or not data["model"]:
        raise BadRequest("you must provide a model parameter", "model", "missing_required")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages",
            "empty_array",
        )
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in CHAT_ROLES:
            raise BadRequest(
                f"Invalid value for 'messages[{number}].role'.", f"messages[{number}].role"
            )
    response_format = data.get("response_format")
    if response_format is None:
        return
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise BadRequest(
            "Invalid value for 'response_format.type'.", "response_format.type", "invalid_value"
        )
    if kind != "json_schema":
        return
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise BadRequest(
            "Missing required parameter: 'response_format.json_schema.name'.",
            "response_format.json_schema.name",
            "missing_required_parameter",
        )
    if spec.get("strict"):
        _check_strict_schema(spec["name"], spec.get("schema") or {}, ())


def _check_strict_schema(name: str, schema: dict[str, Any], context: tuple[str, ...]) -> None:
    """Structured Outputs' strict-mode rules for objects, as its 400s word them."""
    if schema.get("type") == "object":
        properties = schema.get("properties") or {}
        missing = [key for key in properties if key not in (schema.get("required") or [])]
        if missing:
            raise BadRequest(
                f"Invalid schema for response_format '{name}': In context={context}, "
                "'required' is required to be supplied and to be an array including every "
                f"key in properties. Missing '{missing[0]}'.",
                "response_format",
                "invalid_json_schema",
            )
        if schema.get("additionalProperties") is not False:
            raise BadRequest(
                f"Invalid schema for response_format '{name}': In context={context}, "
                "'additionalProperties' is required to be supplied and to be false.",
                "response_format",
                "invalid_json_schema",
            )
        for key, child in properties.items():
            _check_strict_schema(name, child, (*context, "properties", key))
    if schema.get("type") == "array":
        _check_strict_schema(name, schema.get("items") or {}, (*context, "items"))


def _answer_for(data: dict[str, Any], *, over_limit: bool) -> dict[str, Any]:
    """Content valid against the requested schema: for each platform its enum allows,
    three variants of each kind in the language the system message names."""
    system = " ".join(str(m.get("content", "")) for m in data["messages"] if m["role"] == "system")
    language = next((name for name in SAMPLE_COPY if f"Write in {name}" in system), "English")
    headline, primary, cta = SAMPLE_COPY[language]
    schema = data.get("response_format", {}).get("json_schema", {}).get("schema", {})
    placement = schema.get("properties", {}).get("placements", {}).get("items", {})
    platforms = placement.get("properties", {}).get("platform", {}).get("enum", ["meta"])
    long = "Loooong " * 60
    return {
        "placements": [
            {
                "platform": platform,
                "headlines": [headline, f"{headline}!", *([long] if over_limit else [])],
                "primary_texts": [primary, f"{primary} ✓", *([long] if over_limit else [])],
                "ctas": [cta, *([long] if over_limit else [])],
            }
            for platform in platforms
        ]
    }


MAX_MASK_BYTES = 4 * 1024 * 1024


def _validate_mask(mask: InputImage, first: InputImage) -> None:
    """The documented rules: a PNG under 4 MB with an alpha channel, of the same size as
    the (first) image; its fully transparent areas are where the image is edited."""
    image = mask.image
    if len(mask.data) > MAX_MASK_BYTES:
        raise BadRequest("Invalid 'mask': file must be less than 4 MB.", "mask")
    if image is None or (image.format or "").upper() != "PNG":
        raise BadRequest("Invalid 'mask': the mask must be a valid PNG file.", "mask")
    if image.mode not in ("RGBA", "LA") and "transparency" not in image.info:
        raise BadRequest(
            f"Invalid input mask - format must be in ['RGBA', 'LA'], got {image.mode}.",
            "mask",
            "invalid_image_format",
        )
    if first.image is not None and image.size != first.image.size:
        raise BadRequest("Invalid mask image format - mask size does not match image size", "mask")


def _check_choice(fields: dict[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    value = fields.get(name)
    if value is not None and value not in allowed:
        supported = ", ".join(f"'{a}'" for a in allowed)
        raise BadRequest(
            f"Invalid value: '{value}'. Supported values are: {supported}.",
            name,
            "invalid_value",
        )


def _auto_size(source: Image.Image | None) -> str:
    if source is None or 0.8 <= source.width / source.height <= 1.25:
        return "1024x1024"
    return "1536x1024" if source.width > source.height else "1024x1536"


EDIT_PAINT = (20, 200, 120)


def _edited(source: InputImage, mask: InputImage, size: str) -> bytes:
    """What an edit with a mask returns: the input image, repainted (a flat colour here)
    only where the mask is fully transparent, at the requested size."""
    assert source.image is not None and mask.image is not None
    base = source.image.convert("RGB")
    transparent = mask.image.convert("RGBA").getchannel("A").point(lambda a: 255 if a == 0 else 0)
    base.paste(EDIT_PAINT, (0, 0, *base.size), mask=transparent)
    if size in SIZES and base.size != SIZES[size]:
        base = base.resize(SIZES[size])
    buffer = io.BytesIO()
    base.save(buffer, format="PNG")
    return buffer.getvalue()


def _render(source: Image.Image | None, size: str, output_format: str) -> bytes:
    """A real image of the requested size, derived from the input (mirrored, tinted)."""
    width, height = SIZES[size]
    base = source.convert("RGB") if source else Image.new("RGB", (64, 64), (90, 60, 200))
    out = ImageOps.fit(ImageOps.mirror(base), (width, height))
    out = Image.blend(out, Image.new("RGB", out.size, (120, 60, 220)), 0.2)
    buffer = io.BytesIO()
    if output_format == "png":
        out.save(buffer, format="PNG", compress_level=1)
    else:
        out.save(buffer, format=OUTPUT_FORMATS[output_format], quality=85)
    return buffer.getvalue()


def _read_chunked(stream: io.BufferedIOBase) -> bytes:
    body = bytearray()
    while True:
        size_line = stream.readline().split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as exc:
            raise ValueError("bad chunk size") from exc
        if size == 0:
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(body)
        body.extend(stream.read(size))
        stream.readline()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        """The images that "url" answers link to."""
        fake: FakeOpenAIImages = self.server.fake  # type: ignore[attr-defined]
        name = self.path.split("?")[0].removeprefix("/files/")
        try:
            if name == "huge.png":
                # No Content-Length: only counting what arrives can enforce a size cap.
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Connection", "close")
                self.end_headers()
                block = b"\x89PNG\r\n\x1a\n" + bytes(1024 * 1024 - 8)
                for _ in range(HUGE_DOWNLOAD_BYTES // len(block) + 1):
                    self.wfile.write(block)
                return
            data = fake.file(name)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            media = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
            self.send_response(200)
            self.send_header("Content-Type", media.get(name.rsplit(".", 1)[-1], "image/png"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        fake: FakeOpenAIImages = self.server.fake  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        try:
            body = self._read_body()
        except ValueError:
            status, payload, extra = _error(400, "Malformed request body.", "invalid_request_error")
            self.close_connection = True
        else:
            if path in ("/v1/images/edits", "/v1/images/generations", "/v1/chat/completions"):
                status, payload, extra = fake.handle(path, self.headers, body)
            else:
                status, payload, extra = _error(
                    404, f"Invalid URL (POST {path})", "invalid_request_error"
                )
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", f"req_{secrets.token_hex(16)}")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)
