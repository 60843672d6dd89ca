"""Captions that are their controls' labels, so what a screen reader says is what is shown.

A native input is named by a real `<label for>`. A group of radios (the style cards,
Placement, Quality) takes its name from `aria-labelledby` pointing at the visible caption
above it.
"""

from __future__ import annotations

import reflex as rx

# A native <select> in the look of Radix's select trigger (adremix.css adds the chevron).
NATIVE_SELECT_CLASS = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface native-select"

CAPTION_STYLE = {
    "font_size": "var(--font-size-2)",
    "line_height": "var(--line-height-2)",
    "font_weight": "var(--font-weight-medium)",
    "color": "var(--gray-12)",
}


def caption_id(control_id: str) -> str:
    return f"{control_id}-label"


def labelled_by(control_id: str) -> dict[str, str]:
    """Props that name a group after its caption (spread into `custom_attrs`)."""
    return {"aria-labelledby": caption_id(control_id)}


def caption(text: str | rx.Var, control_id: str, *, weight: str = "medium") -> rx.Component:
    """The visible caption of `control_id`: a `<label for>` with an id to be labelled by."""
    style = {**CAPTION_STYLE, "font_weight": f"var(--font-weight-{weight})"}
    return rx.el.label(text, html_for=control_id, id=caption_id(control_id), style=style)


def group_caption(text: str, group_id: str) -> rx.Component:
    """The caption of a group of options (radio cards, segmented control): not a `<label>`,
    which can only name one form control; the group points at it with aria-labelledby."""
    return rx.el.div(text, id=caption_id(group_id), style=CAPTION_STYLE)


def field(text: str, control_id: str, control: rx.Component) -> rx.Component:
    """A caption above its control."""
    return rx.vstack(caption(text, control_id), control, spacing="1", width="100%")


def captioned_switch(text: str, switch_id: str, **input_props: object) -> rx.Component:
    """A switch with its caption beside it; a click on the caption toggles it too.

    The browser's own checkbox with the switch role, drawn as Radix's switch
    (adremix.css). Radix's switch keeps its button in state set from a ref callback, so
    it rendered again synchronously inside the hydration's commit, and that sync render
    first ran every pending effect of the page in the same long task. `on_change` gets
    the checked value, as with Radix's.
    """
    return rx.hstack(
        native_checkbox(switch_id, role="switch", class_name="native-switch", **input_props),
        caption(text, switch_id, weight="regular"),
        align="center",
        spacing="2",
    )


def native_checkbox(
    control_id: str, *, class_name: str = "native-checkbox", **input_props: object
) -> rx.Component:
    """`<input type=checkbox>` named by its `<label for>`; `on_change` gets the checked value."""
    return rx.el.input(type="checkbox", id=control_id, class_name=class_name, **input_props)


def captioned_checkbox(text: str, checkbox_id: str, **input_props: object) -> rx.Component:
    """A checkbox with its caption beside it, in the look of Radix's checkbox (adremix.css)."""
    return rx.hstack(
        native_checkbox(checkbox_id, **input_props),
        caption(text, checkbox_id, weight="regular"),
        align="center",
        spacing="2",
    )


def _radios(
    group_id: str,
    name: str,
    options: list[tuple[str, rx.Component | str]],
    *,
    value: rx.Var,
    on_change: object,
    item_class: str,
    face_class: str,
) -> list[rx.Component]:
    """Native `<input type=radio>`s sharing a name, so arrows, Space, one tab stop and
    screen readers come from the browser. Each radio (id `{group_id}-{value}`) covers its
    item, whose face names it; `on_change` gets the chosen value."""
    return [
        rx.el.label(
            rx.el.input(
                type="radio",
                name=name,
                value=option,
                checked=value == option,
                on_change=on_change,
                id=f"{group_id}-{option}",
                class_name="choice-input",
            ),
            rx.el.span(face, class_name=face_class),
            class_name=item_class,
        )
        for option, face in options
    ]


def choice_cards(
    group_id: str,
    name: str,
    options: list[tuple[str, rx.Component]],
    *,
    value: rx.Var,
    on_change: object,
    **grid_props: object,
) -> rx.Component:
    """A radio group drawn as Radix's radio cards, under the caption that names it."""
    cards = _radios(
        group_id,
        name,
        options,
        value=value,
        on_change=on_change,
        item_class="choice-card",
        face_class="choice-face",
    )
    return rx.grid(
        *cards,
        id=group_id,
        custom_attrs={"role": "radiogroup", **labelled_by(group_id)},
        **grid_props,
    )


def choice_segments(
    group_id: str, options: list[tuple[str, str]], *, value: rx.Var, on_change: object
) -> rx.Component:
    """A radio group drawn as Radix's segmented control (its root's classes; adremix.css
    draws the items). Radix's items are a roving-focus group whose focusable items each
    register in state as they mount: on New Ad those updates made the commits after
    hydration synchronous, with every pending effect of the page run in the same task."""
    segments = _radios(
        group_id,
        group_id,
        list(options),
        value=value,
        on_change=on_change,
        item_class="segment",
        face_class="segment-face",
    )
    return rx.el.div(
        *segments,
        id=group_id,
        class_name="rt-SegmentedControlRoot rt-r-size-2 rt-variant-surface segmented",
        custom_attrs={"role": "radiogroup", **labelled_by(group_id)},
    )


def native_select(*options: rx.Component, **props: object) -> rx.Component:
    """The browser's own `<select>`, named by a `<label for>` like any native control.

    Radix's Select renders every option of each closed select a second time, off-screen,
    in a synchronous render as the page hydrates (that is how its trigger shows the
    chosen option's text); on a phone that was the longest task of New Ad's load. The
    native control costs no script, and phones open their own picker.
    """
    return rx.el.select(*options, class_name=NATIVE_SELECT_CLASS, **props)
