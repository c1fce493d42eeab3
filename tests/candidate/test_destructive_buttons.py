"""Actions that destroy or give something up look like it: red, readable, focusable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [*sorted((ROOT / "templates" / "candidate").glob("*.html")),
             *sorted((ROOT / "templates" / "admin").glob("*.html"))]
CSS = (ROOT / "static" / "vault.css").read_text()
# Words that name an action which cannot be taken back, or ends a consent or an account.
DESTRUCTIVE = re.compile(r"\b(erase|withdraw|delete|remove|disable|revoke|shred)", re.I)
CONTROL = re.compile(r"<(button|a)\b([^>]*)>(.*?)</\1>", re.S)


def _classes(attributes: str) -> set[str]:
    match = re.search(r'class="([^"]*)"', attributes)
    return set(match.group(1).split()) if match else set()


def _actions(path: Path) -> list[tuple[str, set[str]]]:
    """Buttons, and links drawn as buttons, with their text (as written in the template)."""
    found = []
    for tag, attributes, text in CONTROL.findall(path.read_text()):
        classes = _classes(attributes)
        if tag == "button" or "button" in classes:
            found.append((" ".join(text.split()), classes))
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_destructive_button_carries_the_danger_class(path):
    for text, classes in _actions(path):
        if DESTRUCTIVE.search(text):
            assert "danger" in classes, f"{path.name}: {text!r} is not styled as destructive"


def test_the_known_destructive_actions_are_found_by_the_scan():
    danger = {(path.name, text) for path in TEMPLATES for text, classes in _actions(path)
              if "danger" in classes}
    texts = " | ".join(text for _name, text in danger)
    for expected in ('_("Erase everything")', '_("Yes, erase everything")',
                     '_("Withdraw my talent-pool consent")', "Erase this person…",
                     "Erase for good"):
        assert expected in texts, expected
    # And nothing that merely looks or downloads is painted red.
    assert "Download" not in texts and "Save" not in texts


def _rule(selector: str) -> dict[str, str]:
    """The declarations of the last rule whose selector list names `selector`."""
    declarations: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", CSS,
                                                                     flags=re.S)):
        if selector in [s.strip() for s in selectors.split(",")]:
            declarations = {}
            for declaration in body.split(";"):
                if ":" in declaration:
                    name, value = declaration.split(":", 1)
                    declarations[name.strip()] = value.strip()
    assert declarations, f"no rule for {selector}"
    return declarations


def _colour(value: str) -> tuple[float, float, float]:
    variable = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if variable:
        value = _rule(":root")[variable.group(1)]
    if value == "#fff":
        value = "#ffffff"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), value
    return tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two CSS colours."""
    lighter, darker = sorted((_luminance(_colour(one)), _luminance(_colour(other))),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("selector", [
    ".button.danger", ".button.danger:hover", ".button.danger.secondary",
    ".button.danger.secondary:hover", "button.danger", "button.danger.secondary",
])
def test_danger_buttons_are_red_with_text_readable_at_wcag_aa(selector):
    rule = _rule(selector)
    background, colour = rule["background"], rule["color"]
    assert contrast(colour, background) >= 4.5, (selector, colour, background)
    red, green, blue = _colour(background if "secondary" not in selector else colour)
    assert red > 2 * green and red > 2 * blue, f"{selector} is not red"


def test_danger_buttons_show_a_focus_ring_that_stands_out_from_the_page():
    ring = _rule(".button.danger:focus-visible")
    width, style, colour = ring["outline"].split()
    assert style == "solid" and float(width.removesuffix("px")) >= 2
    assert ring["outline-offset"] != "0"
    # Non-text contrast (WCAG 1.4.11): at least 3:1 against the white card around it.
    assert contrast(colour, "#ffffff") >= 3
