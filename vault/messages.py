"""User-facing messages in one table (as Flask-Security does), so wording is reviewed in
one place and no message ever interpolates personal data.

Each message is marked for translation (lazy: it is translated when shown, in the
language of the page or mail being built); the catalogues are vault/translations/.
"""

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

MESSAGES: dict[str, LazyString] = {
    "not_initialised": _l("The vault has no {what}: run 'vault init' first."),
    "keys_changed": _l("The encryption keys were just changed and this server is catching "
                       "up. Please try again in a minute."),
    "key_manager_unavailable": _l("The encryption keys cannot be reached at the moment, so "
                                  "nothing was shown or saved. Please try again in a few "
                                  "minutes."),
    "link_invalid": _l("This link is not valid. Ask for a new personal link below."),
    "link_expired": _l("This link has expired. Ask for a new personal link below."),
    "nothing_held": _l("We hold no data on you under this link."),
    "link_sent": _l("If we hold data under that address, we have sent a personal link to it."),
    "upload_refused": _l("Your CV could not be accepted: {reason}"),
    "upload_refused_named": _l("{name} could not be accepted: {reason}"),
    "upload_wrong_type": _l("{name} is not a PDF or Word file (.docx). Upload a PDF or Word "
                            "file (.docx) of at most {mb} MB."),
    "upload_empty": _l("{name} is empty. Upload a PDF or Word file (.docx) of at most {mb} MB."),
    "upload_bad_name": _l("The name of {name} cannot be used. Rename the file (for example to "
                          "cv.pdf) and upload it again."),
    "upload_unnamed": _l("The file"),
    "held_cv_gone": _l("The CV you attached earlier is no longer held (we keep it for "
                       "{minutes} minutes). Attach it again: a PDF or Word file (.docx)."),
    "too_large": _l("The file is too large."),
    "upload_too_heavy": _l("the file takes too much time or memory to read. Please save or "
                        "export it again as a plain PDF or DOCX and send that."),
    "cv_without_text": _l("We could not read any text in your CV (it may be a scan or an "
                       "image). Recruiters can still open it, but it will not be found when "
                       "they search. Choose another file (a PDF or DOCX with text), or tick "
                       "the box below and send the form again: we keep the CV you attached."),
    "companies_required": _l("Please choose the company (or companies) your application is "
                             "for."),
    "companies_unknown": _l("Please choose among the companies listed."),
    "rate_limited": _l("Too many requests. Please wait a moment and try again."),
    "login_failed": _l("The e-mail address or password is not correct."),
    "login_throttled": _l("Too many failed attempts. Please wait and try again later."),
    "login_required": _l("Please log in to see this page."),
    "enrol_required": _l("Set up a second factor first: your account needs one."),
    "second_factor_failed": _l("That code is not correct, or it was already used."),
    "second_factor_expired": _l("Too much time has passed, or too many wrong codes: please "
                                "log in again."),
    "session_ended": _l("Your session has ended. Please log in again."),
    "password_changed": _l("Your password is changed. Your other sessions have ended."),
    "password_set": _l("Your password is set. You can log in now."),
    "password_link_sent": _l("If an account has that address, we have sent it a link to "
                             "choose a new password. It works once, for {minutes} minutes."),
    "password_link_invalid": _l("This link is not valid any more (it was used, replaced by a "
                                "newer one, or has expired). Ask for a new one below."),
    "sessions_ended": _l("Your other sessions have ended."),
    "totp_enrolled": _l("Your authenticator app is set up. Keep these recovery codes in a "
                        "safe place: they are shown only now."),
    "recovery_code_used": _l("You logged in with a recovery code. {left} codes are left."),
    "fresh_login_required": _l("Please confirm your password to continue."),
    "csrf": _l("This form has expired (it was open for a long time, or your session ended), "
            "so nothing was changed. Go back to the form, reload it and send it again."),
    "csrf_cross_origin": _l("This form was not sent from a page of this site, so nothing was "
                         "changed. If you filled it in here, open the page again from the "
                         "start page and send it from there."),
    "back_to_form": _l("Back to the form"),
    "back_to_start": _l("Back to the start page"),
    "corrected": _l("Your data is corrected."),
    "renewal_not_possible": _l("There is no talent-pool consent to renew under this link (it was "
                            "withdrawn or never given). You can apply again at any time."),
    "withdrawn": _l("You have left the talent pool. Recruiters can no longer find you there."),
    "nothing_to_withdraw": _l("You were not in the talent pool: nothing to withdraw."),
    "objection_invalid": _l("Your objection could not be recorded: please keep it under 2000 "
                         "characters and try again."),
    "query_no_words": _l("Nothing was searched: the search has no word to look for (a word "
                      "needs two letters or digits, or is a known term such as C# or C++)."),
    "objection_logged": _l("Your objection is recorded. Our privacy officer will answer by {due}."),
    "link_replaced": _l("This link has been replaced by a newer one. Use the newest link we sent "
                     "you, or ask for a new personal link below."),
    "email_change_sent": _l("We have sent a confirmation link to the new address. Your data keeps "
                         "your current address until you open that link."),
    "email_confirmed": _l("Your new e-mail address is confirmed. This is your new personal link: "
                       "older links no longer work."),
    "confirmation_invalid": _l("This confirmation link is not valid or has already been used. "
                            "Nothing was changed."),
    "confirmation_expired": _l("This confirmation link has expired. Nothing was changed: correct "
                            "your e-mail address again to get a new one."),
    "email_change_started": _l("A confirmation link was mailed to the new address; the old "
                            "address was told. Nothing changes until the link is opened."),
    # The person's history on their page, in plain words (services.self_service.history).
    "history_access": _l("You looked at your data"),
    "history_export": _l("You downloaded your data"),
    "history_correct": _l("You corrected your data"),
    "history_withdraw": _l("You left the talent pool"),
    "history_object": _l("You objected to how we use your data"),
    "history_erase": _l("You asked us to erase your data"),
    "history_renew": _l("You renewed your place in the talent pool"),
    "history_by_officer": _l("{what} (through our privacy officer)"),
    "history_open": _l("in progress, we answer by {due}"),
    "history_fulfilled": _l("done"),
    "history_rejected": _l("declined (our privacy officer wrote to you why)"),
    "status_not_yours": _l("Only recruiters of the company this application was made to can "
                        "change its status. Nothing was changed."),
    "note_not_yours": _l("You cannot add a note to this record. Nothing was changed."),
    "status_saved": _l("Status saved."),
    "status_unknown": _l("That status does not exist."),
    "note_saved": _l("Note saved."),
    "note_invalid": _l("A note needs some text, at most 5000 characters."),
}


def message(key: str, **kwargs: str) -> str:
    """The message in the current language (English outside a request)."""
    return str(MESSAGES[key]).format(**kwargs)


# Codes stored in records (statuses, consent purposes and events, roles, staff actions),
# in words for the person reading their own page (the English is the wording the page
# always showed); exports keep the codes.
CODE_LABELS: dict[str, LazyString] = {
    "application": _l("application"),
    "talent_pool": _l("talent pool"),
    "granted": _l("granted"),
    "renewed": _l("renewed"),
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
    "new": _l("new"),
    "reviewing": _l("reviewing"),
    "rejected": _l("rejected"),
    "hired": _l("hired"),
    "admin": _l("a privacy officer"),
    "recruiter": _l("a recruiter"),
    "staff": _l("a staff"),
    "candidate.viewed": _l("candidate viewed"),
    "cv.downloaded": _l("cv downloaded"),
    "candidate.exported": _l("candidate exported"),
    # A vacancy's contract type (vault.services.vacancies.CONTRACT_TYPES).
    "permanent": _l("Permanent contract"),
    "fixed_term": _l("Fixed-term contract"),
    "freelance": _l("Freelance"),
    "internship": _l("Internship"),
    "student": _l("Student job"),
}


def label(code: str | None) -> str:
    """The words for a stored code; an unknown code is shown as it is."""
    if code is None:
        return ""
    return str(CODE_LABELS[code]) if code in CODE_LABELS else code
