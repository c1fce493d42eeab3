"""Renewing talent-pool consent from the reminder's link: a confirmation page, then POST."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from vault.appctx import now, secret_keys
from vault.extensions import db
from vault.messages import message
from vault.personal_links import refused_link_limit
from vault.privacy import NOTICE_VERSION
from vault.renewal.forms import RenewForm
from vault.services import links, self_service
from vault.services.consent import add_months

bp = Blueprint("renewal", __name__)


def _problem(status: int, key: str) -> tuple[str, int]:
    return render_template("candidate/link_problem.html", text=message(key)), status


@bp.route("/consent/renew/<token>", methods=["GET", "POST"], endpoint="confirm")
@refused_link_limit
def confirm(token: str) -> str | tuple[str, int]:
    try:
        # Its own purpose: a renewal link opens nothing else, a data link renews nothing.
        person = self_service.resolve(
            db.session, token, purpose=links.RENEW_CONSENT, secret_keys=secret_keys(),
            max_age_days=current_app.config["LINK_MAX_AGE_DAYS"], clock=now)
    except links.LinkError as exc:
        if exc.problem is links.LinkProblem.REVOKED:
            return _problem(410, "link_replaced")
        return _problem(410 if exc.problem is links.LinkProblem.EXPIRED else 404,
                        "link_expired" if exc.problem is links.LinkProblem.EXPIRED
                        else "link_invalid")
    except self_service.NothingHeld:
        return _problem(404, "nothing_held")
    months = current_app.config["TALENT_POOL_MONTHS"]
    form = RenewForm()
    if not self_service.renewable(person):
        return _problem(409, "renewal_not_possible")
    if form.validate_on_submit():
        result = self_service.renew_pool(
            db.session, person, months=months, notice_version=NOTICE_VERSION, now=now(),
            due_days=current_app.config["REQUEST_DUE_DAYS"])
        db.session.commit()
        return render_template("renewal/renewed.html", until=result.until)
    return render_template("renewal/confirm.html", form=form, token=token, months=months,
                           until=add_months(now(), months))
