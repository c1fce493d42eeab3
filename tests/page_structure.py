"""Reading staff pages as assistive technology does: which form controls have no name
(axe's label / select-name rules) and which links are marked as the current page."""

from __future__ import annotations

from html.parser import HTMLParser

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.open_labels = 0
        self.current_links: list[str] = []
        self._in_current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "label":
            self.open_labels += 1
            if found.get("for"):
                self.label_for.add(found["for"] or "")
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (found.get("type") or "text") in UNLABELLED_TYPES:
                return
            self.controls.append({**found, "tag": tag,
                                  "wrapped": "yes" if self.open_labels else None})
        elif tag == "a" and found.get("aria-current") == "page":
            self._in_current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels = max(0, self.open_labels - 1)
        elif tag == "a" and self._in_current is not None:
            self.current_links.append("".join(self._in_current).strip())
            self._in_current = None

    def handle_data(self, data: str) -> None:
        if self._in_current is not None:
            self._in_current.append(data)


def _parse(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def unlabelled_controls(html: str) -> list[str]:
    """Form controls with no accessible name: no <label for>, no wrapping <label>, no
    aria-label, no aria-labelledby pointing at an element of the page."""
    page = _parse(html)
    missing = []
    for control in page.controls:
        if control.get("wrapped") or (control.get("aria-label") or "").strip():
            continue
        if control.get("id") and control["id"] in page.label_for:
            continue
        labelled_by = (control.get("aria-labelledby") or "").split()
        if labelled_by and all(i in page.ids for i in labelled_by):
            continue
        missing.append(f"<{control['tag']} name={control.get('name')!r} id={control.get('id')!r}>")
    return missing


def current_links(html: str) -> list[str]:
    """The text of every link marked aria-current="page"."""
    return _parse(html).current_links
