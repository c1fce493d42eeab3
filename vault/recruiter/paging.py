"""The page numbers a paginator shows: the first, the last (when known), and a few
around the current one, with gaps between (None)."""

from __future__ import annotations

AROUND = 2


def page_numbers(current: int, last: int | None, has_next: bool) -> list[int | None]:
    """Pages to link, in order, None where pages are left out. With `last` unknown (more
    matches than are counted) the list ends after the next page with a gap."""
    known = last if last is not None else current + (1 if has_next else 0)
    shown = {1, known, *range(max(1, current - AROUND), min(known, current + AROUND) + 1)}
    numbers: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    if last is None and has_next:
        numbers.append(None)
    return numbers
