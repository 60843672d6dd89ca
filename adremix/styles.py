"""Theme constants in one place."""

ACCENT = "violet"
SIDEBAR_WIDTH = "15rem"
PAGE_MAX_WIDTH = "72rem"
CARD_SHADOW = "0 1px 2px rgba(16,24,40,.06), 0 8px 24px rgba(16,24,40,.06)"
GRADIENT = "linear-gradient(135deg, var(--violet-9) 0%, var(--plum-9) 55%, var(--crimson-9) 100%)"
