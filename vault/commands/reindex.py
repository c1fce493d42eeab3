"""`vault reindex`: rebuild every record's search tokens; how the index key rotates."""

from __future__ import annotations

import dataclasses
import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import func, or_, select

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.crypto import BlindIndex
from vault.crypto.keyring import KEY_BYTES
from vault.extensions import db
from vault.models import Candidate, CandidateIndex
from vault.services import audit
from vault.services.candidates import reindex_candidate
from vault.services.indexing import INDEX_VERSION, TokenMemo
from vault.services.keyring_state import advance
from vault.services.sealing import records_opened


@click.command("reindex")
@click.option("--new-index-key", is_flag=True,
              help="Rotate the blind-index root key: tokens are rebuilt under a new key.")
@click.option("--outdated", is_flag=True,
              help="Only the records whose tokens come from an older analysis (an upgrade "
                   "that added prefix tokens): resumable, and quick once done.")
@click.option("--batch-size", default=500, show_default=True)
@with_appcontext
def reindex_command(new_index_key: bool, outdated: bool, batch_size: int) -> None:
    """Rebuild the search tokens of every record from its sealed data.

    With --new-index-key the new root key is saved only after every record has been
    rebuilt: if the run stops half-way, the saved keyring still holds the old key and
    a plain 'vault reindex' repairs the tokens already rewritten.
    """
    if new_index_key and outdated:
        raise click.UsageError("--new-index-key rebuilds every record: leave out --outdated.")
    require_secrets()
    keys = vault_keys()
    index_key = secrets.token_bytes(KEY_BYTES) if new_index_key else keys.keyring.index_key
    bits = keys.blind_index.bits
    # The same keys (and KEK backend) with the index key this run writes tokens under.
    working = dataclasses.replace(keys, blind_index=BlindIndex(index_key, bits))
    session = db.session
    chosen = select(Candidate)
    if outdated:
        # Records with no index row are rebuilt too: search cannot find them at all.
        chosen = chosen.outerjoin(CandidateIndex).where(or_(
            CandidateIndex.candidate_id.is_(None), CandidateIndex.analysis < INDEX_VERSION))
    total = session.scalar(select(func.count()).select_from(chosen.subquery())) or 0
    last_id = 0
    memo = TokenMemo()  # word -> token under the new key, for this run only
    with click.progressbar(length=total, label="Reindexing") as bar:
        while True:
            batch = list(session.scalars(chosen.where(Candidate.id > last_id)
                                         .order_by(Candidate.id).limit(batch_size)))
            if not batch:
                break
            # The batch's data keys in one call to the KEK backend, dropped after it.
            with records_opened(working, batch):
                for candidate in batch:
                    reindex_candidate(working, candidate, memo)
            last_id = batch[-1].id
            session.commit()
            bar.update(len(batch))
    if new_index_key:
        keys.keyring.index_key = index_key
        keys.save()
        keys.blind_index = working.blind_index
        # Workers on every host switch to the new key at their next request.
        advance(session)
    audit.record(session, audit.CLI, audit.INDEX_REBUILT, now=now(),
                 detail=f"records={total} new_key={new_index_key} outdated={outdated}")
    session.commit()
    click.echo(f"Rebuilt the search tokens of {total} record(s)"
               + (" under a new index key." if new_index_key else "."))


COMMANDS = [reindex_command]
