"""Hostile load against the running production build: the app's memory stays bounded.

Each attack runs against `reflex run --env prod` (tests/app_server.py) while the resident
memory of the app's whole process group is sampled from /proc:

- four concurrent 300 MB webhook bodies (two announced by Content-Length, two chunked);
- twenty concurrent uploads of a ~200 KB PNG of 49 megapixels, from twenty signed-in tabs;
- two hundred concurrent format conversions of one (49-megapixel) source;
- and all three at once.

The bound: the peak stays within +300 MB of the idle app and memory comes back within
+100 MB of idle afterwards. An attack that breaks the bound is stopped at once, so a
regression fails fast instead of exhausting the machine.

Select these tests alone with `pytest -m hostile_load`.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import select
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image, ImageDraw
from sqlmodel import Session

from adremix.db import engine_for
from adremix.models import User
from adremix.services.accounts import SESSION_COOKIE, start_session
from adremix.state.new_ad import NewAdState
from tests.app_server import OFFLINE_APP_ENV, RunningApp, run_app
from tests.reflex_tab import ReflexTab

pytestmark = pytest.mark.hostile_load

PEAK_HEADROOM_MB = 300
SETTLE_HEADROOM_MB = 100
SETTLE_WITHIN_S = 30
MB = 1024 * 1024
WEBHOOK_BODY = 300 * MB
UPLOADS = 20
CONVERSIONS = 200
UPLOAD_HANDLER = f"{NewAdState.get_full_name()}.handle_upload"


# --- measuring ------------------------------------------------------------------------


def group_rss_mb(process_group: int) -> float:
    """Resident memory of every process in the group, from /proc (MB)."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after it.
            if int(stat.rsplit(")", 1)[1].split()[2]) != process_group:
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total_kb += int(match.group(1)) if match else 0
    return total_kb / 1024


class MemoryWatch:
    """Samples the group's RSS every 50 ms; sets `exceeded` the moment it passes `limit_mb`."""

    def __init__(self, process_group: int, limit_mb: float) -> None:
        self.process_group = process_group
        self.limit_mb = limit_mb
        self.peak_mb = 0.0
        self.exceeded = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = group_rss_mb(self.process_group)
            self.peak_mb = max(self.peak_mb, rss)
            if rss > self.limit_mb:
                self.exceeded.set()
            time.sleep(0.05)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def idle_rss_mb(process_group: int) -> float:
    samples = []
    for _ in range(5):
        samples.append(group_rss_mb(process_group))
        time.sleep(0.2)
    return statistics.median(samples)


def settled_rss_mb(process_group: int, target_mb: float) -> float:
    """RSS once it is back under `target_mb`, or the last reading after SETTLE_WITHIN_S."""
    deadline = time.monotonic() + SETTLE_WITHIN_S
    rss = group_rss_mb(process_group)
    while rss > target_mb and time.monotonic() < deadline:
        time.sleep(0.5)
        rss = group_rss_mb(process_group)
    return rss


# --- the app, a user, tabs ------------------------------------------------------------


@dataclass
class Target:
    app: RunningApp
    cookie: str
    idle_mb: float
    # Two 49-megapixel sources the user owns, never converted yet: one per conversion attack.
    source_shas: list[str]


def sign_in(database_url: str, email: str) -> str:
    """A session made by the app's own code, straight in the app's database."""
    with Session(engine_for(database_url)) as session:
        user = User(email=email, name="Load Tester")
        session.add(user)
        session.flush()
        token = start_session(session=session, user=user, days=1)
        session.commit()
    return f"{SESSION_COOKIE}={token}"


def big_png(background: tuple[int, int, int] = (236, 230, 218)) -> bytes:
    """~200 KB of PNG that decodes to 7000 x 7000 = 49 megapixels (under the 50 MP limit)."""
    image = Image.new("RGB", (7000, 7000), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((2500, 2500, 4500, 4500), fill=(200, 40, 60))
    draw.rectangle((600, 5200, 6400, 6000), fill=(40, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 160, 200)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient, tab: ReflexTab, data: bytes, *, cookie: str | None = None
) -> httpx.Response:
    """What the drop zone sends: multipart `files`, the tab's token and the handler, with
    the browser's cookie (the tab's own, unless `cookie` says otherwise)."""
    return await client.post(
        "/_upload",
        files={"files": ("ad.png", data, "image/png")},
        headers={
            "reflex-client-token": tab.token,
            "reflex-event-handler": UPLOAD_HANDLER,
            "Cookie": tab.cookie if cookie is None else cookie,
        },
        timeout=300,
    )


def uploaded_sha(response: httpx.Response) -> str:
    """The source hash the upload's state update set (the response streams the deltas)."""
    for line in response.text.splitlines():
        for state in json.loads(line).get("delta", {}).values():
            for name, value in state.items():
                if name.startswith("source_sha") and isinstance(value, str) and value:
                    return value
    raise AssertionError(f"the upload did not set a source: {response.status_code} {response.text}")


@contextmanager
def open_tabs(base_url: str, cookies: list[str]) -> Iterator[list[ReflexTab]]:
    """A tab per cookie, each signed in (or not, for "") with it."""
    tabs: list[ReflexTab] = []
    try:
        for cookie in cookies:
            tabs.append(ReflexTab(base_url, cookie=cookie))
        yield tabs
    finally:
        for tab in tabs:
            tab.close()


def client_for(target: Target, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=target.app.base_url,
        headers={"Cookie": target.cookie},
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        timeout=300,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def target(app_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    env = {**OFFLINE_APP_ENV, "RAZORPAY_WEBHOOK_SECRET": "whsec_hostile_load"}
    workdir = tmp_path_factory.mktemp("hostile-app")
    with run_app(port=app_port, workdir=workdir, env=env) as app:
        cookie = sign_in(app.database_url, "load@example.com")

        async def warm_up() -> list[str]:
            # Every path once with small input, so idle counts what a used app holds.
            async with client_for(Target(app, cookie, 0, [])) as client:
                with open_tabs(app.base_url, [cookie]) as (tab,):
                    small = uploaded_sha(await upload(client, tab, small_jpeg()))
                    await client.get(f"/files/source/{small}?format=png")
                    await client.post("/api/razorpay/webhook", content=b"{}")
                    return [
                        uploaded_sha(await upload(client, tab, big_png(background)))
                        for background in ((236, 230, 218), (250, 244, 200))
                    ]

        sources = asyncio.run(warm_up())
        time.sleep(2)
        yield Target(
            app=app, cookie=cookie, idle_mb=idle_rss_mb(app.process_group), source_shas=sources
        )


async def within_bounds(target: Target, attack: Awaitable[None]) -> MemoryWatch:
    """Run the attack while watching memory; stop it the moment the peak bound breaks."""
    limit = target.idle_mb + PEAK_HEADROOM_MB
    with MemoryWatch(target.app.process_group, limit) as watch:
        task = asyncio.ensure_future(attack)
        while not task.done() and not watch.exceeded.is_set():
            await asyncio.sleep(0.1)
        if not task.done():
            task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    return watch


def assert_bounded(target: Target, watch: MemoryWatch, what: str) -> None:
    settled = settled_rss_mb(target.app.process_group, target.idle_mb + SETTLE_HEADROOM_MB)
    print(
        f"{what}: idle {target.idle_mb:.0f} MB, peak {watch.peak_mb:.0f} MB "
        f"(+{watch.peak_mb - target.idle_mb:.0f}), after {settled:.0f} MB "
        f"(+{settled - target.idle_mb:.0f})"
    )
    assert not watch.exceeded.is_set(), (
        f"{what}: memory reached {watch.peak_mb:.0f} MB, idle was {target.idle_mb:.0f} MB "
        f"(bound +{PEAK_HEADROOM_MB} MB); the attack was stopped there"
    )
    assert settled <= target.idle_mb + SETTLE_HEADROOM_MB, (
        f"{what}: memory stayed at {settled:.0f} MB, idle was {target.idle_mb:.0f} MB"
    )


# --- the attacks ----------------------------------------------------------------------


def huge_webhook(base_url: str, *, chunked: bool) -> tuple[int | None, int]:
    """POST 300 MB to the webhook as fast as the server takes it, stopping as soon as it
    answers. Returns (status, bytes sent); the status is None when the server cut the
    connection so hard (TCP reset) that its answer was lost on the way."""
    url = urlsplit(base_url)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {WEBHOOK_BODY}"
    head = (
        f"POST /api/razorpay/webhook HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: application/json\r\nX-Razorpay-Signature: {'0' * 64}\r\n"
        f"{length}\r\n\r\n"
    )
    piece = b" " * (64 * 1024)
    frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=300) as sock:
        sock.sendall(head.encode())
        try:
            # Before each piece, see whether the server has answered already.
            while sent < WEBHOOK_BODY and not select.select([sock], [], [], 0)[0]:
                sock.sendall(frame)
                sent += len(piece)
            if chunked and sent >= WEBHOOK_BODY:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server hung up on the rest of the body: that is the point
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            return None, sent
    return int(answer.split()[1]), sent


async def webhook_attack(target: Target) -> None:
    results = await asyncio.gather(
        *(
            asyncio.to_thread(huge_webhook, target.app.base_url, chunked=i % 2 == 1)
            for i in range(4)
        )
    )
    print("webhook answers (status, bytes sent):", results)
    for status, sent in results:
        assert status in (413, None), results
        assert sent < WEBHOOK_BODY, results


async def upload_attack(target: Target, data: bytes) -> None:
    # Twenty users, one tab each: one user's uploads are rate-limited (20 a minute).
    cookies = [
        sign_in(target.app.database_url, f"{uuid.uuid4().hex}@example.com") for _ in range(UPLOADS)
    ]
    with open_tabs(target.app.base_url, cookies) as tabs:
        async with client_for(target) as client:
            responses = await asyncio.gather(*(upload(client, tab, data) for tab in tabs))
    shas = {uploaded_sha(response) for response in responses}
    assert len(shas) == 1, "every upload of the same image is the same stored source"


async def conversion_attack(target: Target, source_sha: str) -> None:
    async with client_for(target) as client:
        responses = await asyncio.gather(
            *(client.get(f"/files/source/{source_sha}?format=png") for _ in range(CONVERSIONS))
        )
    assert {r.status_code for r in responses} == {200}
    assert {r.headers["content-type"] for r in responses} == {"image/png"}
    assert len({r.content for r in responses}) == 1
    assert Image.open(io.BytesIO(responses[0].content)).size == (7000, 7000)


# --- the tests ------------------------------------------------------------------------


def test_four_300_mb_webhook_bodies_are_refused_without_reading_them(target: Target) -> None:
    watch = asyncio.run(within_bounds(target, webhook_attack(target)))
    assert_bounded(target, watch, "4 x 300 MB webhook bodies")


def test_twenty_concurrent_49_megapixel_uploads_stay_in_bounds(target: Target) -> None:
    data = big_png()
    assert len(data) < 400_000
    watch = asyncio.run(within_bounds(target, upload_attack(target, data)))
    assert_bounded(target, watch, f"{UPLOADS} x 49 MP PNG uploads")


def test_two_hundred_conversions_of_one_source_stay_in_bounds(target: Target) -> None:
    watch = asyncio.run(within_bounds(target, conversion_attack(target, target.source_shas[0])))
    assert_bounded(target, watch, f"{CONVERSIONS} conversions of a 49 MP source")


def test_all_three_attacks_at_once_stay_in_bounds(target: Target) -> None:
    data = big_png()

    async def everything() -> None:
        await asyncio.gather(
            webhook_attack(target),
            upload_attack(target, data),
            conversion_attack(target, target.source_shas[1]),
        )

    watch = asyncio.run(within_bounds(target, everything()))
    assert_bounded(target, watch, "all three attacks at once")


def test_an_upload_needs_the_uploaders_own_session_cookie(target: Target) -> None:
    """The client token of a signed-in tab is not a credential on its own."""
    stranger = sign_in(target.app.database_url, "stranger@example.com")
    data = small_jpeg()

    async def attempt(tab: ReflexTab, cookie: str) -> int:
        async with httpx.AsyncClient(base_url=target.app.base_url) as client:
            response = await upload(client, tab, data, cookie=cookie)
            if response.status_code == 200:
                uploaded_sha(response)  # and the upload really reached the tab
            return response.status_code

    with open_tabs(target.app.base_url, [target.cookie, ""]) as (tab, signed_out_tab):
        statuses = {
            "no cookie": asyncio.run(attempt(tab, "")),
            "someone else's cookie": asyncio.run(attempt(tab, stranger)),
            "a tab not signed in as the uploader": asyncio.run(
                attempt(signed_out_tab, target.cookie)
            ),
            "the tab's own user": asyncio.run(attempt(tab, target.cookie)),
        }
    assert statuses == {
        "no cookie": 403,
        "someone else's cookie": 403,
        "a tab not signed in as the uploader": 403,
        "the tab's own user": 200,
    }
