"""A generated image: thumbnail, full-size view, downloads, "Remix this", placement export."""

import reflex as rx

from adremix.services.placements import PLACEMENT_EXPORTS


def _download(label: str, href: rx.Var | str) -> rx.Component:
    return rx.menu.item(rx.link(label, href=href, reload_document=True, underline="none"))


def result_tile(sha: rx.Var) -> rx.Component:
    full = "/files/result/" + sha
    return rx.box(
        rx.dialog.root(
            rx.dialog.trigger(
                rx.image(
                    src="/files/thumb/" + sha + ".webp",
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
                    _download("PNG", full + "?format=png&download=1"),
                    _download("JPEG", full + "?format=jpeg&download=1"),
                    _download("WebP", full + "?format=webp&download=1"),
                    rx.menu.separator(),
                    rx.text(
                        "Export for placements", size="1", color_scheme="gray", padding_x="0.75rem"
                    ),
                    *[
                        _download(
                            f"{label} {size[0]}x{size[1]}",
                            "/files/result/" + sha + f"/placement/{name}.jpg",
                        )
                        for name, (label, size) in PLACEMENT_EXPORTS.items()
                    ],
                    _download("All placements (.zip)", "/files/result/" + sha + "/placements.zip"),
                ),
            ),
            spacing="2",
            margin_top="0.5rem",
            wrap="wrap",
        ),
        width="100%",
    )
