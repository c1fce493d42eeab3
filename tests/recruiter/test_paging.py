from __future__ import annotations

import pytest

from vault.recruiter.paging import page_numbers


@pytest.mark.parametrize(("current", "last", "has_next", "expected"), [
    (1, 1, False, [1]),
    (1, 3, True, [1, 2, 3]),
    (5, 20, True, [1, None, 3, 4, 5, 6, 7, None, 20]),
    (20, 20, False, [1, None, 18, 19, 20]),
    (2, 9, True, [1, 2, 3, 4, None, 9]),
    # More matches than are counted: the last page is unknown, more follow the next.
    (7, None, True, [1, None, 5, 6, 7, 8, None]),
    (3, None, False, [1, 2, 3]),
])
def test_pages_around_the_current_one_with_the_first_and_last(current, last, has_next,
                                                                expected):
    assert page_numbers(current, last, has_next) == expected
