"""Search quality benchmark: the labelled corpus of tests/search_corpus.py (CVs in
English, Dutch and French, DOCX and PDF, words placed in body, tables, headers,
footers, text boxes and across hyphenated line ends) uploaded through the application
form into a temporary vault, then searched as the recruiter's page searches.

Prints, for the vault and for plain SQLite FTS5 over the same indexed text (the
`porter` tokenizer, and the default `unicode61`):
- CVs accepted, and CVs whose text layer was read;
- placed words found (all places, and per place);
- recall on natural queries, and wrong results over the whole query set;
- with --details, every missed word, missed candidate and wrong result.

Targets (the test asserts them): at least 95% of placed words, at least 90% recall, at
most 3 wrong results, recall at least that of FTS5 porter.
Run: .venv/bin/python benchmarks/search_quality.py [--details]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import select

from tests import search_corpus
from vault import create_app
from vault.appctx import now
from vault.crypto import Keyring
from vault.extensions import db
from vault.models import Candidate, User
from vault.services.indexing import open_card
from vault.services.sealing import record_sealer
from vault.services.search import search

FTS5_TOKENIZERS = {"FTS5 porter": "porter unicode61 remove_diacritics 2",
                   "FTS5 unicode61": "unicode61 remove_diacritics 2"}


def _form(cv: search_corpus.CV) -> dict[str, object]:
    content, filename = search_corpus.file_of(cv)
    return {"full_name": cv.full_name, "email": cv.email, "phone": "+32 470 00 00 00",
            "position": cv.position, "interests": "", "age": "30", "gender": "other",
            "education-0-degree": "Bachelor", "education-0-field": "General studies",
            "education-0-institution": "Hogeschool", "education-0-year": "2010",
            "consent_application": "y", "companies": "Ingenium",
            "cv": (io.BytesIO(content), filename)}


def build(instance: Path) -> tuple[dict[str, int], Callable[[str], set[str]], dict[str, str],
                                   set[str]]:
    """(upload statuses, the vault's finder, the indexed texts, CVs whose text was read)."""
    Keyring.generate().save(instance / "keyring")
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{instance}/v.db",
                      "HTTPS": False, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "MAIL_OUTBOX": str(instance / "outbox")}, instance_path=str(instance))
    with app.app_context():
        upgrade()
    client = app.test_client()
    statuses = {cv.key: client.post("/apply", data=_form(cv),
                                    content_type="multipart/form-data").status_code
                for cv in search_corpus.CVS}
    by_name = {cv.full_name: cv.key for cv in search_corpus.CVS}
    key_of, texts, read = {}, {}, set()
    with app.app_context():
        admin = User(email="officer@example.org", password_hash="-", role="admin",
                     company="Ingenium")
        db.session.add(admin)
        db.session.commit()
        admin_id = admin.id
        keys = app.extensions["vault.keys"]
        for record in db.session.scalars(select(Candidate)):
            card = open_card(record_sealer(keys, record), record.index_row.card)
            key = key_of[record.public_id] = by_name[card.full_name]
            texts[key] = " ".join([card.full_name, card.position, card.interests,
                                   card.cv_text, *(" ".join(e) for e in card.education)])
            if card.cv_text.strip():
                read.add(key)

    def find(q: str) -> set[str]:
        with app.app_context():
            page = search(db.session, app.extensions["vault.keys"],
                          db.session.get(User, admin_id), q=q, page_size=100,
                          now=now())
            return {key_of[hit.public_id] for hit in page.results}

    return statuses, find, texts, read


def per_place(quality: search_corpus.Quality) -> str:
    total = Counter(place for cv in search_corpus.CVS for place in cv.placed.values())
    missed = Counter(place for _key, _word, place in quality.missed_words)
    return ", ".join(f"{place} {total[place] - missed[place]}/{total[place]}"
                     for place in search_corpus.PLACES if total[place])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        statuses, find, texts, read = build(Path(tmp))
        accepted = sum(1 for status in statuses.values() if status == 302)
        print(f"corpus: {len(search_corpus.CVS)} CVs, "
              f"{sum(len(cv.placed) for cv in search_corpus.CVS)} placed words, "
              f"{len(search_corpus.QUERIES)} queries; accepted {accepted}, "
              f"text read {len(read)}")
        finders = {"vault": find, **{name: search_corpus.fts5_finder(texts, tokenizer)
                                     for name, tokenizer in FTS5_TOKENIZERS.items()}}
        print(f"{'':16} {'placed words':>14} {'recall':>16} {'wrong':>6}")
        for name, finder in finders.items():
            quality = search_corpus.measure(finder)
            print(f"{name:16} {quality.placed_found:>3}/{quality.placed_total} "
                  f"({quality.placed_share:4.0%}) {quality.relevant_found:>3}/"
                  f"{quality.relevant_total} ({quality.recall:4.0%}) {quality.wrong:>6}")
            print(f"{'':16} by place: {per_place(quality)}")
            if args.details:
                print(f"{'':16} missed words: {quality.missed_words}")
                print(f"{'':16} missed: {quality.missed_relevant}")
                print(f"{'':16} wrong: {quality.wrong_results}")


if __name__ == "__main__":
    main()
