"""POST /api/v1/applications (applications:write): a job board sends an application.

The body is the web form's (multipart/form-data, the same field names, validated by the
same WTForms form), plus the vacancy's slug, the moment and notice version of each
consent the applicant gave on the board's site, and the language of the confirmation.
The CV is inspected in the same sandbox and the application received by the same
service as the web form's (vault.services.applications.receive_application): sealed
record, search tokens, consent ledger, audit event, confirmation mail with the personal
link. An Idempotency-Key header is required (vault.services.idempotency).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Response, current_app, g, jsonify, request
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from vault.api.auth import require_scope
from vault.api.blueprint import bp
from vault.api.problems import ApiProblem
from vault.appctx import now, vault_keys
from vault.apply.forms import ApplicationForm, SpontaneousApplicationForm
from vault.extensions import db
from vault.extraction import UploadRejected
from vault.i18n import LANGUAGES
from vault.models import ApiClient, Vacancy
from vault.privacy import NOTICE_VERSION
from vault.services import idempotency
from vault.services.api_clients import APPLICATIONS_WRITE
from vault.services.applications import ConsentChoice, receive_application
from vault.services.candidates import (
    GENDERS,
    MAX_AGE,
    MAX_EDUCATION,
    MAX_EDUCATION_FIELD,
    MAX_EMAIL,
    MAX_INTERESTS,
    MAX_NAME,
    MAX_PHONE,
    MAX_POSITION,
    MIN_AGE,
    DocumentInput,
)
from vault.services.notifications import deliver_after_response
from vault.services.vacancies import vacancy_by_slug
from vault.uploads import Limits, inspect_upload

# The notice versions an applicant can have agreed to: the one published now. A board
# shows the vault's current notice (its version is in GET /vacancies).
NOTICE_VERSIONS = frozenset({NOTICE_VERSION})
# A consent is sent with its application, not saved up: older than this, or later than
# the clock skew allows, it is refused.
CONSENT_MAX_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _education_fields() -> dict[str, fields.Field]:
    made: dict[str, fields.Field] = {}
    for n in range(MAX_EDUCATION):
        for name in ("degree", "field", "institution"):
            made[f"education_{n}_{name}"] = fields.String(
                data_key=f"education-{n}-{name}", validate=validate.Length(max=MAX_EDUCATION_FIELD)
            )
        made[f"education_{n}_year"] = fields.String(
            data_key=f"education-{n}-year", metadata={"pattern": "^(19[5-9][0-9]|20[0-9]{2})$"}
        )
    return made


# The yes/no fields of the body. They are read with marshmallow's Boolean (its truthy and
# falsy sets: true/1/yes/on/t/y, false/0/no/off/f/n, any case), never with the web form's
# WTForms BooleanField, which takes every value but "false" and "" as ticked: through it,
# consent_application=0 or consent_talent_pool=no would be stored as consent given.
# Anything outside both sets is refused, not guessed.
FLAG_FIELDS: dict[str, fields.Field] = {
    "cv_without_text": fields.Boolean(
        metadata={
            "description": "Send a CV in which no text was found anyway (search will not find "
            "it); without it such a CV is refused so the applicant can choose."
        }
    ),
    "consent_application": fields.Boolean(
        required=True,
        metadata={
            "description": "The applicant agreed to the processing of the application: must "
            "be true (true, 1, yes or on); without it nothing is stored."
        },
    ),
    "consent_talent_pool": fields.Boolean(
        metadata={
            "description": "Separate, optional: keep the CV in the group's talent pool "
            "(false, 0, no, off or absent: not given)."
        }
    ),
}
_Flags = Schema.from_dict(FLAG_FIELDS, name="ApplicationFlags")
CONSENT_NEEDED = (
    "The applicant's consent to the processing of the application is required: send "
    "consent_application=true only once the applicant gave it."
)


@dataclass(frozen=True)
class Flags:
    consent_application: bool
    consent_talent_pool: bool
    cv_without_text: bool


_Form = Schema.from_dict(
    {
        "vacancy": fields.String(
            metadata={
                "description": "The vacancy's slug (GET /vacancies). Without it the application "
                "is spontaneous and names `companies` and `position`."
            }
        ),
        "companies": fields.List(
            fields.String(),
            metadata={
                "description": "Spontaneous applications: the companies it is for (repeat the "
                "field for several)."
            },
        ),
        "position": fields.String(
            validate=validate.Length(max=MAX_POSITION),
            metadata={"description": "Spontaneous applications: the position sought."},
        ),
        "full_name": fields.String(required=True, validate=validate.Length(1, MAX_NAME)),
        "email": fields.String(
            required=True,
            validate=validate.Length(1, MAX_EMAIL),
            metadata={"description": "Where the confirmation and the personal link are sent."},
        ),
        "phone": fields.String(validate=validate.Length(max=MAX_PHONE)),
        **_education_fields(),
        "age": fields.Integer(validate=validate.Range(MIN_AGE, MAX_AGE)),
        "gender": fields.String(validate=validate.OneOf(("", *GENDERS))),
        "interests": fields.String(validate=validate.Length(max=MAX_INTERESTS)),
        "cv": Upload(required=True, metadata={"description": "PDF or Word (.docx)."}),
        "cv_without_text": FLAG_FIELDS["cv_without_text"],
        "consent_application": FLAG_FIELDS["consent_application"],
        "consent_application_given_at": fields.AwareDateTime(
            required=True,
            metadata={"description": "When (RFC 3339, with offset), at most 7 days ago."},
        ),
        "consent_application_notice_version": fields.String(
            required=True,
            metadata={
                "description": "The privacy notice version shown (`privacy_notice.version` of "
                "GET /vacancies)."
            },
        ),
        "consent_talent_pool": FLAG_FIELDS["consent_talent_pool"],
        "consent_talent_pool_given_at": fields.AwareDateTime(
            metadata={"description": "Required with consent_talent_pool."}
        ),
        "consent_talent_pool_notice_version": fields.String(
            metadata={"description": "Required with consent_talent_pool."}
        ),
        "language": fields.String(
            validate=validate.OneOf(LANGUAGES),
            metadata={
                "description": "Language of the confirmation mail and later mails (default en)."
            },
        ),
    },
    name="ApplicationForm",
)


class ReceiptSchema(Schema):
    public_id = fields.String(
        required=True, metadata={"description": "The record's id: erasure notices name it."}
    )
    received_at = fields.AwareDateTime(required=True)
    vacancy = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The vacancy's slug; null for a spontaneous application."},
    )
    companies = fields.List(fields.String(), required=True)
    talent_pool_until = fields.AwareDateTime(
        allow_none=True,
        required=True,
        metadata={"description": "Until when the talent-pool consent runs; null without it."},
    )


def _answer(body: dict[str, Any], status: int, replayed: bool = False) -> Response:
    # The stored JSON itself, not dumped again: a retry gets the very same bytes.
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _invalid(errors: dict[str, list[str]]) -> ApiProblem:
    return ApiProblem(
        422,
        "The application was not accepted; `errors` says why, per field. Nothing was stored.",
        kind="invalid-application",
        title="Invalid application",
        extra={"errors": errors},
    )


def _field_errors(form: ApplicationForm) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def walk(field: Any) -> None:
        if hasattr(field, "entries"):  # FieldList
            for entry in field.entries:
                walk(entry)
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):  # FormField
            for sub in field.form:
                walk(sub)
        elif field.errors:
            errors[field.name] = [str(e) for e in field.errors]

    for field in form:
        walk(field)
    if form.form_errors:
        errors["_form"] = [str(e) for e in form.form_errors]
    return errors


def _moment(name: str, at: datetime, errors: dict[str, list[str]]) -> datetime | None:
    raw = request.form.get(name, "")
    try:
        given = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        given = None
    if given is None or given.tzinfo is None:
        errors[name] = [
            "A date and time with its offset (RFC 3339), e.g. 2026-11-27T10:15:00+01:00."
        ]
        return None
    if given > at + CLOCK_SKEW or given < at - CONSENT_MAX_AGE:
        errors[name] = ["The consent must have been given within the last 7 days."]
        return None
    return given


def _version(name: str, errors: dict[str, list[str]]) -> str:
    version = request.form.get(name, "").strip()
    if version not in NOTICE_VERSIONS:
        errors[name] = [
            f"Not a privacy notice version of this vault; the current one is {NOTICE_VERSION}."
        ]
    return version


def _flags(errors: dict[str, list[str]]) -> Flags:
    """The yes/no fields, by marshmallow's Boolean (see FLAG_FIELDS). A field sent twice is
    refused: which of two answers the applicant gave is not for the vault to pick. An
    empty value counts as not sent (an unticked box)."""
    raw: dict[str, str] = {}
    own: dict[str, list[str]] = {}
    for name in FLAG_FIELDS:
        values = request.form.getlist(name)
        if len(values) > 1:
            own[name] = ["Send this field once."]
        elif values and values[0].strip():
            raw[name] = values[0].strip()
    try:
        loaded: dict[str, Any] = _Flags().load(raw)
    except ValidationError as exc:
        messages = cast(dict[str, list[str]], exc.messages)
        for name, said in messages.items():
            own.setdefault(name, [str(m) for m in said])
        loaded = cast(dict[str, Any], exc.valid_data or {})
    consent = "consent_application" not in own and loaded.get("consent_application") is True
    if not consent:
        # Missing, false, or not a yes/no: the application is not processed at all.
        missing = FLAG_FIELDS["consent_application"].error_messages["required"]
        own["consent_application"] = [
            *(m for m in own.get("consent_application", ()) if m != missing),
            CONSENT_NEEDED,
        ]
    # These replace the web form's messages for the same fields: the flags are read here.
    errors.update(own)
    return Flags(
        consent_application=consent,
        consent_talent_pool=loaded.get("consent_talent_pool") is True,
        cv_without_text=loaded.get("cv_without_text") is True,
    )


def _consents(
    flags: Flags, at: datetime, key_id: str, errors: dict[str, list[str]]
) -> ConsentChoice | None:
    app_given = _moment("consent_application_given_at", at, errors)
    app_version = _version("consent_application_notice_version", errors)
    pool = flags.consent_talent_pool
    pool_given = pool_version = None
    if pool:
        pool_given = _moment("consent_talent_pool_given_at", at, errors)
        pool_version = _version("consent_talent_pool_notice_version", errors)
    if errors:
        return None
    return ConsentChoice(
        talent_pool=pool,
        notice_version=app_version,
        pool_months=current_app.config["TALENT_POOL_MONTHS"],
        application_given_at=app_given,
        pool_given_at=pool_given,
        pool_notice_version=pool_version,
        # Consent.source names the client (20 characters hold 16 of
        # its key id's 24): which board the applicant agreed on.
        source=f"api:{key_id[:16]}",
    )


@dataclass(frozen=True)
class SentFile:
    filename: str
    content: bytes


def _sent_cv() -> SentFile | None:
    """The CV of the request, read once: the same bytes are hashed for the idempotency
    record and inspected, so what is remembered is what was checked and stored."""
    upload: FileStorage | None = request.files.get("cv")
    if upload is None or not upload.filename:
        return None
    return SentFile(upload.filename, upload.read())


def _request_parts(cv: SentFile | None) -> list[tuple[str, str]]:
    parts = [(name, value) for name, values in request.form.lists() for value in values]
    if cv is not None:
        parts.append(("cv", f"{cv.filename}\0{hashlib.sha256(cv.content).hexdigest()}"))
    return parts


def _idempotency_key() -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if not key.strip():
        raise ApiProblem(
            400,
            f"An {IDEMPOTENCY_HEADER} header is required (a new random "
            "value, such as a UUID, per application; the same on a retry).",
            kind="idempotency-key-required",
            title="Idempotency key required",
        )
    if len(key) > idempotency.KEY_MAX or not key.isprintable() or not key.isascii():
        raise ApiProblem(
            400,
            f"The {IDEMPOTENCY_HEADER} must be 1 to {idempotency.KEY_MAX} "
            "printable ASCII characters.",
            kind="idempotency-key-required",
            title="Idempotency key required",
        )
    return key


def _vacancy(errors: dict[str, list[str]]) -> tuple[Vacancy | None, bool]:
    slug = request.form.get("vacancy", "").strip()
    if not slug:
        return None, False
    vacancy = vacancy_by_slug(db.session, slug)
    if vacancy is None or not vacancy.is_open:
        errors["vacancy"] = ["No open vacancy has this slug (GET /vacancies lists them)."]
    return vacancy, True


def _inspect(cv: SentFile, errors: dict[str, list[str]]) -> DocumentInput | None:
    try:
        return inspect_upload(
            cv.content, cv.filename, limits=Limits.from_config(current_app.config)
        )
    except UploadRejected as exc:
        errors["cv"] = [exc.reason]
        return None


@bp.route("/applications", methods=["POST"])
@require_scope(APPLICATIONS_WRITE)
@bp.doc(
    requestBody={"required": True, "content": {"multipart/form-data": {"schema": _Form}}},
    parameters=[
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": True,
            "description": "A new random value per application, the same on a retry: "
            "a retry gets the first answer and no second application.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": idempotency.KEY_MAX,
                "pattern": "^[ -~]+$",
            },
        }
    ],
)
@bp.response(
    201,
    ReceiptSchema,
    description="Received (or, on a retry with the same "
    "Idempotency-Key and body, the first answer again, with Idempotent-Replayed: "
    "true).",
)
@bp.alt_response(400, "BAD_REQUEST")
@bp.alt_response(413, "REQUEST_ENTITY_TOO_LARGE")
@bp.alt_response(422, "UNPROCESSABLE_ENTITY")
def post_application() -> Response:
    """Send an application with its CV and the applicant's consents."""
    client = cast(ApiClient, g.api_client)
    keys = vault_keys()
    key = _idempotency_key()
    cv = _sent_cv()
    parts = _request_parts(cv)
    moment = now()
    try:
        earlier = idempotency.earlier_outcome(
            db.session, keys.keyring, client_id=client.id, key=key, parts=parts, now=moment
        )
    except idempotency.KeyReused:
        raise ApiProblem(
            422,
            f"This {IDEMPOTENCY_HEADER} was used for a request with "
            "other content. Use a new key for a new application.",
            kind="idempotency-key-reused",
            title="Idempotency key reused",
        ) from None
    if earlier is not None:
        return _answer(earlier.body, earlier.status_code, replayed=True)

    errors: dict[str, list[str]] = {}
    vacancy, for_vacancy = _vacancy(errors)
    formdata = CombinedMultiDict([request.files, request.form])
    form: ApplicationForm
    if for_vacancy:
        form = ApplicationForm(formdata=formdata, meta={"csrf": False})
    else:
        form = SpontaneousApplicationForm(formdata=formdata, meta={"csrf": False})
        form.companies.choices = [(c, c) for c in current_app.config["COMPANIES"]]
    if not form.validate():
        errors.update(_field_errors(form))
    language = request.form.get("language", "en") or "en"
    if language not in LANGUAGES:
        errors["language"] = [f"One of {', '.join(LANGUAGES)}."]
    flags = _flags(errors)
    choice = _consents(flags, moment, client.key_id, errors)
    if errors or cv is None or choice is None:
        raise _invalid(errors)
    document = _inspect(cv, errors)
    if document is None:
        raise _invalid(errors)
    if not document.has_text and not flags.cv_without_text:
        raise _invalid(
            {
                "cv": [
                    "No text was found in this CV, so recruiters' search will "
                    "never find it. Send it again with cv_without_text=true "
                    "if the applicant wants it sent as it is."
                ]
            }
        )
    companies = form.chosen() if isinstance(form, SpontaneousApplicationForm) else ()
    data = form.candidate_input(document, position=vacancy.title if vacancy else None)
    candidate = receive_application(
        db.session,
        keys,
        data,
        vacancy=vacancy,
        companies=companies,
        known_companies=current_app.config["COMPANIES"],
        choice=choice,
        now=moment,
        language=language,
    )
    body = ReceiptSchema().dump(
        {
            "public_id": candidate.public_id,
            "received_at": moment,
            "vacancy": vacancy.slug if vacancy else None,
            "companies": list(candidate.companies),
            "talent_pool_until": candidate.pool_consent_until,
        }
    )
    try:
        idempotency.remember(
            db.session,
            keys.keyring,
            client_id=client.id,
            key=key,
            parts=parts,
            outcome=idempotency.Outcome(201, body),
            now=moment,
        )
        db.session.commit()
    except IntegrityError:
        # Rolled back whole either way: no record, no mail.
        db.session.rollback()
        if not idempotency.key_stored(db.session, client_id=client.id, key=key):
            # Not the key's uniqueness: another fault, answered as one (a 500 problem,
            # logged by class). Telling the client to retry the key would loop for ever.
            raise
        # The same key arrived twice at once and the other request stored first.
        raise ApiProblem(
            409,
            "A request with this Idempotency-Key is being processed; retry it to get its answer.",
            kind="idempotency-key-in-use",
            title="Idempotency key in use",
            headers={"Retry-After": "1"},
        ) from None
    deliver_after_response()
    return _answer(body, 201)
