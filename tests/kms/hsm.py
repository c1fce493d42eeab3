"""A SoftHSM2 token for the tests, in a temporary directory (SOFTHSM2_CONF).

Without SoftHSM2 (Debian package `softhsm2`) or python-pkcs11 the tests skip with one
line, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.kms.skip import require
from vault.crypto.pkcs11_backend import _module_failed as sessions_closed

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
           "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
SKIP_REASON = ("PKCS#11 tests skipped: no SoftHSM2 (apt-get install softhsm2) or "
               "python-pkcs11")


def softhsm_module() -> str | None:
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        return None
    if shutil.which("softhsm2-util") is None:
        return None
    return next((m for m in MODULES if Path(m).exists()), None)


def require_softhsm() -> str:
    return require(softhsm_module(), SKIP_REASON)


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str
    # SoftHSM's token directory: moving it away is the token being pulled out.
    tokens: Path

    @contextmanager
    def removed(self) -> Iterator[None]:
        """The token is gone (unplugged, its storage lost) until the block ends.

        PKCS#11 closes every session with a token when it is removed, and their session
        objects with them; SoftHSM, whose "token" is a directory, cannot notice, so the
        open sessions are closed here as a module would close them."""
        aside = self.tokens.with_name("tokens-removed")
        self.tokens.rename(aside)
        sessions_closed(self.module)
        try:
            yield
        finally:
            aside.rename(self.tokens)


def make_token(module: str, workdir: Path) -> Token:
    """One token for the session: SoftHSM reads SOFTHSM2_CONF once per process."""
    tokens = workdir / "tokens"
    tokens.mkdir()
    conf = workdir / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    token = Token(module, "vault-test", secrets.token_hex(8), tokens)
    # softhsm2-util takes the PINs as arguments only: a throwaway token of this test
    # session, never a production PIN (the app reads its PIN from the environment or
    # a file).
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", token.label,
                    "--so-pin", secrets.token_hex(8), "--pin", token.pin],
                   check=True, capture_output=True, env={**os.environ})
    return token
