"""The domain: plain functions taking explicit arguments (session, keys, clock).

Who commits: the caller. A view or a command is one unit of work; services add and
flush, and the caller commits once at the end, or rolls back on a refusal, so that a
refused request changes nothing. The exceptions are services that own a protocol
with steps outside the database, which commit themselves and say so in their
docstring: erasure (ledger line before the transaction, scrub after it), retention
(a reminder mail is recorded as sent the moment it leaves; erasures in batches) and
replay (built on erasure).
"""
