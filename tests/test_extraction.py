"""The parsing itself, in-process (tests/test_uploads.py goes through the sandbox)."""

from __future__ import annotations

import pytest

from tests import files
from vault import extraction
from vault.extraction import LimitExceeded, clean_pdf_text, inspect_pdf


@pytest.mark.parametrize("raw, clean", [
    ("ingeni-\neur", "ingenieur"),
    ("ingeni\u00ad\neur", "ingenieur"),
    ("gebruiks\u00advriendelijk", "gebruiksvriendelijk"),
    ("Jean-\nPierre", "Jean-\nPierre"),
    ("2019-\n2024", "2019-\n2024"),
    ("Python -\nkafka", "Python -\nkafka"),
    ("\ufb01nance \ufb02ow e\ufb00ort o\ufb03ce", "finance flow effort office"),
])
def test_pdf_text_is_cleaned_of_line_end_hyphens_soft_hyphens_and_ligatures(raw, clean):
    assert clean_pdf_text(raw) == clean


def test_the_whole_file_cap_on_inflated_bytes_holds_when_each_stream_is_under_its_own(
        monkeypatch):
    content = files.pdf_with_many_inflating_streams()
    with pytest.raises(LimitExceeded):
        inspect_pdf(content, max_pages=10, time_budget_s=10)
    # The same file under a larger whole-file cap: it was that cap, not another limit.
    monkeypatch.setattr(extraction, "MAX_PDF_INFLATED_TOTAL", 64 * 1024 * 1024)
    assert inspect_pdf(content, max_pages=10, time_budget_s=10).scanned


def test_one_stream_past_its_cap_is_a_limit_not_damage():
    with pytest.raises(LimitExceeded):
        inspect_pdf(files.pdf_flate_bomb(), max_pages=10, time_budget_s=10)


def test_pdf_that_ran_out_of_time_before_a_page_is_not_taken_for_a_scan():
    extracted = inspect_pdf(files.pdf_with_pages(3), max_pages=10, time_budget_s=0.0)
    assert extracted.text == "" and not extracted.scanned

