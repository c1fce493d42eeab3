"""Flask extensions, created unbound; create_app binds them (cookiecutter-flask style)."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from vault.csrf import OriginCheckedCSRF


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# The token check of Flask-WTF, plus an origin check that replaces its Referer check.
csrf = OriginCheckedCSRF()
login_manager = LoginManager()
# Limits come from configuration (RATELIMIT_* keys); storage is memory:// unless
# VAULT_RATELIMIT_STORAGE_URI points at Redis.
limiter = Limiter(key_func=get_remote_address)
# Bound with the locale selector of vault.i18n (the person's choice, Accept-Language, English).
babel = Babel()
