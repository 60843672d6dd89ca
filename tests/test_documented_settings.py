"""Every setting is documented where operators look: .env.example and the README."""

from __future__ import annotations

import re

from adremix.__main__ import build_parser
from adremix.settings import Settings
from tests.app_server import ROOT

# Read by Reflex itself, not by adremix/settings.py.
REFLEX_SETTINGS = {"API_URL"}
SETTING_LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]+)=")


def setting_names() -> set[str]:
    return {
        field.validation_alias
        for field in Settings.model_fields.values()
        if isinstance(field.validation_alias, str)
    }


def env_example_lines() -> list[str]:
    return (ROOT / ".env.example").read_text().splitlines()


def test_every_setting_has_a_commented_line_in_env_example() -> None:
    lines = env_example_lines()
    documented: dict[str, bool] = {}
    for index, line in enumerate(lines):
        match = SETTING_LINE.match(line)
        if not match:
            continue
        # The comment may stand above a group of settings that share it.
        above = index - 1
        while above >= 0 and SETTING_LINE.match(lines[above]):
            above -= 1
        explained = above >= 0 and lines[above].startswith("#") and len(lines[above]) > 2
        documented[match.group(1)] = explained
    missing = sorted(setting_names() - set(documented))
    unexplained = sorted(name for name, explained in documented.items() if not explained)
    assert missing == [], f"settings missing from .env.example: {missing}"
    assert unexplained == [], f"settings in .env.example without a comment: {unexplained}"


def test_env_example_names_only_real_settings() -> None:
    named = {m.group(1) for line in env_example_lines() if (m := SETTING_LINE.match(line))}
    assert named - setting_names() - REFLEX_SETTINGS == set()


def test_every_setting_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`((?:ADREMIX|OPENAI|RAZORPAY|GOOGLE|OIDC)_[A-Z0-9_]+)", readme))
    named |= set(re.findall(r"\b(DATABASE_URL)\b", readme))
    assert named, "the README names settings"
    assert named - setting_names() - {"ADREMIX_UPDATE_SCREENSHOTS"} == set()


def test_every_command_the_readme_shows_parses() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"^\.venv/bin/python -m adremix ([^#\n]+?)\s*(?:#|$)", readme, re.M)
    quoted = re.findall(r"`python -m adremix ([^`]+)`", readme)
    commands = shown + quoted
    assert commands, "the README shows operator commands"
    for command in commands:
        args = re.findall(r'"[^"]*"|\S+', command)
        build_parser().parse_args([arg.strip('"') for arg in args])


def test_the_readme_layout_matches_the_tree() -> None:
    """Every path the layout names exists, and every package of adremix/ is named."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## How it is built", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    parents: dict[int, str] = {}
    for line in layout.splitlines():
        match = re.match(r"^( {0,6})([\w.-]+/?)(\s{2,}|$)", line)
        if not match:
            continue  # a description's continuation line
        depth = len(match.group(1)) // 2
        path = parents.get(depth - 1, "") + match.group(2) if depth else match.group(2)
        parents[depth] = path
        named.add(path.rstrip("/"))
        assert (ROOT / path).exists(), f"README layout names {path}, which does not exist"
    packages = {
        str(init.parent.relative_to(ROOT))
        for init in (ROOT / "adremix").rglob("__init__.py")
        if "__pycache__" not in str(init)
    }
    assert packages - named == set(), "packages missing from the README layout"
