"""Focus for dialogs the server opens (checkout, a generation's details).

Radix gives focus back to a dialog's trigger when it closes; these dialogs have none (the
state opens them after a round trip), so focus would fall to the page's top and a
keyboard user would start over. The element that had focus when the dialog opened (the
Buy or Open button) gets it back instead.
"""

from __future__ import annotations

from reflex.vars import FunctionStringVar

_REMEMBER = "() => { window.adremixDialogOpener = document.activeElement; }"
# Radix moves focus itself once this handler returns: focus the opener after it.
_RESTORE = (
    "() => { const opener = window.adremixDialogOpener; window.adremixDialogOpener = null;"
    " if (opener && opener.isConnected) setTimeout(() => opener.focus(), 0); }"
)


def returns_focus() -> dict[str, FunctionStringVar]:
    """Event triggers for `rx.dialog.content(...)`."""
    return {
        "on_open_auto_focus": FunctionStringVar.create(_REMEMBER),
        "on_close_auto_focus": FunctionStringVar.create(_RESTORE),
    }
