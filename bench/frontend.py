"""Front-end benchmark: Lighthouse on the app beside a blank Reflex app of the same version.

    .venv/bin/python bench/frontend.py [--runs 3] [--save DIR]

Serves the app (offline defaults, as `make run` does) and a blank Reflex app that this
script generates with `reflex init --template blank` in a temporary folder, both built and
served the same way (`reflex run --env prod --single-port`). Lighthouse 12 (from npm, in
.tools/) drives Debian's Chromium over `/login/` and a signed-in `/new/` (signed in with
the developer sign-in; the session cookie is passed with --extra-headers) and the blank
app's page, in mobile and desktop mode, `--runs` times each, interleaved so machine load
falls on all alike; the run with the median performance score counts (as Lighthouse's
own median-run picks it). Then each page's JavaScript on a cold visit, every route of
the app beside the blank app's one. Prints the figures, the blank app's beside them and
the ratios, and ends with one JSON line. Performance scores move with the machine's
load: the load average is printed and recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.app_server import OFFLINE_APP_ENV, RunningApp, free_port, run_app  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

LIGHTHOUSE = ROOT / ".tools" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
FORM_FACTORS = ["mobile", "desktop"]
TARGETS = {"new_js_bytes_vs_blank_max": 1.2, "accessibility": 100, "mobile_performance_min": 90}
# Every signed-in page, for the JavaScript each one loads (beside /login/, signed out).
SIGNED_IN_ROUTES = ["/new/", "/", "/history/", "/credits/", "/account/"]
# Decoded bytes of the scripts the page has loaded (its modules and their imports).
_JS_BYTES = """() => performance.getEntriesByType("resource")
  .filter((entry) => new URL(entry.name).pathname.endsWith(".js"))
  .reduce((total, entry) => total + entry.decodedBodySize, 0)"""
START_TIMEOUT_S = 420
RETRIES = 2


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def tool_env() -> dict[str, str]:
    return {
        **os.environ,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
    }


@contextmanager
def blank_reflex_app(workdir: Path) -> Iterator[str]:
    """`reflex init --template blank`, built and served like the app; yields its URL."""
    reflex = str(ROOT / ".venv/bin/reflex")
    subprocess.run(
        [reflex, "init", "--name", "blank", "--template", "blank", "--no-agents"],
        cwd=workdir,
        env=tool_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    log = (workdir / "reflex.log").open("w")
    serve = ["run", "--env", "prod", "--single-port", "--backend-port", str(port)]
    process = subprocess.Popen(
        [reflex, *serve, "--frontend-port", str(port)],
        cwd=workdir,
        env=tool_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((workdir / "reflex.log").read_text()[-3000:])
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError("the blank app did not start in time")
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        log.close()


def session_cookie(app: RunningApp) -> str:
    """Sign in as the developer through the real login page; the session cookie's value."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{app.base_url}/login/?next=/new/")
        page.locator("#dev-email").fill("bench@example.com")
        page.locator("#dev-sign-in").click()
        page.wait_for_url(f"{app.base_url}/new/")
        cookie = next(c for c in page.context.cookies() if c["name"] == "adremix_session")
        browser.close()
        return cookie["value"]


def js_bytes_per_route(base_url: str, paths: list[str], cookie: str = "") -> dict[str, int]:
    """Decoded JavaScript bytes of a cold visit to each page, every chunk it imports
    included (the dashboard's charts load with its own chunk, on its visit only)."""
    weights: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in paths:
            context = browser.new_context()  # an empty cache for each page
            if cookie:
                context.add_cookies([{"name": "adremix_session", "value": cookie, "url": base_url}])
            page = context.new_page()
            page.goto(base_url + path, wait_until="networkidle")
            if page.url != base_url + path:
                raise RuntimeError(f"{path} went to {page.url}: the session did not hold")
            weights[path] = page.evaluate(_JS_BYTES)
            context.close()
        browser.close()
    return weights


def lighthouse(url: str, form_factor: str, out: Path, cookie: str = "") -> dict:
    """One Lighthouse run; the figures this benchmark reports."""
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={flags}",
        "--quiet",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": f"adremix_session={cookie}"}))
    for attempt in range(RETRIES + 1):
        # On a loaded machine Lighthouse now and then loses its trace (NO_NAVSTART) and
        # says to run it again.
        done = subprocess.run(command, env={**tool_env(), "CHROME_PATH": CHROMIUM})
        if done.returncode == 0:
            break
        if attempt == RETRIES:
            raise RuntimeError(f"Lighthouse failed {RETRIES + 1} times on {url}")
    report = json.loads(out.read_text())
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    scripts = [r for r in requests if r.get("resourceType") == "Script"]
    return {
        "final_url": report["finalDisplayedUrl"],
        **{c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES},
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "cls": round(audits["cumulative-layout-shift"]["numericValue"], 3),
        # Decoded bytes of JavaScript the page loaded, and what went over the wire.
        "js_bytes": sum(r.get("resourceSize", 0) for r in scripts),
        "js_transfer_bytes": sum(r.get("transferSize", 0) for r in scripts),
        "redirects": len(audits["redirects"]["details"]["items"])
        if audits.get("redirects", {}).get("details")
        else 0,
    }


def median_run(runs: list[dict]) -> dict:
    """The run whose performance score is the median (ties: closest FCP, as Lighthouse)."""
    score = statistics.median(r["performance"] for r in runs)
    fcp = statistics.median(r["fcp_ms"] for r in runs)
    return min(runs, key=lambda r: (abs(r["performance"] - score), abs(r["fcp_ms"] - fcp)))


def ratio(value: float, base: float) -> float:
    return round(value / base, 3) if base else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--save",
        type=Path,
        help="keep every Lighthouse report (JSON) in this folder, to see which audit "
        "and which request or task cost the points",
    )
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: `make bench` installs it")

    with tempfile.TemporaryDirectory(prefix="adremix-frontend-") as tmp:
        work = Path(tmp)
        (work / "blank").mkdir()
        (work / "app").mkdir()
        print("Building and starting the app and a blank Reflex app…", flush=True)
        with (
            run_app(port=free_port(), workdir=work / "app", env=OFFLINE_APP_ENV) as app,
            blank_reflex_app(work / "blank") as blank_url,
        ):
            cookie = session_cookie(app)
            targets = {
                "blank": (blank_url, ""),
                "/login/": (f"{app.base_url}/login/", ""),
                "/new/": (f"{app.base_url}/new/", cookie),
            }
            load_before = load_average()
            results: dict[str, dict[str, list[dict]]] = {
                name: {ff: [] for ff in FORM_FACTORS} for name in targets
            }
            for run in range(args.runs):
                for form_factor in FORM_FACTORS:
                    for name, (url, session) in targets.items():
                        out = work / f"{name.strip('/') or 'blank'}-{form_factor}-{run}.json"
                        result = lighthouse(url, form_factor, out, session)
                        results[name][form_factor].append(result)
                        print(
                            f"  run {run + 1} {form_factor:7} {name:8} perf "
                            f"{result['performance']:3} a11y {result['accessibility']:3} "
                            f"LCP {result['lcp_ms']:5} ms  TBT {result['tbt_ms']:4} ms  "
                            f"JS {result['js_bytes']:,} B  "
                            f"(load {load_average()})",
                            flush=True,
                        )
            load_after = load_average()
            per_route = {
                **js_bytes_per_route(app.base_url, ["/login/"]),
                **js_bytes_per_route(app.base_url, SIGNED_IN_ROUTES, cookie),
            }
            blank_js = js_bytes_per_route(blank_url.rstrip("/"), ["/"])["/"]
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            for report in work.glob("*-*-*.json"):
                shutil.copy(report, args.save / report.name)
        shutil.rmtree(work, ignore_errors=True)

    medians = {
        name: {ff: median_run(runs) for ff, runs in by_ff.items()}
        for name, by_ff in results.items()
    }
    blank = medians.pop("blank")
    summary: dict[str, dict] = {}
    print(f"\nMedian of {args.runs} runs (load average {load_before} → {load_after}):")
    print(f"{'':10}{'':9}{'perf':>5}{'a11y':>5}{'b-p':>5}{'seo':>5}{'LCP ms':>8}{'JS bytes':>11}")
    for name, by_ff in [("blank", blank), *medians.items()]:
        for form_factor, m in by_ff.items():
            print(
                f"{name:10}{form_factor:9}{m['performance']:5}{m['accessibility']:5}"
                f"{m['best-practices']:5}{m['seo']:5}{m['lcp_ms']:8}{m['js_bytes']:11,}"
            )
    print(f"\nJavaScript per page, cold visit (decoded bytes; blank app {blank_js:,}):")
    for path, size in per_route.items():
        print(f"  {path:10}{size:11,}  ÷ blank {ratio(size, blank_js)}")
    for route, by_ff in medians.items():
        js_ratio = ratio(by_ff["mobile"]["js_bytes"], blank["mobile"]["js_bytes"])
        lcp = {ff: ratio(by_ff[ff]["lcp_ms"], blank[ff]["lcp_ms"]) for ff in FORM_FACTORS}
        print(f"{route}: JS ÷ blank {js_ratio}, LCP ÷ blank {lcp}")
        summary[route] = {
            "js_bytes_vs_blank": js_ratio,
            "lcp_vs_blank": lcp,
            "js_bytes": by_ff["mobile"]["js_bytes"],
            **{ff: by_ff[ff] for ff in FORM_FACTORS},
        }
    met = {
        "new_js_bytes_vs_blank": summary["/new/"]["js_bytes_vs_blank"]
        <= TARGETS["new_js_bytes_vs_blank_max"],
        "accessibility": all(
            summary[r][ff]["accessibility"] >= TARGETS["accessibility"]
            for r in summary
            for ff in FORM_FACTORS
        ),
        "mobile_performance": all(
            summary[r]["mobile"]["performance"] >= TARGETS["mobile_performance_min"]
            for r in summary
        ),
    }
    print(f"Targets met: {met}")
    print(
        json.dumps(
            {
                "bench": "frontend",
                "runs": args.runs,
                "load_average": {"before": load_before, "after": load_after},
                "blank": blank,
                "routes": summary,
                "js_bytes_per_route": {
                    path: {"js_bytes": size, "vs_blank": ratio(size, blank_js)}
                    for path, size in per_route.items()
                },
                "blank_js_bytes": blank_js,
                "targets": TARGETS,
                "targets_met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
