"""The Vite config edits (adremix/bundling.py) must find their place in Reflex's own
template, be added once, and stop the build when the template changes."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import reflex_base
from reflex_base.compiler.templates import vite_config_template

from adremix.bundling import (
    COLOR_MODE_PROVIDER,
    THEME_PROVIDER,
    chunking_options,
    html_classes_if_changed,
    root_theme_class_if_not_inherited,
    without_root_has,
)


def reflex_vite_config() -> str:
    return vite_config_template(
        base="/", hmr=False, force_full_reload=False, experimental_hmr=False, sourcemap=False
    )


def test_the_icon_group_follows_reflex_s_own_group_once() -> None:
    edited = chunking_options(reflex_vite_config())
    groups = edited[edited.index("groups: [") : edited.index("],", edited.index("groups: ["))]
    assert groups.index('name: "reflex-env"') < groups.index('name: "icons"')
    assert groups.count('name: "icons"') == 1
    assert "lucide-react[\\\\/]dist[\\\\/]esm[\\\\/]icons" in groups
    assert chunking_options(edited) == edited  # a second compile changes nothing


def test_a_changed_template_stops_the_build() -> None:
    changed = reflex_vite_config().replace('name: "reflex-env"', 'name: "env"')
    with pytest.raises(RuntimeError, match=r"update adremix/bundling\.py"):
        chunking_options(changed)


def test_the_root_has_step_is_added_to_reflex_s_plugins_once() -> None:
    edited = without_root_has(reflex_vite_config())
    plugins = edited[edited.index("plugins: [") : edited.index("].concat(")]
    assert plugins.count('name: "adremix-drop-root-has"') == 1
    assert plugins.index("safariCacheBustPlugin()") < plugins.index("adremix-drop-root-has")
    assert without_root_has(edited) == edited


def test_a_changed_plugin_list_stops_the_build() -> None:
    changed = reflex_vite_config().replace("safariCacheBustPlugin(),", "safariCacheBust(),")
    with pytest.raises(RuntimeError, match=r"update adremix/bundling\.py"):
        without_root_has(changed)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_step_s_pattern_matches_radix_s_minified_rule(theme: str) -> None:
    # The rule as Lightning CSS writes it into the built stylesheet (quotes dropped).
    rule = (
        f".radix-themes:where(.{theme},.{theme}-theme),:root:where(:has(.radix-themes"
        f"[data-is-root-theme=true]:where(.{theme},.{theme}-theme))){{color-scheme:{theme}}}"
    )
    pattern = re.search(r"const rootHas = /(.*)/g;", without_root_has(reflex_vite_config()))
    assert pattern is not None
    # JavaScript's \1 back-reference is Python's too; the rest of the syntax is shared.
    assert re.sub(pattern.group(1), "", rule) == (
        f".radix-themes:where(.{theme},.{theme}-theme){{color-scheme:{theme}}}"
    )


def reflex_web_template(path: str) -> str:
    return (Path(reflex_base.__file__).parent / ".templates" / "web" / path).read_text()


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        (THEME_PROVIDER, html_classes_if_changed),
        (COLOR_MODE_PROVIDER, root_theme_class_if_not_inherited),
    ],
)
def test_the_color_mode_edits_replace_reflex_s_code_once(
    path: str, edit: Callable[[str], str]
) -> None:
    source = reflex_web_template(path)
    edited = edit(source)
    assert edited != source
    assert edited.count("/* adremix color-mode classes */") == 1
    assert edit(edited) == edited  # a second compile changes nothing
    # The class is still set when it differs: the edit adds a condition, not a removal.
    assert "classList.add(resolvedTheme)" in edited


def test_a_changed_color_mode_provider_stops_the_build() -> None:
    changed = reflex_web_template(COLOR_MODE_PROVIDER).replace("if (radixRoot) {", "if (root) {")
    with pytest.raises(RuntimeError, match=r"update it"):
        root_theme_class_if_not_inherited(changed)
