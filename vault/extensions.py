"""Flask extensions, created unbound; create_app binds them (cookiecutter-flask style)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits come from configuration (RATELIMIT_* keys); storage is memory:// unless
# VAULT_RATELIMIT_STORAGE_URI points at Redis.
limiter = Limiter(key_func=get_remote_address)
