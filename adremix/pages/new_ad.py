"""New Ad: upload an ad, describe the remix, generate creatives."""

from collections.abc import Callable
from typing import Any

import reflex as rx

from adremix.components.field import (
    caption,
    captioned_checkbox,
    captioned_switch,
    choice_cards,
    choice_segments,
    group_caption,
    native_select,
)
from adremix.components.link_button import link_button
from adremix.components.one_press import one_press_button
from adremix.components.result_tile import result_tile
from adremix.components.shell import protected_page
from adremix.components.status_badge import status_badge
from adremix.enums import GenerationStatus
from adremix.services.generation import (
    LANGUAGES,
    MAX_INSTRUCTIONS,
    MAX_TEXT,
    MAX_UPLOAD_BYTES,
    MAX_VARIATIONS,
    PLACEMENTS,
    QUALITIES,
    STYLES,
)
from adremix.state.new_ad import UPLOAD_ID, JobView, NewAdState
from adremix.state.session import SessionState
from adremix.urls import BRAND, CREDITS, HISTORY, NEW_AD, route_of
from adremix.views.copy_panel import copy_dialog

ACCEPT = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/webp": [".webp"]}


def section(title: str, *children: rx.Component, labels: str = "", group: str = "") -> rx.Component:
    """A titled part of the form. Its title is the label of the control with id `labels`,
    or the name of the group of options with id `group`."""
    if labels:
        head = caption(title, labels, weight="bold")
    elif group:
        head = group_caption(title, group)
    else:
        head = rx.text(title, weight="bold", size="2")
    return rx.vstack(head, *children, spacing="2", width="100%")


def optional_text(
    label: str, value: rx.Var, on_change: Callable, placeholder: str, **props: object
) -> rx.Component:
    """A free-text option of the form; `props` carry its id."""
    return section(
        f"{label} (optional)",
        rx.input(
            value=value,
            on_change=on_change,
            on_blur=NewAdState.remember_form,
            placeholder=placeholder,
            **props,
        ),
        labels=str(props["id"]),
    )


def refusal_codes(rejected: rx.Var) -> rx.Var:
    """Only the error codes of the refused files go to the server, never the files."""
    return (
        rejected.to(list[dict[str, Any]])
        .flat_map(lambda refused: refused["errors"].to(list[dict[str, Any]]))
        .map(lambda error: error.to(dict[str, Any])["code"])
    )


def source_picker() -> rx.Component:
    dropzone = rx.upload.root(
        rx.vstack(
            rx.cond(
                NewAdState.uploading,
                rx.spinner(size="3"),
                rx.icon("image-up", size=32, color=rx.color("accent", 10)),
            ),
            rx.text("Drop your ad here, or click to choose", weight="medium"),
            rx.text(
                "PNG, JPEG or WebP · up to 20 MB and 50 megapixels", size="1", color_scheme="gray"
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        accept=ACCEPT,
        max_files=1,
        max_size=MAX_UPLOAD_BYTES,
        multiple=False,
        on_drop=NewAdState.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        on_drop_rejected=lambda rejected: NewAdState.refuse_files(refusal_codes(rejected)),
        # The <label> around the zone names its file input and opens it on a click; the
        # zone's own click handler would open the file dialog a second time. Enter and
        # Space on the focused zone still open it.
        no_click=True,
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="12px",
        padding="2rem",
        width="100%",
        cursor="pointer",
        background=rx.color("accent", 2),
    )
    dropzone = rx.el.label(dropzone, display="block", width="100%")
    preview = rx.hstack(
        rx.image(
            src=NewAdState.source_url,
            alt="Source ad",
            max_height="14rem",
            max_width="60%",
            border_radius="10px",
            id="source-preview",
        ),
        rx.vstack(
            rx.text("Source ad", weight="bold"),
            rx.text(NewAdState.source_size, size="1", color_scheme="gray"),
            rx.text(NewAdState.source_note, size="1", color_scheme="amber", high_contrast=True),
            rx.button(
                rx.icon("x", size=14),
                "Change image",
                variant="soft",
                size="1",
                on_click=NewAdState.clear_source,
                # The drop zone that had focus is gone: keep the keyboard where it was.
                auto_focus=True,
            ),
            spacing="2",
        ),
        spacing="4",
        align="start",
        width="100%",
    )
    return rx.cond(NewAdState.source_sha != "", preview, dropzone)


def template_picker() -> rx.Component:
    # A real radio group (native radios drawn as cards): arrows, Space and screen readers
    # just work, and hydrating it costs no extra render (components/field.py).
    return choice_cards(
        "template",
        "template",
        [
            (
                code,
                rx.hstack(
                    rx.box(
                        width="0.9rem",
                        height="0.9rem",
                        border_radius="999px",
                        background=f"rgb{template.accent}",
                    ),
                    rx.text(template.name, size="2", weight="medium"),
                    align="center",
                    spacing="2",
                ),
            )
            for code, template in STYLES.items()
        ],
        value=NewAdState.template,
        on_change=NewAdState.set_template,
        columns=rx.breakpoints(initial="2", sm="3", lg="5"),
        gap="2",
        width="100%",
    )


def options_panel() -> rx.Component:
    return rx.vstack(
        section(
            "How should we remix it?",
            rx.text_area(
                placeholder="e.g. Make it a Diwali offer: warm lights, 30% off, keep the bottle",
                value=NewAdState.instructions,
                on_change=NewAdState.set_instructions,
                on_blur=NewAdState.remember_form,
                max_length=MAX_INSTRUCTIONS,
                rows="4",
                width="100%",
                id="instructions",
            ),
            rx.text(
                NewAdState.instructions_length,
                f" / {MAX_INSTRUCTIONS}",
                size="1",
                color_scheme="gray",
                align="right",
                width="100%",
            ),
            labels="instructions",
        ),
        section(
            "Style",
            rx.cond(
                NewAdState.saved_templates.length() > 0,
                native_select(
                    rx.el.option("Start from one of your templates…", value="", disabled=True),
                    rx.foreach(
                        NewAdState.saved_templates,
                        lambda t: rx.el.option(t.name, value=t.id),
                    ),
                    value=NewAdState.saved_template_id,
                    on_change=NewAdState.use_saved_template,
                    id="saved-template",
                    aria_label="Saved template",
                ),
            ),
            template_picker(),
            group="template",
        ),
        rx.grid(
            section(
                "Placement",
                choice_segments(
                    "placement",
                    [(value, label) for value, (label, _, _) in PLACEMENTS.items()],
                    value=NewAdState.placement,
                    on_change=NewAdState.set_placement,
                ),
                group="placement",
            ),
            section(
                "Quality",
                choice_segments(
                    "quality",
                    [(q, q.title()) for q in QUALITIES],
                    value=NewAdState.quality,
                    on_change=NewAdState.set_quality,
                ),
                group="quality",
            ),
            section(
                "Variations",
                native_select(
                    *[rx.el.option(str(n), value=str(n)) for n in range(1, MAX_VARIATIONS + 1)],
                    value=NewAdState.variations.to_string(),
                    on_change=NewAdState.set_variations,
                    id="variations",
                ),
                labels="variations",
            ),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            section(
                "Brand kit",
                native_select(
                    rx.el.option("No kit", value="0"),
                    rx.foreach(NewAdState.kits, lambda k: rx.el.option(k.name, value=k.id)),
                    value=NewAdState.brand_kit_id.to_string(),
                    on_change=NewAdState.set_brand_kit,
                    id="brand-kit",
                ),
                rx.link("Manage brand kits", href=BRAND, size="1"),
                labels="brand-kit",
            ),
            section(
                "Text language",
                native_select(
                    *[rx.el.option(name, value=code) for code, name in LANGUAGES.items()],
                    value=NewAdState.language,
                    on_change=NewAdState.set_language,
                    id="language",
                ),
                labels="language",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            optional_text(
                "Headline",
                NewAdState.headline,
                NewAdState.set_headline,
                "Monsoon Sale",
                max_length=MAX_TEXT,
                id="headline",
            ),
            optional_text(
                "Call to action",
                NewAdState.call_to_action,
                NewAdState.set_call_to_action,
                "Shop now",
                max_length=MAX_TEXT,
                id="cta",
            ),
            optional_text(
                "Brand colours",
                NewAdState.brand_colors,
                NewAdState.set_brand_colors,
                "#ff6600, #1a1a1a",
                max_length=120,
                id="brand-colors",
            ),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        copy_dialog(),
        captioned_switch(
            "Keep product and logo unchanged (high input fidelity)",
            "keep-product",
            checked=NewAdState.keep_product,
            on_change=NewAdState.set_keep_product,
        ),
        captioned_checkbox(
            "Always make a fresh result (skip the free cache)",
            "fresh",
            checked=NewAdState.fresh,
            on_change=NewAdState.set_fresh,
        ),
        spacing="5",
        width="100%",
    )


def generate_bar() -> rx.Component:
    short = SessionState.credit_balance < NewAdState.cost
    blocker = rx.cond(
        NewAdState.source_sha == "",
        "Upload an ad to start.",
        rx.cond(
            NewAdState.instructions.strip() == "",
            "Describe how to remix it.",
            rx.cond(short, "Not enough credits for this many images.", ""),
        ),
    )
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(
                    "Cost: ",
                    rx.text.strong(NewAdState.cost),
                    " credit(s) · you have ",
                    SessionState.credit_balance,
                    id="cost-summary",
                ),
                rx.text(blocker, size="1", color_scheme="gray", id="generate-hint"),
                rx.badge(NewAdState.engine_label, variant="soft", id="engine-label"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                short,
                link_button("Buy credits", href=CREDITS, variant="soft", size="3"),
            ),
            one_press_button(
                rx.icon("sparkles", size=16),
                NewAdState.generate_label,
                size="3",
                on_press=NewAdState.generate(NewAdState.request_key),
                ack=NewAdState.press_ack,
                busy=NewAdState.starting,
                busy_label="Starting…",
                disabled=blocker != "",
                id="generate",
                # What is missing before it can be pressed is read with it.
                custom_attrs={"aria-describedby": "generate-hint"},
            ),
            align="center",
            width="100%",
            wrap="wrap",
            spacing="3",
        ),
        width="100%",
        position="sticky",
        bottom="0.75rem",
        z_index="3",
    )


def placeholder_tile(_: rx.Var) -> rx.Component:
    return rx.skeleton(
        rx.box(width="100%", aspect_ratio="1"), loading=True, border_radius="10px", width="100%"
    )


def job_card(job: JobView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(job.instructions, size="2", weight="medium", trim="both"),
                rx.spacer(),
                status_badge(
                    job.status,
                    done_label="Done",
                    running=rx.badge(
                        rx.spinner(size="1"), job.stage, color_scheme="blue", high_contrast=True
                    ),
                ),
                rx.cond(job.cached, rx.badge("From cache · free", variant="outline")),
                width="100%",
                align="center",
            ),
            rx.cond(
                job.status == GenerationStatus.RUNNING,
                rx.progress(value=job.done * 100 // job.total, width="100%", aria_label="Progress"),
            ),
            rx.cond(
                job.error != "",
                rx.callout(
                    job.error, icon="info", color_scheme="red", high_contrast=True, size="1"
                ),
            ),
            rx.grid(
                rx.foreach(job.images, lambda sha: result_tile(sha, job.image_alt)),
                rx.foreach(job.pending, placeholder_tile),
                columns=rx.breakpoints(initial="1", sm="2", md="4"),
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="job-card",
    )


@protected_page(route=route_of(NEW_AD), title="New Ad", on_load=[NewAdState.load])
def new_ad() -> rx.Component:
    return rx.vstack(
        rx.card(rx.vstack(source_picker(), options_panel(), spacing="5"), width="100%"),
        generate_bar(),
        rx.cond(
            NewAdState.jobs.length() > 0,
            rx.vstack(
                rx.heading("Results", as_="h2", size="5"),
                rx.foreach(NewAdState.jobs, job_card),
                rx.link("See everything in History →", href=HISTORY, size="2"),
                spacing="3",
                width="100%",
                id="results",
            ),
        ),
        spacing="4",
        width="100%",
    )
