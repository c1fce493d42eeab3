"""Without the real servers the key manager tests skip with one line, except in CI."""

from __future__ import annotations

import pytest

from tests.kms import bao, hsm


@pytest.mark.parametrize(("module", "finder", "require"), [
    (bao, "bao_binary", bao.require_bao),
    (hsm, "softhsm_module", hsm.require_softhsm),
])
def test_missing_server_skips_outside_ci_and_fails_in_ci(monkeypatch, module, finder, require):
    monkeypatch.setattr(module, finder, lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require()
    assert "\n" not in str(skipped.value) and "skipped" in str(skipped.value)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        require()
    assert "cannot run in CI" in str(failed.value)
