"""User-facing messages in one table (as Flask-Security does), so wording is reviewed in
one place and no message ever interpolates personal data."""

MESSAGES: dict[str, str] = {
    "not_initialised": "The vault has no {what}: run 'vault init' first.",
    "keys_changed": "The encryption keys were just changed and this server is catching up. "
                    "Please try again in a minute.",
    "link_invalid": "This link is not valid. Ask for a new personal link below.",
    "link_expired": "This link has expired. Ask for a new personal link below.",
    "nothing_held": "We hold no data on you under this link.",
    "link_sent": "If we hold data under that address, we have sent a personal link to it.",
    "upload_refused": "Your CV could not be accepted: {reason}",
    "too_large": "The file is too large.",
    "upload_too_heavy": "the file takes too much time or memory to read. Please save or "
                        "export it again as a plain PDF or DOCX and send that.",
    "cv_without_text": "We could not read any text in your CV (it may be a scan or an "
                       "image). Recruiters can still open it, but it will not be found when "
                       "they search. Choose another file (a PDF or DOCX with text), or tick "
                       "the box below, choose the same file again and send it as it is.",
    "companies_required": "Please choose the company (or companies) your application is for.",
    "companies_unknown": "Please choose among the companies listed.",
    "rate_limited": "Too many requests. Please wait a moment and try again.",
    "login_failed": "The e-mail address or password is not correct.",
    "login_throttled": "Too many failed attempts. Please wait and try again later.",
    "login_required": "Please log in to see this page.",
    "fresh_login_required": "Please confirm your password to continue.",
    "csrf": "This form has expired (it was open for a long time, or your session ended), "
            "so nothing was changed. Go back to the form, reload it and send it again.",
    "csrf_cross_origin": "This form was not sent from a page of this site, so nothing was "
                         "changed. If you filled it in here, open the page again from the "
                         "start page and send it from there.",
    "back_to_form": "Back to the form",
    "back_to_start": "Back to the start page",
    "corrected": "Your data is corrected.",
    "renewal_not_possible": "There is no talent-pool consent to renew under this link (it was "
                            "withdrawn or never given). You can apply again at any time.",
    "withdrawn": "You have left the talent pool. Recruiters can no longer find you there.",
    "nothing_to_withdraw": "You were not in the talent pool: nothing to withdraw.",
    "objection_invalid": "Your objection could not be recorded: please keep it under 2000 "
                         "characters and try again.",
    "query_no_words": "Nothing was searched: the search has no word to look for (a word "
                      "needs two letters or digits, or is a known term such as C# or C++).",
    "objection_logged": "Your objection is recorded. Our privacy officer will answer by {due}.",
    "link_replaced": "This link has been replaced by a newer one. Use the newest link we sent "
                     "you, or ask for a new personal link below.",
    "email_change_sent": "We have sent a confirmation link to the new address. Your data keeps "
                         "your current address until you open that link.",
    "email_confirmed": "Your new e-mail address is confirmed. This is your new personal link: "
                       "older links no longer work.",
    "confirmation_invalid": "This confirmation link is not valid or has already been used. "
                            "Nothing was changed.",
    "confirmation_expired": "This confirmation link has expired. Nothing was changed: correct "
                            "your e-mail address again to get a new one.",
    "email_change_started": "A confirmation link was mailed to the new address; the old "
                            "address was told. Nothing changes until the link is opened.",
    # The person's history on their page, in plain words (services.self_service.history).
    "history_access": "You looked at your data",
    "history_export": "You downloaded your data",
    "history_correct": "You corrected your data",
    "history_withdraw": "You left the talent pool",
    "history_object": "You objected to how we use your data",
    "history_erase": "You asked us to erase your data",
    "history_renew": "You renewed your place in the talent pool",
    "history_by_officer": "{what} (through our privacy officer)",
    "history_open": "in progress, we answer by {due}",
    "history_fulfilled": "done",
    "history_rejected": "declined (our privacy officer wrote to you why)",
    "status_not_yours": "Only recruiters of the company this application was made to can "
                        "change its status. Nothing was changed.",
    "note_not_yours": "You cannot add a note to this record. Nothing was changed.",
    "status_saved": "Status saved.",
    "status_unknown": "That status does not exist.",
    "note_saved": "Note saved.",
    "note_invalid": "A note needs some text, at most 5000 characters.",
}


def message(key: str, **kwargs: str) -> str:
    return MESSAGES[key].format(**kwargs)
