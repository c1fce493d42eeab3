from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import func, select

from vault.appctx import vault_keys
from vault.crypto import new_share
from vault.extensions import db
from vault.models import HeldUpload
from vault.services import held_uploads
from vault.services.candidates import DocumentInput
from vault.services.held_uploads import Claim

DOC = DocumentInput(content=b"%PDF-1.7 body", filename="Qname-cv.pdf",
                    media_type="application/pdf", extension="pdf", text="Python Kafka",
                    has_text=True)


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(HeldUpload))


def test_a_held_upload_comes_back_whole_for_its_claim_only(app, clock):
    with app.app_context():
        keyring = vault_keys().keyring
        claim = held_uploads.hold(db.session, keyring, DOC, now=clock(), minutes=30)
        db.session.commit()
        assert held_uploads.take(db.session, keyring, claim, now=clock()) == DOC
        assert held_uploads.peek(db.session, keyring, claim, now=clock()).filename == DOC.filename
        stranger = Claim(claim.token, base64.urlsafe_b64encode(new_share()).decode())
        assert held_uploads.take(db.session, keyring, stranger, now=clock()) is None
        assert held_uploads.peek(db.session, keyring, Claim(claim.token, "%%"),
                                 now=clock()) is None
        assert held_uploads.take(db.session, keyring, claim,
                                 now=clock() + timedelta(minutes=30)) is None


def test_a_ciphertext_moved_to_another_row_does_not_open(app, clock):
    with app.app_context():
        keyring = vault_keys().keyring
        first = held_uploads.hold(db.session, keyring, DOC, now=clock(), minutes=30)
        second = held_uploads.hold(db.session, keyring, DOC, now=clock(), minutes=30)
        db.session.commit()
        rows = db.session.scalars(select(HeldUpload).order_by(HeldUpload.id)).all()
        rows[1].content = rows[0].content
        db.session.commit()
        assert held_uploads.take(db.session, keyring, first, now=clock()) == DOC
        assert held_uploads.take(db.session, keyring, second, now=clock()) is None


def test_purge_deletes_only_what_has_expired(app, clock):
    with app.app_context():
        keyring = vault_keys().keyring
        held_uploads.hold(db.session, keyring, DOC, now=clock(), minutes=30)
        kept = held_uploads.hold(db.session, keyring, DOC, now=clock() + timedelta(minutes=20),
                                 minutes=30)
        db.session.commit()
        later = clock() + timedelta(minutes=31)
        assert held_uploads.purge_expired(db.session, later, dry_run=True) == 1 and _rows() == 2
        assert held_uploads.purge_expired(db.session, later) == 1
        db.session.commit()
        assert _rows() == 1
        assert held_uploads.take(db.session, keyring, kept, now=later) == DOC
