from __future__ import annotations

import re

import pytest

from vault.crypto.analysis import query_words
from vault.services.excerpts import EXCERPT, excerpt

FILLER = "Responsible for several teams and their planning across three sites. " * 4
CV = (FILLER + "Senior Python/Django developer: built C# and .NET services, mentored "
      "developers, wrote pythonic tooling. " + FILLER)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\S+", text))


@pytest.mark.parametrize(("q", "marked"), [
    ("django", ["Django"]),
    ("pyth", ["Python", "pythonic"]),  # a prefix marks every word it begins
    ("python", ["Python", "pythonic"]),  # a whole word is a prefix too
    ("developer", ["developer", "developers"]),  # forms of the word
    ("c#", ["C#"]),
    (".net", [".NET"]),
    ("django developer", ["Django", "developer", "developers"]),
])
def test_the_query_words_are_marked_in_the_excerpt(q, marked):
    assert excerpt(CV, query_words(q)).marked == marked


def test_a_two_letter_word_marks_no_longer_word():
    assert excerpt(CV, query_words("py")).marked == []


@pytest.mark.parametrize("q", ["python", "pyth", "tooling", "c#", "responsible", "zzz"])
def test_an_excerpt_starts_and_ends_between_words(q):
    found = excerpt(CV, query_words(q))
    text = found.text
    assert text == text.strip() and len(text) <= EXCERPT
    assert _words(text) <= _words(CV)  # only whole words of the CV
    assert CV.find(text) >= 0  # one piece of the CV, in order
    start = CV.find(text)
    assert found.before is (start > 0)
    assert found.after is (start + len(text) < len(CV.rstrip()))


def test_the_excerpt_shows_the_first_match_with_some_text_before_it():
    found = excerpt(CV, query_words("tooling"))
    assert found.before and found.after
    assert "tooling" in found.text and not found.text.startswith("tooling")
    assert str(found).startswith("…") and str(found).endswith("…")


def test_without_a_match_in_the_cv_the_excerpt_is_its_beginning():
    found = excerpt(CV, query_words("leuven"))
    assert CV.startswith(found.text) and not found.before and found.after
    assert found.marked == []


def test_a_short_cv_is_shown_whole_without_ellipsis():
    found = excerpt("  Python   developer\n", query_words("python"))
    assert str(found) == "Python developer"
    assert excerpt("", query_words("python")).segments == ()


def test_a_run_of_text_without_spaces_is_cut_after_a_non_word_character():
    found = excerpt("abc-" * 100, query_words("abc"))
    assert len(found.text) <= EXCERPT and found.text.endswith("-") and found.after


def test_markup_in_the_cv_stays_text_in_the_segments():
    found = excerpt("<b>Python</b> <script>alert(1)</script>", query_words("python"))
    assert found.text == "<b>Python</b> <script>alert(1)</script>"
    assert found.marked == ["Python"]
