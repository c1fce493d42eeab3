"""What every journey does on every page: axe-core, the narrow-screen overflow check, and
screenshots, at a desktop and a phone viewport; and the page texts in the test's language.

Selectors go by what a person reads (labels, roles, link and button names), taken from
the app's own catalogues through `Site.t`, so a journey runs unchanged in English, Dutch
or French, and survives a change of layout.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.support import NullTranslations, Translations

from tests.e2e.known import known_problems

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored
DOCS_SHOTS = ROOT / "docs" / "screenshots"
# VAULT_DOCS_SCREENSHOTS=1 copies these (English) into docs/screenshots/ for the README.
FOR_DOCS = {("apply-form", 1280), ("my-data", 390), ("recruiter-candidate", 1280),
            ("officer-requests", 1280)}
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})
BLOCKING = {"serious", "critical"}

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@cache
def catalogue(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(ROOT / "vault" / "translations"), [lang])


@dataclass
class Site:
    """A journey's browser page in one language, with the checks run on every page."""

    page: Any
    lang: str
    base: str
    test: str
    subtests: Any

    def t(self, text: str, **values: object) -> str:
        """The page text `text` (the English message id) as shown in this language."""
        translated = catalogue(self.lang).gettext(text)
        return translated % values if values else translated

    def goto(self, path: str) -> Any:
        return self.page.goto(path if path.startswith("http") else self.base + path)

    def check(self, name: str) -> None:
        """axe-core (no serious or critical violation), no horizontal scrolling at 390 px,
        and a screenshot, at both viewports; then back to the desktop size. Each page and
        viewport is a subtest of its own: a problem fails it (and so the journey) while the
        journey goes on; a known one (tests/e2e/known.py) is a strict expected failure."""
        assert self.page.locator("html").get_attribute("lang") == self.lang, name
        assert self.page.evaluate("typeof axe") == "object", "axe-core was not injected"
        for viewport in VIEWPORTS:
            width = viewport["width"]
            self.page.set_viewport_size(viewport)
            problems = self._problems(name, width)
            self._record(name, width, list(problems.values()))
            self._shoot(name, width)
            with self.subtests.test(msg=f"{name} at {width}px"):
                known = known_problems(name, width)
                unexpected = {k: v for k, v in problems.items() if k not in known}
                assert not unexpected, json.dumps(list(unexpected.values()), indent=1)
                fixed = sorted(set(known) - set(problems))
                assert not fixed, f"fixed: remove {fixed} of {name} from tests/e2e/known.py"
                if known:
                    pytest.xfail("; ".join(f"{rule}: {why}" for rule, why in known.items()))
        self.page.set_viewport_size(VIEWPORTS[0])

    def _problems(self, name: str, width: int) -> dict[str, dict[str, Any]]:
        found = [v for v in self.page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
        problems = {v["id"]: v for v in found}
        if width == 390:
            # The narrow-screen CSS must not cost a table its semantics.
            tables = self.page.locator("table").count()
            assert self.page.get_by_role("table").count() == tables, name
            scroll, inner = self.page.evaluate(OVERFLOW)
            if scroll > inner:
                problems["horizontal-overflow"] = {
                    "id": "horizontal-overflow", "impact": "serious",
                    "help": f"page is {scroll}px wide in a {inner}px viewport",
                    "targets": self._widest()}
        return problems

    def _widest(self) -> list[str]:
        return self.page.evaluate("""() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
          .filter(e => ![...document.querySelectorAll('body *')].some(a => a !== e
            && a.contains(e) && getComputedStyle(a).overflowX !== 'visible'))
          .slice(-5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")

    def _record(self, name: str, width: int, problems: list[dict[str, Any]]) -> None:
        SHOTS.mkdir(exist_ok=True)
        line = {"test": self.test, "page": name, "lang": self.lang, "width": width,
                "problems": problems}
        with (SHOTS / "audit.jsonl").open("a") as out:
            out.write(json.dumps(line) + "\n")

    def _shoot(self, name: str, width: int) -> None:
        target = SHOTS / self.lang / f"{name}-{width}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target), full_page=True)
        if (os.environ.get("VAULT_DOCS_SCREENSHOTS") == "1" and self.lang == "en"
                and (name, width) in FOR_DOCS):
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, DOCS_SHOTS / f"{name}-{width}.png")
