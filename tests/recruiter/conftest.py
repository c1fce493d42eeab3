from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.journey import apply, make_vacancy
from vault.extensions import db
from vault.models import Candidate


@pytest.fixture
def records(app, client):
    """Applicants as they arrive through the form: own company (Ingenium), other company
    with and without pool consent, spontaneous for the other company without consent,
    spontaneous for the own company without consent, spontaneous for the other company
    with consent. Returns public ids by name."""
    own = make_vacancy(app, company="Ingenium", title="Data engineer")
    other = make_vacancy(app, company="Hoptimize", title="Web developer")
    apply(client, own, email="own@example.org", full_name="Own Applicant")
    apply(client, other, email="other@example.org", full_name="Other Applicant")
    apply(client, other, email="pool@example.org", full_name="Pool Applicant",
          consent_talent_pool="y")
    apply(client, email="spont@example.org", full_name="Spontaneous Applicant",
          companies="Hoptimize")
    apply(client, email="spont-own@example.org", full_name="Spontaneous Own",
          companies="Ingenium")
    apply(client, email="spont-pool@example.org", full_name="Spontaneous Pool",
          companies="Hoptimize", consent_talent_pool="y")
    with app.app_context():
        ids = db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()
    return dict(zip(["own", "other", "pool", "spontaneous", "spontaneous_own",
                     "spontaneous_pool"], ids, strict=True))
