"""The chunking plugin edits the Vite config Reflex writes: it must find its place in
Reflex's own template, add its group once, and stop the build when the template changes."""

import pytest
from reflex_base.compiler.templates import vite_config_template

from adremix.bundling import chunking_options


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
