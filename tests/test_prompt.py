"""The prompt sent to the image model is built by one function from the options."""

from __future__ import annotations

from adremix.services.generation import STYLES, RemixOptions, build_prompt


def test_prompt_carries_instructions_style_layout_and_text_rules() -> None:
    options = RemixOptions(
        instructions="Make it about the monsoon sale",
        template="bold_sale",
        placement="portrait",
        headline="Monsoon Sale",
        call_to_action="Shop now",
        brand_colors="#ff6600",
        keep_product=True,
    ).validated()
    prompt = build_prompt(options)
    assert "Make it about the monsoon sale" in prompt
    assert STYLES["bold_sale"].prompt in prompt
    assert "tall portrait composition (1024x1536)" in prompt
    assert '"Monsoon Sale"' in prompt and '"Shop now"' in prompt
    assert "#ff6600" in prompt
    assert "Keep the product and any logo exactly" in prompt


def test_prompt_without_text_forbids_new_text() -> None:
    prompt = build_prompt(RemixOptions(instructions="Brighter", placement="landscape").validated())
    assert "Do not add any new text" in prompt
    assert "wide landscape composition (1536x1024)" in prompt
    assert "Keep the product" not in prompt


def test_every_template_has_a_distinct_prompt_fragment() -> None:
    fragments = [t.prompt for t in STYLES.values()]
    assert len(set(fragments)) == len(fragments) == 5
