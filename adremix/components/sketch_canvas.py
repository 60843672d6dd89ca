"""react-sketch-canvas (npm), wrapped: freehand strokes over an image, reported per stroke.

The package is loaded on demand when the region-edit dialog first shows it, so no
route's JavaScript grows. Each finished stroke is sent to the server as the
library's `CanvasPath` (points in canvas pixels, stroke width), and the server draws the
mask itself (services/generation/edits.py).
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def _stroke_spec(
    path: rx.Var[dict[str, Any]], _is_eraser: rx.Var[bool]
) -> tuple[rx.Var[dict[str, Any]]]:
    # Eraser strokes carry drawMode false in the path itself.
    return (path,)


class SketchCanvas(rx.NoSSRComponent):
    """Imported dynamically (React lazy) when it first renders: the library's code is a
    separate chunk that only the region-edit dialog fetches."""

    library = "react-sketch-canvas@8.0.0"
    tag = "ReactSketchCanvas"

    width: rx.Var[str]
    height: rx.Var[str]
    stroke_width: rx.Var[int]
    stroke_color: rx.Var[str]
    canvas_color: rx.Var[str]
    background_image: rx.Var[str]
    preserve_background_image_aspect_ratio: rx.Var[str]
    export_with_background_image: rx.Var[bool]

    on_stroke: rx.EventHandler[_stroke_spec]


sketch_canvas = SketchCanvas.create
