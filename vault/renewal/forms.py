from __future__ import annotations

from flask_wtf import FlaskForm


class RenewForm(FlaskForm):
    """Renewal is a POST with nothing but the CSRF token: a GET only asks."""
