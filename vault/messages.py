"""User-facing messages in one table (as Flask-Security does), so wording is reviewed in
one place and no message ever interpolates personal data."""

MESSAGES: dict[str, str] = {
    "not_initialised": "The vault has no {what}: run 'vault init' first.",
    "link_invalid": "This link is not valid. Ask for a new personal link below.",
    "link_expired": "This link has expired. Ask for a new personal link below.",
    "nothing_held": "We hold no data on you under this link.",
    "link_sent": "If we hold data under that address, we have sent a personal link to it.",
    "upload_refused": "Your CV could not be accepted: {reason}",
    "too_large": "The file is too large.",
    "rate_limited": "Too many requests. Please wait a moment and try again.",
    "login_failed": "The e-mail address or password is not correct.",
    "login_throttled": "Too many failed attempts. Please wait and try again later.",
    "login_required": "Please log in to see this page.",
    "fresh_login_required": "Please confirm your password to continue.",
    "csrf": "The form has expired or was not sent from this site. Please try again.",
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
}


def message(key: str, **kwargs: str) -> str:
    return MESSAGES[key].format(**kwargs)
