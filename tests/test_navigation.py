"""Where sign-in may send the browser afterwards: same-site paths only, never sign-in itself."""

from __future__ import annotations

import pytest

from adremix.services.accounts import DEFAULT_AFTER_SIGN_IN, safe_next_path


def test_the_default_destination_is_the_dashboard() -> None:
    assert DEFAULT_AFTER_SIGN_IN == "/"


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/history", "/history/"),
        ("/history?x=1", "/history/?x=1"),
        ("/credits", "/credits/"),
        ("/history?status=failed&page=2#top", "/history/?status=failed&page=2#top"),
        ("/new/?remix=abc", "/new/?remix=abc"),
        ("/", "/"),
    ],
)
def test_pages_come_back_at_their_canonical_address(path: str, canonical: str) -> None:
    # The trailing slash the server would otherwise redirect to: sign-in lands directly.
    assert safe_next_path(path) == canonical


@pytest.mark.parametrize("path", ["/receipts/AR-2026-000001", "/files/result/abc", "/newsletter"])
def test_other_same_site_paths_are_kept_as_given(path: str) -> None:
    assert safe_next_path(path) == path


@pytest.mark.parametrize(
    "candidate",
    [
        pytest.param("//evil.com", id="protocol-relative"),
        pytest.param("//evil.com/history", id="protocol-relative-with-path"),
        pytest.param("https://evil.com", id="absolute-https"),
        pytest.param("http://evil.com/history", id="absolute-http"),
        pytest.param("/\\evil.com", id="backslash-authority"),
        pytest.param("/history\\..\\evil", id="backslash-inside"),
        pytest.param("javascript:alert(1)", id="javascript-scheme"),
        pytest.param("history", id="relative"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
    ],
)
def test_other_sites_and_non_paths_fall_back_to_the_dashboard(candidate: str | None) -> None:
    assert safe_next_path(candidate) == "/"


@pytest.mark.parametrize(
    "candidate",
    ["/login", "/login?next=/history", "/login/", "/auth/logout", "/auth/google/login"],
)
def test_sign_in_and_sign_out_pages_are_never_the_destination(candidate: str) -> None:
    assert safe_next_path(candidate) == "/"


@pytest.mark.parametrize(
    "candidate",
    [
        "/history\r\nSet-Cookie: adremix_session=stolen",
        "/history\nLocation: https://evil.com",
        "/history\r",
        "/his\ttory",
        "/history\x00",
    ],
)
def test_paths_with_control_characters_fall_back_to_the_dashboard(candidate: str) -> None:
    assert safe_next_path(candidate) == "/"
