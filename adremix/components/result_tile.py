"""A generated image: thumbnail, full-size view, downloads, "Remix this", placement export."""

import reflex as rx

from adremix.components.link_button import link_button, link_menu_item
from adremix.enums import ImageKind
from adremix.services.generation import PLACEMENT_EXPORTS
from adremix.urls import DOWNLOAD_FORMATS, NEW_AD, file_url, placement_url


def result_tile(sha: rx.Var, description: rx.Var) -> rx.Component:
    """`description` says what the image is (style and placement): its alt text."""
    full = file_url(sha)
    return rx.box(
        rx.dialog.root(
            rx.dialog.trigger(
                # A real button around the thumbnail, so the keyboard can open it too.
                rx.el.button(
                    rx.image(
                        src=file_url(sha, ImageKind.THUMB),
                        alt=description,
                        width="100%",
                        aspect_ratio="1",
                        object_fit="cover",
                        border_radius="10px",
                        class_name="result-thumb",
                        loading="lazy",
                        display="block",
                    ),
                    type="button",
                    class_name="result-open",
                    width="100%",
                    padding="0",
                    border="none",
                    border_radius="10px",
                    background="none",
                    cursor="zoom-in",
                ),
            ),
            rx.dialog.content(
                rx.dialog.title(description, size="3"),
                rx.image(src=full, alt=description + ", full size", width="100%"),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    margin_top="0.75rem",
                ),
                max_width="min(90vw, 56rem)",
            ),
        ),
        rx.hstack(
            link_button(
                rx.icon("wand-sparkles", size=14),
                "Remix this",
                href=NEW_AD + "?remix=" + sha,
                reload_document=True,
                size="1",
                variant="soft",
            ),
            rx.menu.root(
                rx.menu.trigger(
                    rx.button(
                        rx.icon("download", size=14),
                        "Download",
                        size="1",
                        variant="soft",
                        class_name="download-menu",
                    )
                ),
                rx.menu.content(
                    *[
                        link_menu_item(label, file_url(sha, download=fmt))
                        for fmt, label in DOWNLOAD_FORMATS.items()
                    ],
                    rx.menu.separator(),
                    rx.menu.sub(
                        rx.menu.sub_trigger("Export for placements"),
                        rx.menu.sub_content(
                            *[
                                link_menu_item(
                                    f"{label} {size[0]}x{size[1]}", placement_url(sha, name)
                                )
                                for name, (label, size) in PLACEMENT_EXPORTS.items()
                            ],
                            link_menu_item("All placements (.zip)", placement_url(sha)),
                        ),
                    ),
                ),
            ),
            spacing="2",
            margin_top="0.5rem",
            wrap="wrap",
        ),
        width="100%",
    )
