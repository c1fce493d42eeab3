"""The API's blueprint (flask-smorest), on which every /api/v1 module registers its
operations: `from vault.api.blueprint import bp`, then import the module in
vault.api.MODULES so its routes exist before the blueprint is registered."""

from __future__ import annotations

from flask_smorest import Blueprint

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="The vault's API for job boards and HR systems.",
)
