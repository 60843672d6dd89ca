"""What the app changes in the frontend Reflex generates: how the production build splits
the JavaScript into files (Vite/Rolldown chunking), one edit of the built stylesheet, and
Reflex's color-mode effects (both at the end).

Rolldown gives every set of pages that shares a module its own chunk. Reflex imports
each Lucide icon as its own module, and each icon is shared by a different set of pages,
so a signed-in page loaded 17 files of 200-600 bytes each, one per icon, beside the 20
it needs anyway. Each is a request with its own round trip and about 900 bytes of
response headers before the page can paint (Lighthouse's mobile run models a slow 4G
link). Reflex writes `.web/vite.config.js` from its own template and offers no option
for chunking, so FrontendEdits (at the end) edits that file during compilation (the plugin API's
`add_modify_task`) and fails the build when the template no longer has what it edits.

Only the icons: merging the framework chunks too (React Router, Emotion, Reflex's state)
was tried and made `/new/` 20-30 KB heavier: the same modules, larger once minified
together (`/new/` has little room under its 1.2x-the-blank-app weight target).
"""

from collections.abc import Callable
from typing import Any

from reflex_base.plugins.base import Plugin

VITE_CONFIG = "vite.config.js"
# Reflex's template (reflex_base/compiler/templates.py): the end of its one chunk group.
_GROUPS_ANCHOR = """name: "reflex-env",
            },"""
_MARKER = "/* adremix chunking */"
# Every icon used by two pages or more, in one file: about 15 KB of the 45 icons'
# 23 KB (one page's own icons stay in its chunk, and the icons Reflex's DynamicIcon
# can import on demand stay one file each). Rolldown adds what they import, which
# every page loads anyway (React, createLucideIcon).
_GROUPS = f"""{_MARKER}
            {{
              name: "icons",
              test: /[\\\\/]lucide-react[\\\\/]dist[\\\\/]esm[\\\\/]icons[\\\\/]/,
              minShareCount: 2,
            }},"""


def chunking_options(vite_config: str) -> str:
    """`vite.config.js` with the app's chunking options added to Reflex's."""
    if _MARKER in vite_config:
        return vite_config
    if vite_config.count(_GROUPS_ANCHOR) != 1:
        msg = f"{VITE_CONFIG} no longer has one `{_GROUPS_ANCHOR}`: update adremix/bundling.py"
        raise RuntimeError(msg)
    return vite_config.replace(_GROUPS_ANCHOR, f"{_GROUPS_ANCHOR}\n            {_GROUPS}")


# Radix Themes sets the page's `color-scheme` with `:root:where(:has(.radix-themes
# [data-is-root-theme=true]:where(.light, .light-theme)))` (and the same for dark). A
# `:has()` on the root makes the browser re-check the root's style after every DOM insert or
# removal anywhere in the page, and the root carries every colour token: on /new/ the
# hydration and the state's arrival each re-styled the whole document for it (Chrome's
# invalidation tracking: "Affected by :has()" on <html>). The rule is redundant here:
# Reflex's script in <head> puts `light`/`dark` and `color-scheme` on <html> before the
# first paint, and `.light`/`.dark` on <html> select the same tokens. The edit runs on the
# built stylesheet, after Lightning CSS has minified it, and fails the build when the rule
# is no longer there to remove.
_PLUGINS_ANCHOR = "    safariCacheBustPlugin(),\n"
_ROOT_HAS_MARKER = "/* adremix root color-scheme */"
# The two rules' extra selector as Lightning CSS writes it (quotes dropped), light and dark.
_ROOT_HAS_RE = (
    r",:root:where\(:has\(\.radix-themes\[data-is-root-theme=[\"']?true[\"']?\]"
    r":where\(\.(light|dark),\.\1-theme\)\)\)"
)
_ROOT_HAS_ERROR = "Radix's :root:has() color-scheme rules changed: update adremix/bundling.py"
_ROOT_HAS_PLUGIN = f"""    {_ROOT_HAS_MARKER}
    {{
      name: "adremix-drop-root-has",
      apply: "build",
      generateBundle(_options, bundle) {{
        const rootHas = /{_ROOT_HAS_RE}/g;
        for (const asset of Object.values(bundle)) {{
          if (asset.type !== "asset" || !asset.fileName.endsWith(".css")) continue;
          const css = String(asset.source);
          if (!css.includes("[data-is-root-theme=")) continue;
          if ((css.match(rootHas) || []).length !== 2) this.error({_ROOT_HAS_ERROR!r});
          asset.source = css.replace(rootHas, "");
        }}
      }},
    }},
"""


def without_root_has(vite_config: str) -> str:
    """`vite.config.js` with a build step that drops Radix's `:root:has()` rules."""
    if _ROOT_HAS_MARKER in vite_config:
        return vite_config
    if vite_config.count(_PLUGINS_ANCHOR) != 1:
        anchor = _PLUGINS_ANCHOR.strip()
        msg = f"{VITE_CONFIG} no longer has one `{anchor}`: update adremix/bundling.py"
        raise RuntimeError(msg)
    return vite_config.replace(_PLUGINS_ANCHOR, _PLUGINS_ANCHOR + _ROOT_HAS_PLUGIN)


# Reflex's color-mode effects rewrite classes that already say the right thing: after
# hydration its ThemeProvider takes `light`/`dark` off <html> and puts the same one back,
# and its Radix provider adds that class to the root theme element, which inherits it from
# <html> already. Each class change restyles the whole document (Chrome's invalidation
# tracking: "Invalidation set invalidates self" on <html> and the root, then a full style
# recalculation of /new/'s 430-odd elements, one of the long tasks after the first paint).
# These edits make both effects change only what differs; a real switch of the color mode
# still sets both classes. Each fails the build when Reflex's file no longer has the code
# it replaces.
THEME_PROVIDER = "utils/react-theme.js"
COLOR_MODE_PROVIDER = "components/reflex/radix_themes_color_mode_provider.js"
_COLOR_MODE_MARKER = "/* adremix color-mode classes */"
_HTML_CLASSES = """    root.classList.remove("light", "dark");
    root.classList.add(resolvedTheme);
    root.style.colorScheme = resolvedTheme;"""
_HTML_CLASSES_IF_CHANGED = f"""    {_COLOR_MODE_MARKER}
    const other = resolvedTheme === "light" ? "dark" : "light";
    if (root.classList.contains(other) || !root.classList.contains(resolvedTheme)) {{
      root.classList.remove("light", "dark");
      root.classList.add(resolvedTheme);
    }}
    if (root.style.colorScheme !== resolvedTheme) root.style.colorScheme = resolvedTheme;"""
_ROOT_THEME_CLASS = """    if (radixRoot) {"""
_ROOT_THEME_CLASS_IF_NOT_INHERITED = f"""    {_COLOR_MODE_MARKER}
    // Without a class of its own the root theme follows <html>'s, which is already right.
    const inherited =
      document.documentElement.classList.contains(resolvedTheme) &&
      !radixRoot?.classList.contains("light") &&
      !radixRoot?.classList.contains("dark");
    if (radixRoot && !inherited) {{"""


def _replace_once(source: str, name: str, old: str, new: str) -> str:
    if _COLOR_MODE_MARKER in source:
        return source
    if source.count(old) != 1:
        msg = f"Reflex's {name} no longer has the code adremix/bundling.py replaces: update it"
        raise RuntimeError(msg)
    return source.replace(old, new)


def html_classes_if_changed(source: str) -> str:
    """Reflex's ThemeProvider, touching <html>'s class and color-scheme only to change them."""
    return _replace_once(source, THEME_PROVIDER, _HTML_CLASSES, _HTML_CLASSES_IF_CHANGED)


def root_theme_class_if_not_inherited(source: str) -> str:
    """Reflex's Radix color-mode provider, leaving the root theme's class to <html>'s."""
    return _replace_once(
        source, COLOR_MODE_PROVIDER, _ROOT_THEME_CLASS, _ROOT_THEME_CLASS_IF_NOT_INHERITED
    )


# Every edit above, by the generated file it applies to, in the order they run (two on the
# Vite config compose: each gets the other's output).
EDITS: tuple[tuple[str, Callable[[str], str]], ...] = (
    (VITE_CONFIG, chunking_options),
    (VITE_CONFIG, without_root_has),
    (THEME_PROVIDER, html_classes_if_changed),
    (COLOR_MODE_PROVIDER, root_theme_class_if_not_inherited),
)


class FrontendEdits(Plugin):
    """Applies EDITS to the frontend files Reflex generates, on every compile."""

    def pre_compile(self, **context: Any) -> None:
        add_modify_task: Callable[[str, Callable[[str], str]], None] = context["add_modify_task"]
        for path, edit in EDITS:
            add_modify_task(path, edit)
