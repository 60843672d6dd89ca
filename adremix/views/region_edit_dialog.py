"""'Edit a region': paint over the result, say what should change, generate (1 credit)."""

from __future__ import annotations

import reflex as rx

from adremix.components.one_press import one_press_button
from adremix.components.sketch_canvas import sketch_canvas
from adremix.services.generation import MAX_INSTRUCTIONS
from adremix.state.region_edit import CANVAS_WIDTH, RegionEditState


def region_edit_dialog() -> rx.Component:
    state = RegionEditState
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title("Edit a region", margin="0"),
                rx.dialog.description(
                    "Paint over the part to change, then say what it should become. "
                    "Everything outside the painted area stays as it is. Costs 1 credit.",
                    size="2",
                ),
                rx.box(
                    sketch_canvas(
                        key=state.canvas_key,
                        width=f"{CANVAS_WIDTH}px",
                        height=state.canvas_height.to_string() + "px",
                        stroke_width=state.brush,
                        stroke_color="rgba(255, 0, 90, 0.55)",
                        canvas_color="transparent",
                        background_image=state.image_url,
                        preserve_background_image_aspect_ratio="none",
                        export_with_background_image=False,
                        on_stroke=state.add_stroke,
                        id="region-canvas",
                    ),
                    role="group",
                    aria_label="Image to paint the region on",
                    max_width="100%",
                    overflow="auto",
                    border_radius="8px",
                    border=f"1px solid {rx.color('gray', 6)}",
                ),
                rx.hstack(
                    rx.el.label("Brush size", html_for="brush-size", font_size="0.875rem"),
                    # A native range input: labelled, and keyboard-operable as it is.
                    rx.el.input(
                        type="range",
                        min=4,
                        max=120,
                        default_value=32,
                        on_change=state.set_brush,
                        id="brush-size",
                        width="10rem",
                    ),
                    rx.button(
                        rx.icon("eraser", size=14),
                        "Clear",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=state.clear,
                    ),
                    rx.text(state.painted, " stroke(s)", size="1", color_scheme="gray"),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                rx.el.label(
                    "What should change?", html_for="region-instructions", font_size="0.875rem"
                ),
                rx.text_area(
                    value=state.instructions,
                    on_change=state.set_instructions,
                    placeholder='e.g. Replace the cup with a glass of lassi; or: write "50% OFF"',
                    max_length=MAX_INSTRUCTIONS,
                    rows="2",
                    width="100%",
                    id="region-instructions",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    one_press_button(
                        rx.icon("sparkles", size=16),
                        "Generate edit",
                        on_press=state.generate(state.request_key),
                        ack=state.press_ack,
                        busy=state.starting,
                        busy_label="Starting…",
                        disabled=(state.painted == 0) | (state.instructions.strip() == ""),
                        id="generate-edit",
                    ),
                    justify="end",
                    spacing="2",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="min(96vw, 40rem)",
            id="region-edit-dialog",
        ),
        open=state.open,
        on_open_change=state.set_open,
    )
