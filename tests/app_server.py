"""Runs the real production build (`reflex run --env prod --single-port`, its frontend build
reused while its sources are unchanged: tests/reflex_build_cache.py) for browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 420
APP_SETTING_PREFIXES = ("ADREMIX_", "GOOGLE_", "OIDC_", "OPENAI_", "RAZORPAY_", "DATABASE_URL")
# The app as `make run` starts it: offline defaults, no keys.
OFFLINE_APP_ENV = {
    "ADREMIX_ENV": "dev",
    "GOOGLE_CLIENT_ID": "",
    "GOOGLE_CLIENT_SECRET": "",
    "RAZORPAY_KEY_ID": "",
    "RAZORPAY_KEY_SECRET": "",
    "OPENAI_API_KEY": "",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrate(database_url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


@dataclass(frozen=True)
class RunningApp:
    base_url: str
    database_url: str
    log_path: Path
    # The app's processes (Reflex and its server workers) share this process group id.
    process_group: int


def app_environment(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of an app process: only the settings it is given, so nothing leaks
    in from the test process or a .env; files under `workdir` unless `env` says otherwise."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(APP_SETTING_PREFIXES)}
    return {
        **inherited,
        # Unset means production: the harness says what it runs.
        "ADREMIX_ENV": "dev",
        "ADREMIX_STORAGE_DIR": str(workdir / "files"),
        "ADREMIX_OUTBOX_DIR": str(workdir / "outbox"),
        **env,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
    }


@dataclass
class _KeptApp:
    env: dict[str, str]
    app: RunningApp
    stack: ExitStack


# Apps kept running across test modules, by port: starting one costs ~15 s, and the modules
# that use the app as `make run` starts it each sign in as their own users.
_kept: dict[int, _KeptApp] = {}


def kept_app(*, port: int, env: dict[str, str], workdir: Callable[[], Path]) -> RunningApp:
    """The app with `env` kept running on `port`, started (in a new `workdir()`) unless it
    already runs. It stops when another app needs the port, or at `stop_kept_apps`."""
    kept = _kept.get(port)
    if kept is not None and kept.env == env:
        return kept.app
    release_port(port)
    stack = ExitStack()
    app = stack.enter_context(run_app(port=port, workdir=workdir(), env=env))
    _kept[port] = _KeptApp(env=dict(env), app=app, stack=stack)
    return app


def release_port(port: int) -> None:
    """Stop the app kept on `port`, if any."""
    if (kept := _kept.pop(port, None)) is not None:
        kept.stack.close()


def stop_kept_apps() -> None:
    for port in list(_kept):
        release_port(port)


@contextmanager
def run_app(*, port: int, workdir: Path, env: dict[str, str]) -> Iterator[RunningApp]:
    """Start the production app with `env` on `port`; stop it (and its workers) afterwards."""
    # Every app of a run shares one port (one frontend build): a kept app makes way.
    release_port(port)
    if _answers(port):
        # Waiting for "up" would then test whatever already listens there.
        raise RuntimeError(f"port {port} is taken: is another app from these tests running?")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{workdir / 'app.db'}"
    migrate(database_url)
    log_path = workdir / "reflex.log"
    base_url = f"http://localhost:{port}"
    process_env = app_environment(
        workdir, {"ADREMIX_PUBLIC_URL": base_url, **env, "DATABASE_URL": database_url}
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                # `reflex run`, reusing a production build of identical sources.
                str(ROOT / ".venv/bin/python"),
                "-m",
                "tests.reflex_build_cache",
                "run",
                "--env",
                "prod",
                "--single-port",
                "--backend-port",
                str(port),
                "--frontend-port",
                str(port),
            ],
            cwd=ROOT,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(base_url, process, log_path)
        yield RunningApp(
            base_url=base_url,
            database_url=database_url,
            log_path=log_path,
            process_group=process.pid,
        )
    finally:
        _stop(process)


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            # /ping answers before the frontend is mounted; the login page proves both are up.
            if httpx.get(f"{base_url}/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not start in time:\n{log_path.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
