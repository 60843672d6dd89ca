"""Accessibility checks the browser tests run on every page and state they visit.

axe-core (installed from npm by `make test` into .tools/) is injected through the
DevTools protocol, so the app's Content-Security-Policy does not stand in its way, and run
with the WCAG 2.0 and 2.1 A/AA rules. Colour contrast is checked in the light and the dark
theme: the app (and its toasts) follow the system theme, so the same page is re-checked
with the other `prefers-color-scheme` emulated.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.app_server import ROOT

AXE_SOURCE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
THEMES = ("light", "dark")

# axe.run in the page; `only` narrows it to some rules (the other theme's contrast pass).
_RUN_AXE = """async ({tags, only}) => {
  const options = {resultTypes: ["violations"]};
  options.runOnly = only ? {type: "rule", values: only} : {type: "tag", values: tags};
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""

# What has focus, and whether it (or the control box around it, as for Radix's text
# fields) shows a focus ring: an outline that is drawn and not transparent, on the
# element or on the ::before/::after Radix draws some rings with.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const drawn = (n) => [null, "::before", "::after"].some((pseudo) => {
    const s = getComputedStyle(n, pseudo);
    return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1
      && !/rgba\\(.*,\\s*0\\)$/.test(s.outlineColor);
  });
  let ring = false;
  for (let n = el, i = 0; n && i < 3 && !ring; n = n.parentElement, i++) ring = drawn(n);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("aria-label") || (el.innerText || el.value || "").trim().slice(0, 60),
    ring,
    inDialog: !!el.closest("[role=dialog], [role=alertdialog]"),
    inMain: !!el.closest("main"),
  };
}"""


def _inject_axe(page: Page) -> None:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())


def _theme(page: Page) -> str:
    dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    return "dark" if dark else "light"


def _use_theme(page: Page, theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    # The root theme has switched: its own class says so, or it has none and follows
    # <html>'s (adremix/bundling.py); either way its computed color-scheme is the theme's.
    page.wait_for_function(
        "(theme) => getComputedStyle(document.querySelector('.radix-themes')).colorScheme"
        " === theme",
        arg=theme,
    )
    # Let transitions (dialogs, toasts fading in) settle: axe reads computed colours.
    page.wait_for_timeout(300)
    # A toast on its way out fades for a moment before Sonner unmounts it; axe would
    # read its half-transparent text as the colours it shows.
    page.wait_for_function(f"() => !document.querySelector('{_LEAVING_TOAST}')")


_LEAVING_TOAST = 'li[data-sonner-toast][data-removed="true"]'


def axe_violations(page: Page) -> list[dict]:
    """Every WCAG 2.0/2.1 A and AA violation on the page as it is now, in both themes."""
    _inject_axe(page)
    start = _theme(page)
    _use_theme(page, start)
    violations = page.evaluate(_RUN_AXE, {"tags": WCAG_TAGS, "only": None})
    other = next(theme for theme in THEMES if theme != start)
    _use_theme(page, other)
    try:
        for violation in page.evaluate(_RUN_AXE, {"tags": WCAG_TAGS, "only": ["color-contrast"]}):
            violations.append({**violation, "id": f"{violation['id']} ({other} theme)"})
    finally:
        _use_theme(page, start)
    return violations


def assert_accessible(page: Page, where: str) -> None:
    """Fail with a readable list when axe finds any WCAG 2.0/2.1 A/AA violation."""
    violations = axe_violations(page)
    assert not violations, f"axe found violations on {where}:\n" + json.dumps(
        violations, indent=1, ensure_ascii=False
    )


def focused(page: Page) -> dict | None:
    """What has keyboard focus now: tag, id, name, and whether a focus ring shows."""
    return page.evaluate(_FOCUSED)


def tab_to(page: Page, selector: str, *, key: str = "Tab", limit: int = 60) -> list[dict]:
    """Press Tab until the element `selector` has focus; every stop on the way must show
    a focus ring. Returns the stops, the last one being the target."""
    stops: list[dict] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if stop is None:  # past the last control: the next Tab starts at the top again
            assert not stops or stops[-1] is not None, "Tab reaches no control at all"
            stops.append(stop)
            continue
        assert stop["ring"], f"no visible focus on {stop}"
        stops.append(stop)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return stops
    raise AssertionError(f"{selector} never got focus; stops: {stops}")
