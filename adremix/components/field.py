"""Captions that are their controls' labels, so what a screen reader says is what is shown.

A native input is named by a real `<label for>`. Radix's select triggers, switches,
segmented controls and radio groups are buttons or groups, which take their name from
`aria-labelledby` pointing at the visible caption (the `<label for>` still lets a click on
the caption focus the control).
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
    """Props that name a Radix control after its caption (spread into `custom_attrs`)."""
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


def captioned_switch(text: str, switch_id: str, **switch_props: object) -> rx.Component:
    """A switch with its caption beside it; a click on the caption toggles it too."""
    return rx.hstack(
        rx.switch(id=switch_id, custom_attrs=labelled_by(switch_id), **switch_props),
        caption(text, switch_id, weight="regular"),
        align="center",
        spacing="2",
    )


def native_select(*options: rx.Component, **props: object) -> rx.Component:
    """The browser's own `<select>`, named by a `<label for>` like any native control.

    Radix's Select renders every option of each closed select a second time, off-screen,
    in a synchronous render as the page hydrates (that is how its trigger shows the
    chosen option's text); on a phone that was the longest task of New Ad's load. The
    native control costs no script, and phones open their own picker.
    """
    return rx.el.select(*options, class_name=NATIVE_SELECT_CLASS, **props)
