"""Drive the app the way Chromium does over HTTPS, for tests of forms.

A test that posts `data={...}` straight to a URL proves little: the first release had
every form failing over HTTPS and no test saw it. `BrowserLikeClient` instead opens the
page, reads the form from the HTML (its action, method, enctype and every control with
its default value, the hidden `csrf_token` included), keeps the cookies, and sends the
request headers Chromium sends for that submission: `Origin`, `Referer` as the page's
Referrer-Policy allows (header, or a <meta name="referrer"> that overrides it), and
Fetch Metadata (`Sec-Fetch-Site`, `-Mode`, `-Dest`, `-User`).

    browser = BrowserLikeClient(app.test_client())
    browser.open("/login")
    response = browser.submit("/login", {"email": ..., "password": ...})

A form posted from another site (an attacker's page) is `browser.submit(...,
from_page="https://evil.example/page")`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask

from tests.conftest import STAFF_PASSWORD, totp_code
from tests.journey import application, link_in, outbox
from vault.extensions import db
from vault.models import User

ORIGIN = "https://vault.example"
# The app as deployed: HTTPS, CSRF on, its public address. For a test module:
# pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)
BROWSER_CONFIG = {"HTTPS": True, "WTF_CSRF_ENABLED": True, "PUBLIC_BASE_URL": ORIGIN}
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
# The referrer policies a browser knows (W3C Referrer Policy).
POLICIES = {"no-referrer", "no-referrer-when-downgrade", "same-origin", "origin",
            "strict-origin", "origin-when-cross-origin", "strict-origin-when-cross-origin",
            "unsafe-url"}
DEFAULT_POLICY = "strict-origin-when-cross-origin"
_NOT_SENT = {"submit", "button", "reset", "image", "file"}


@dataclass
class Form:
    method: str
    action: str  # absolute URL, resolved against the page as a browser does
    enctype: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what is sent untouched
    file_inputs: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return urlsplit(self.action).path

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k == name), None)


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.meta_policy: str | None = None
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "meta" and a.get("name", "").lower() == "referrer":
            self.meta_policy = a.get("content", "")
        elif tag == "form":
            # No action (or an empty one) means the page's own URL, query string included.
            self._form = Form(method=a.get("method", "get").lower(),
                              action=urljoin(self.page_url, a.get("action") or self.page_url),
                              enctype=a.get("enctype", "application/x-www-form-urlencoded"))
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
        elif self._form is None or "disabled" in a or "name" not in a:
            return  # outside a form, never sent, or a control without a name: not sent
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form.file_inputs.append(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in _NOT_SENT:
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"].append(data)
        elif self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"]
            text = "".join(self._option["text"]).strip()
            self._select[1].append((text if value is None else value, self._option["selected"]))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self._form.fields.extend((name, v) for v in chosen[:1])
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            # HTML reads line breaks as LF and drops one right after <textarea>; a submitted
            # form sends every line break as CRLF.
            text = "".join(self._textarea[1]).replace("\r\n", "\n").replace("\r", "\n")
            value = text.removeprefix("\n").replace("\n", "\r\n")
            self._form.fields.append((self._textarea[0], value))
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_page(html: str, page_url: str) -> tuple[list[Form], str | None]:
    """The page's forms and the referrer policy its <meta> tag sets (if any)."""
    parser = _FormParser(page_url)
    parser.feed(html)
    parser.close()
    return parser.forms, parser.meta_policy


def effective_policy(header: str | None, meta: str | None) -> str:
    """The referrer policy in force: a <meta> tag overrides the header; in a list of
    values the last one the browser knows wins."""
    for source in (meta, header):
        known = [p for p in (v.strip().lower() for v in (source or "").split(",")) if p in POLICIES]
        if known:
            return known[-1]
    return DEFAULT_POLICY


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _site(url: str) -> str:
    # Registrable domain, simplified to the last two labels (enough for test hosts).
    host = urlsplit(url).hostname or ""
    return urlsplit(url).scheme + "://" + ".".join(host.split(".")[-2:])


def referrer_headers(policy: str, page_url: str, target_url: str) -> dict[str, str]:
    """Origin and Referer a browser sends with a form POST from `page_url` under `policy`
    (Fetch, "append a request Origin header"; Referrer Policy, "determine request's
    referrer")."""
    same_origin = origin_of(page_url) == origin_of(target_url)
    downgrade = page_url.startswith("https:") and not target_url.startswith("https:")
    page_origin, full = origin_of(page_url), page_url.split("#")[0]
    origin: str = page_origin
    if policy == "no-referrer" or (policy == "same-origin" and not same_origin) or (
            downgrade and policy in ("no-referrer-when-downgrade", "strict-origin",
                                     "strict-origin-when-cross-origin")):
        origin = "null"
    referer: str | None = {
        "no-referrer": None,
        "origin": page_origin + "/",
        "unsafe-url": full,
        "strict-origin": None if downgrade else page_origin + "/",
        "strict-origin-when-cross-origin": full if same_origin
        else None if downgrade else page_origin + "/",
        "same-origin": full if same_origin else None,
        "origin-when-cross-origin": full if same_origin else page_origin + "/",
        "no-referrer-when-downgrade": None if downgrade else full,
    }[policy]
    headers = {"Origin": origin}
    if referer:
        headers["Referer"] = referer
    return headers


def fetch_site(page_url: str | None, target_url: str) -> str:
    if page_url is None:
        return "none"
    if origin_of(page_url) == origin_of(target_url):
        return "same-origin"
    return "same-site" if _site(page_url) == _site(target_url) else "cross-site"


class BrowserLikeClient:
    """A Flask test client that navigates and submits forms as Chromium does over HTTPS."""

    def __init__(self, client: Any, origin: str = ORIGIN) -> None:
        self.client = client
        self.origin = origin
        self.page_url: str | None = None
        self.response: Any = None
        self._forms: list[Form] = []
        self._policy = DEFAULT_POLICY

    # Navigation -----------------------------------------------------------------------
    def open(self, path: str, *, typed: bool = False) -> Any:
        """GET a page as a navigation: a link clicked on the current page, or (typed, or
        no page yet) the address bar or a link in an e-mail."""
        url = urljoin(self.origin + "/", path)
        page = None if typed else self.page_url
        headers = self._navigation_headers(page, url)
        if page is not None:
            referer = referrer_headers(self._policy, page, url).get("Referer")
            if referer:
                headers["Referer"] = referer
        return self._remember(url, self.client.get(url, headers=headers))

    def _remember(self, url: str, response: Any) -> Any:
        self.response = response
        if response.status_code == 200 and response.mimetype == "text/html":
            self.page_url = url
            self._forms, meta = parse_page(response.get_data(as_text=True), url)
            self._policy = effective_policy(response.headers.get("Referrer-Policy"), meta)
        return response

    def _navigation_headers(self, page: str | None, url: str) -> dict[str, str]:
        return {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-GB,en;q=0.9",
            "Upgrade-Insecure-Requests": "1",
            "Sec-Fetch-Site": fetch_site(page, url),
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-User": "?1",
        }

    # Forms ------------------------------------------------------------------------------
    @property
    def referrer_policy(self) -> str:
        return self._policy

    def forms(self) -> list[Form]:
        return list(self._forms)

    def form(self, action: str | None = None) -> Form:
        """The page's one POST form whose action is `action` (a path), or with no action
        given, the one that posts back to the page itself."""
        assert self.page_url is not None, "open a page first"
        wanted = action or urlsplit(self.page_url).path
        found = [f for f in self._forms if f.method == "post" and f.path == wanted]
        assert len(found) == 1, (f"{len(found)} POST forms to {wanted} on {self.page_url}; "
                                 f"forms: {[(f.method, f.path) for f in self._forms]}")
        return found[0]

    def submit(self, action: str | None = None, fields: Mapping[str, str | None] | None = None,
               files: Mapping[str, tuple[Any, str]] | None = None, *,
               form: Form | None = None, from_page: str | None = None,
               policy: str | None = None, headers: Mapping[str, str | None] | None = None,
               follow: bool = False) -> Any:
        """Fill in `fields` (None unchecks or clears a control) and submit the form.

        `from_page` posts the same form from another page (an attacker's copy on another
        site), under that page's `policy` (Chromium's default unless given). `headers`
        replaces (None: removes) request headers, e.g. what a privacy extension strips.
        With `follow`, a redirect is followed as the browser does (GET, same-origin).
        """
        form = form or self.form(action)
        page = from_page or self.page_url
        assert page is not None
        data = self._data(form, fields or {}, files or {})
        policy = policy or (self._policy if from_page is None else DEFAULT_POLICY)
        sent = self._navigation_headers(page, form.action)
        sent |= referrer_headers(policy, page, form.action)
        sent["Cache-Control"] = "max-age=0"
        for name, value in (headers or {}).items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        multipart = form.enctype == "multipart/form-data"
        response = self.client.post(
            form.action, data=data, headers=sent,
            content_type="multipart/form-data" if multipart
            else "application/x-www-form-urlencoded")
        self.response = response
        if response.status_code == 200 and response.mimetype == "text/html":
            self._remember(form.action, response)
        if follow and response.status_code in (301, 302, 303, 307, 308):
            return self.open(response.headers["Location"])
        return response

    @staticmethod
    def _data(form: Form, fields: Mapping[str, str | None],
              files: Mapping[str, tuple[Any, str]]) -> dict[str, Any]:
        pairs = [(k, v) for k, v in form.fields if k not in fields]
        pairs += [(k, v) for k, v in fields.items() if v is not None]
        data: dict[str, Any] = {}
        for key, value in pairs:
            data.setdefault(key, []).append(value)
        for name in form.file_inputs:
            # A file input with nothing chosen is still sent: an empty part, no file name.
            data[name] = files.get(name) or (_empty(), "")
        return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in data.items()}


def _empty() -> Any:
    return io.BytesIO(b"")


# Journeys, as browsers make them --------------------------------------------------------

def _redirected(response: Any) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]


def apply_as_browser(app: Flask, slug: str | None = None,
                     **overrides: object) -> BrowserLikeClient:
    """An applicant fills in the application form in a browser of their own (fields as
    in tests.journey.application) and is redirected to the confirmation."""
    browser = BrowserLikeClient(app.test_client())
    browser.open(f"/apply/{slug}" if slug else "/apply", typed=True)
    data = application(**overrides)
    cv = data.pop("cv")
    _redirected(browser.submit(fields={k: str(v) for k, v in data.items()}, files={"cv": cv}))
    return browser


def personal_link(app: Flask, **overrides: object) -> tuple[BrowserLikeClient, str]:
    """Apply as a browser; that browser and the path of the personal link mailed back."""
    browser = apply_as_browser(app, **overrides)
    return browser, link_in(outbox(app)[-1])


def staff_browser(app: Flask, user_id: int) -> BrowserLikeClient:
    """A browser logged in as that staff account through the login form."""
    with app.app_context():
        email = db.session.get(User, user_id).email
    browser = BrowserLikeClient(app.test_client())
    browser.open("/login", typed=True)
    response = browser.submit("/login", {"email": email, "password": STAFF_PASSWORD})
    _redirected(response)
    if response.headers["Location"].startswith("/login/second-factor"):
        browser.open(response.headers["Location"])
        _redirected(browser.submit("/login/second-factor",
                                   {"code": totp_code(app, user_id)}))
    return browser
