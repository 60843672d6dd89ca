"""A generated image: thumbnail, full-size view, downloads, "Remix this", placement export."""

import reflex as rx

from adremix.enums import ImageKind
from adremix.services.generation import PLACEMENT_EXPORTS
from adremix.urls import DOWNLOAD_FORMATS, file_url, placement_url


def _download(label: str, href: rx.Var | str) -> rx.Component:
    return rx.menu.item(rx.link(label, href=href, reload_document=True, underline="none"))


def result_tile(sha: rx.Var) -> rx.Component:
    full = file_url(sha)
    return rx.box(
        rx.dialog.root(
            rx.dialog.trigger(
                rx.image(
                    src=file_url(sha, ImageKind.THUMB),
                    alt="Generated ad",
                    width="100%",
                    aspect_ratio="1",
                    object_fit="cover",
                    border_radius="10px",
                    cursor="zoom-in",
                    class_name="result-thumb",
                    loading="lazy",
                ),
            ),
            rx.dialog.content(
                rx.image(
                    src=full, alt="Generated ad, full size", width="100%", border_radius="8px"
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    margin_top="0.75rem",
                ),
                max_width="min(90vw, 56rem)",
            ),
        ),
        rx.hstack(
            rx.link(
                rx.button(
                    rx.icon("wand-sparkles", size=14), "Remix this", size="1", variant="soft"
                ),
                href="/new?remix=" + sha,
                reload_document=True,
            ),
            rx.menu.root(
                rx.menu.trigger(
                    rx.button(rx.icon("download", size=14), "Download", size="1", variant="soft")
                ),
                rx.menu.content(
                    *[
                        _download(label, file_url(sha, download=fmt))
                        for fmt, label in DOWNLOAD_FORMATS.items()
                    ],
                    rx.menu.separator(),
                    rx.text(
                        "Export for placements", size="1", color_scheme="gray", padding_x="0.75rem"
                    ),
                    *[
                        _download(f"{label} {size[0]}x{size[1]}", placement_url(sha, name))
                        for name, (label, size) in PLACEMENT_EXPORTS.items()
                    ],
                    _download("All placements (.zip)", placement_url(sha)),
                ),
            ),
            spacing="2",
            margin_top="0.5rem",
            wrap="wrap",
        ),
        width="100%",
    )
