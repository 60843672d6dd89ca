"""Every page evaluates and renders: catches component and Var mistakes in seconds."""

from __future__ import annotations

import pytest

import adremix.adremix  # noqa: F401  (registers every page)
from adremix.components.admin_shell import ADMIN_PAGES
from adremix.components.shell import PAGES
from adremix.pages.login import login
from adremix.pages.not_found import not_found


@pytest.mark.parametrize(
    "page",
    [login, not_found, *[entry[0] for entry in PAGES + ADMIN_PAGES]],
    ids=lambda p: p.__name__,
)
def test_page_renders(page) -> None:  # type: ignore[no-untyped-def]
    rendered = page().render()
    assert rendered


@pytest.mark.parametrize("page", [entry[0] for entry in PAGES], ids=lambda p: p.__name__)
def test_each_protected_page_compiles_into_its_own_module(page) -> None:  # type: ignore[no-untyped-def]
    # Reflex writes a page's components to a file named after the page function's module:
    # the shell's module would put every page (and the dashboard's charts) in one chunk.
    assert page.__module__ == f"adremix.pages.{page.__name__}"
