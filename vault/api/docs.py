"""GET /api/v1/docs: the API's documentation, drawn on the server from the OpenAPI
document that the code generates. No script and nothing from another site (the app's
CSP allows neither); the page reads the same in every browser and says what the
document says, because it is made from it."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, current_app, render_template

from vault.api.problems import PROBLEM_TYPES

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    """Follow a local $ref (#/components/...) to what it names."""
    seen = 0
    while isinstance(item, dict) and "$ref" in item and seen < 10:
        target: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        item, seen = target, seen + 1
    return item


def _type_of(spec: dict[str, Any], schema: Any) -> str:
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return ""
    kind = schema.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {_type_of(spec, schema.get('items', {})) or 'values'}"
    extra = schema.get("format") or (
        "one of " + ", ".join(map(str, schema["enum"])) if "enum" in schema else ""
    )
    return f"{kind} ({extra})" if extra else str(kind)


def _fields(spec: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return []
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type_of(spec, prop),
            "required": name in required,
            "description": (_resolve(spec, prop) or {}).get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (op.get("requestBody") or {}).get("content", {})
            media, content = next(iter(body.items()), (None, {}))
            responses = []
            for status, response in op.get("responses", {}).items():
                response = _resolve(spec, response)
                responses.append(
                    {
                        "status": status,
                        "description": response.get("description", ""),
                        "media": ", ".join(response.get("content", {})),
                    }
                )
            scopes = [s for req in op.get("security", []) for s in next(iter(req.values()), [])]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "scopes": scopes,
                    "parameters": [
                        {**p, "type": _type_of(spec, p.get("schema", {}))}
                        for p in (_resolve(spec, p) for p in op.get("parameters", []))
                    ],
                    "body_media": media,
                    "body": _fields(spec, content.get("schema", {})),
                    "responses": responses,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("<", "")
                    .replace(">", "")
                    .replace("{", "")
                    .replace("}", ""),
                }
            )
    return found


PAGE = "vault.api.docs_page"


def docs_page() -> str:
    """The page, drawn on the first request and kept: the OpenAPI document is complete
    once the app is made and the page holds nothing of the request or the reader, so
    walking the whole document again on every hit would only spend CPU (an
    unauthenticated page is also an easy one to call in a loop)."""
    page = current_app.extensions.get(PAGE)
    if page is None:
        spec = current_app.extensions["vault.api"].spec.to_dict()
        page = render_template(
            "api/docs.html", spec=spec, operations=_operations(spec), problem_types=PROBLEM_TYPES
        )
        current_app.extensions[PAGE] = page
    return cast(str, page)


def init_app(app: Flask) -> None:
    app.add_url_rule("/api/v1/docs", "api_docs", docs_page, methods=["GET"])
