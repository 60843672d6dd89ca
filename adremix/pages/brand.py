"""Brand: kits with logo, colours, font, tone of voice and words to avoid."""

from __future__ import annotations

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.shell import protected_page
from adremix.services.brand import MAX_FONT_BYTES, MAX_LOGO_BYTES
from adremix.services.generation import COLOUR_ROLES
from adremix.state.brand import FONT_UPLOAD_ID, LOGO_UPLOAD_ID, BrandState, KitCard, Swatch
from adremix.urls import BRAND, route_of

# Shows a logo's transparency, as design tools do.
CHECKERBOARD = "repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 16px 16px"
LOGO_ACCEPT = {"image/png": [".png"], "image/webp": [".webp"]}
FONT_ACCEPT = {
    "font/ttf": [".ttf"],
    "font/otf": [".otf"],
    "application/octet-stream": [".ttf", ".otf"],
}


def field(label: str, control_id: str, control: rx.Component, hint: str = "") -> rx.Component:
    """A control with a real <label for=...>, so screen readers announce it."""
    return rx.vstack(
        rx.el.label(label, html_for=control_id, font_size="0.875rem", font_weight="500"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
    )


def colour_input(role: str) -> rx.Component:
    value = getattr(BrandState, role)
    return rx.hstack(
        rx.box(
            width="1.6rem",
            height="1.6rem",
            border_radius="6px",
            border=f"1px solid {rx.color('gray', 7)}",
            background=rx.cond(value != "", value, "transparent"),
            flex_shrink="0",
            aria_hidden="true",
        ),
        field(
            role.title(),
            f"kit-{role}",
            rx.input(
                value=value,
                on_change=lambda v: BrandState.set_field(role, v),
                placeholder="#1a73e8",
                max_length=7,
                id=f"kit-{role}",
            ),
        ),
        align="end",
        spacing="2",
        width="100%",
    )


def upload_zone(
    upload_id: str,
    accept: dict,
    max_size: int,
    on_drop: rx.event.EventSpec,
    on_rejected: rx.event.EventHandler,
    label: str,
    busy: rx.Var,
) -> rx.Component:
    zone = rx.upload.root(
        rx.hstack(
            rx.cond(busy, rx.spinner(size="2"), rx.icon("upload", size=18)),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
        ),
        id=upload_id,
        accept=accept,
        max_files=1,
        max_size=max_size,
        multiple=False,
        on_drop=on_drop,
        on_drop_rejected=on_rejected,
        border=f"1px dashed {rx.color('accent', 8)}",
        border_radius="8px",
        padding="0.75rem",
        cursor="pointer",
        width="100%",
    )
    # The <label> around the zone names its file input and opens it on a click.
    return rx.el.label(zone, display="block", width="100%")


def kit_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(
                rx.cond(BrandState.editing_id == 0, "New brand kit", "Edit brand kit"), size="4"
            ),
            field(
                "Kit name",
                "kit-name",
                rx.input(
                    value=BrandState.name,
                    on_change=lambda v: BrandState.set_field("name", v),
                    placeholder="Chai Co – festive",
                    max_length=80,
                    id="kit-name",
                ),
            ),
            rx.text("Logo", size="2", weight="medium"),
            rx.cond(
                BrandState.logo_sha != "",
                rx.hstack(
                    rx.image(
                        src=BrandState.logo_url,
                        alt="Kit logo",
                        max_height="4rem",
                        id="kit-logo-preview",
                        background=CHECKERBOARD,
                        padding="0.25rem",
                        border_radius="6px",
                    ),
                    rx.button(
                        "Remove logo", variant="soft", size="1", on_click=BrandState.remove_logo
                    ),
                    align="center",
                    spacing="3",
                ),
                upload_zone(
                    LOGO_UPLOAD_ID,
                    LOGO_ACCEPT,
                    MAX_LOGO_BYTES,
                    BrandState.upload_logo(rx.upload_files(upload_id=LOGO_UPLOAD_ID)),
                    BrandState.logo_rejected,
                    "Logo: PNG or WebP with a transparent background, up to 5 MB (no SVG)",
                    BrandState.uploading_logo,
                ),
            ),
            rx.grid(
                *[colour_input(role) for role in COLOUR_ROLES],
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.grid(
                field(
                    "Font",
                    "kit-font",
                    rx.el.select(
                        rx.foreach(
                            BrandState.font_options,
                            lambda option: rx.el.option(option[1], value=option[0]),
                        ),
                        value=BrandState.font,
                        on_change=BrandState.set_font,
                        id="kit-font",
                        padding="0.4rem",
                        border_radius="6px",
                        width="100%",
                    ),
                    "Indian-language text is always set in the matching Noto Sans font.",
                ),
                rx.vstack(
                    rx.text("Or upload a font", size="2", weight="medium"),
                    upload_zone(
                        FONT_UPLOAD_ID,
                        FONT_ACCEPT,
                        MAX_FONT_BYTES,
                        BrandState.upload_font(rx.upload_files(upload_id=FONT_UPLOAD_ID)),
                        BrandState.font_rejected,
                        "TTF or OTF, up to 2 MB (checked by a font sanitiser)",
                        BrandState.uploading_font,
                    ),
                    spacing="1",
                    width="100%",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            field(
                "Tone of voice",
                "kit-tone",
                rx.text_area(
                    value=BrandState.tone,
                    on_change=lambda v: BrandState.set_field("tone", v),
                    placeholder="Warm, witty, never pushy",
                    max_length=300,
                    rows="2",
                    id="kit-tone",
                ),
            ),
            field(
                "Words to avoid",
                "kit-avoid",
                rx.text_area(
                    value=BrandState.avoid_words,
                    on_change=lambda v: BrandState.set_field("avoid_words", v),
                    placeholder="cheap, guaranteed, free",
                    rows="2",
                    id="kit-avoid",
                ),
                "Comma separated. Kept out of images and suggested copy.",
            ),
            rx.checkbox(
                "Preselect this kit on New Ad",
                checked=BrandState.make_default,
                on_change=BrandState.set_make_default,
                id="kit-default",
            ),
            rx.hstack(
                rx.button(
                    rx.cond(BrandState.saving, rx.spinner(size="1"), rx.icon("save", size=16)),
                    "Save kit",
                    on_click=BrandState.save,
                    disabled=BrandState.saving,
                    id="save-kit",
                ),
                rx.cond(
                    BrandState.editing_id != 0,
                    rx.button(
                        "Cancel", variant="soft", color_scheme="gray", on_click=BrandState.new_kit
                    ),
                ),
                spacing="2",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        id="kit-form",
    )


def swatch(item: Swatch) -> rx.Component:
    return rx.tooltip(
        rx.box(
            width="1.4rem",
            height="1.4rem",
            border_radius="999px",
            border=f"1px solid {rx.color('gray', 7)}",
            background=item.colour,
            role="img",
            aria_label=item.role + " " + item.colour,
        ),
        content=item.role + " " + item.colour,
    )


def kit_tile(kit: KitCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(kit.name, size="3", as_="h3"),
                rx.cond(kit.is_default, rx.badge("Default", color_scheme="grass")),
                align="center",
                spacing="2",
            ),
            rx.cond(
                kit.logo_url != "",
                rx.image(src=kit.logo_url, alt=kit.name + " logo", max_height="3rem"),
            ),
            rx.hstack(rx.foreach(kit.swatches, swatch), spacing="1"),
            rx.text("Font: ", kit.font, size="1", color_scheme="gray"),
            rx.cond(kit.tone != "", rx.text("Tone: ", kit.tone, size="1", color_scheme="gray")),
            rx.cond(kit.avoid != "", rx.text("Avoid: ", kit.avoid, size="1", color_scheme="gray")),
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=BrandState.edit_kit(kit.id)),
                rx.cond(
                    ~kit.is_default,
                    rx.button(
                        "Make default",
                        size="1",
                        variant="soft",
                        on_click=BrandState.make_kit_default(kit.id),
                    ),
                ),
                rx.button(
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=BrandState.delete_kit(kit.id),
                    aria_label="Delete kit " + kit.name,
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
        class_name="kit-tile",
    )


@protected_page(route=route_of(BRAND), title="Brand", on_load=[BrandState.load])
def brand() -> rx.Component:
    return rx.vstack(
        rx.text(
            "A brand kit keeps your logo, colours, font and tone, so every ad is on brand "
            "without retyping it. Choose a kit on New Ad.",
            color_scheme="gray",
        ),
        rx.cond(
            BrandState.kits.length() > 0,
            rx.grid(
                rx.foreach(BrandState.kits, kit_tile),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="3",
                width="100%",
                id="kit-list",
            ),
            rx.cond(
                BrandState.loaded,
                empty_state("palette", "No brand kits yet", "Create your first kit below."),
            ),
        ),
        kit_form(),
        spacing="4",
        width="100%",
    )
