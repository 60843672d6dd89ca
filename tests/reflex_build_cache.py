"""`reflex` as the tests run it: the real CLI, with the production frontend build cached
by the digest of what it is built from.

Every browser-test module starts its own production app, and `reflex run --env prod`
compiles the app (seconds) and then rebuilds the whole frontend with Vite (15-30 s on
this machine) even when the compiled sources are byte for byte the ones built a minute
earlier. Here the build step keys each build by a digest of the compiled `.web` sources
(and the build's environment); a digest seen before gets that build back, anything else
is built by Reflex as usual. Compiling, serving and every request are Reflex's own; only
an identical rebuild is skipped.

    python -m tests.reflex_build_cache run --env prod --single-port ...
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from reflex import constants
from reflex.reflex import cli
from reflex.utils import build as reflex_build
from reflex.utils import prerequisites

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "frontend-builds"
KEEP = 6  # the distinct builds of one test run (offline, production, OpenAI, admin...)
# Not sources: what the build makes, installs or reads for its own bookkeeping.
SKIPPED = {constants.Dirs.BUILD_DIR, "node_modules", ".react-router"}
# Reflex's own bookkeeping in `.web`, rewritten on every run (the time of the last run).
UNREAD = {constants.Reflex.JSON, "reflex.install_frontend_packages.cached"}
# Read by Vite while building (Reflex passes its environment through `frontend_env`).
BUILD_ENV_PREFIXES = ("VITE_", "REFLEX_", "NODE_")

_reflex_build = reflex_build.build


def sources_digest(web: Path) -> str:
    """SHA-256 over every source file's path and bytes, and the build's environment."""
    digest = hashlib.sha256()
    for path in sorted(_sources(web)):
        digest.update(str(path.relative_to(web)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in sorted(os.environ):
        if name.startswith(BUILD_ENV_PREFIXES):
            digest.update(f"{name}={os.environ[name]}\0".encode())
    return digest.hexdigest()


def _sources(web: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(web):
        if Path(directory) == web:
            subdirectories[:] = [d for d in subdirectories if d not in SKIPPED]
            files = [name for name in files if name not in UNREAD]
        found.extend(Path(directory) / name for name in files)
    return found


def cached_build() -> None:
    """Reflex's `build()`, unless these very sources were built before."""
    web = prerequisites.get_web_dir()
    built = web / constants.Dirs.BUILD_DIR
    digest = sources_digest(web)
    cached = CACHE / digest
    if cached.is_dir():
        shutil.rmtree(built, ignore_errors=True)
        shutil.copytree(cached, built)
        return
    _reflex_build()
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = CACHE / f"{digest}.partial-{os.getpid()}"
    shutil.copytree(built, staging)
    staging.rename(cached)  # whole or not at all, even if this process is killed
    _prune()


def _prune() -> None:
    builds = sorted(
        (p for p in CACHE.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for stale in builds[KEEP:]:
        shutil.rmtree(stale, ignore_errors=True)


if __name__ == "__main__":
    # `setup_frontend_prod` looks `build` up in its module when it runs.
    reflex_build.build = cached_build
    sys.argv[0] = "reflex"
    sys.exit(cli())
