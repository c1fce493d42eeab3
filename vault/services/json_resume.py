"""JSON Resume (https://jsonresume.org/schema): a person's CV data in the open format
many CV tools read, made from the vault's own export document.

It holds only what JSON Resume has a place for: who the person is (basics), their
education and their interests. Everything else (age and gender, the applications and
their status, the CV file, consents, notes, who opened the data, requests) stays in the
vault's own format (export.json, export.zip). The mapping is docs/json-resume.md.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"
VERSION = "v1.0.0"


def _latest(records: list[dict[str, Any]], pick: Any) -> str:
    """The most recent record's non-empty value: what the person said last."""
    for record in sorted(records, key=lambda r: r["created_at"] or "", reverse=True):
        value = pick(record)
        if value:
            return str(value)
    return ""


def _education(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    for record in records:
        for item in record["education"]:
            entry = {"institution": item["institution"], "area": item["field"],
                     "studyType": item["degree"]}
            if item["year"]:
                entry["endDate"] = item["year"]  # the year of the degree: ISO 8601 "YYYY"
            if entry not in entries:  # several applications repeat the same degree
                entries.append(entry)
    return entries


def resume(document: dict[str, Any]) -> dict[str, Any]:
    """export.resume.json for the person an export document describes."""
    records = document["records"]
    basics = {key: value for key, value in (
        ("name", _latest(records, lambda r: r["contact"]["full_name"])),
        ("label", _latest(records, lambda r: r["position"])),
        ("email", _latest(records, lambda r: r["contact"]["email"])),
        ("phone", _latest(records, lambda r: r["contact"]["phone"])),
    ) if value}
    interests = _latest(records, lambda r: r["interests"])
    result: dict[str, Any] = {"$schema": SCHEMA, "basics": basics,
                              "education": _education(records)}
    if interests:
        result["interests"] = [{"name": interests}]  # the person's own words, as one entry
    # JSON Resume's lastModified is a local-looking YYYY-MM-DDThh:mm:ss; the vault's is UTC.
    result["meta"] = {"version": VERSION,
                      "lastModified": (document["exported_at"] or "")[:19]}
    return result
