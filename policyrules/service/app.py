"""The Starlette application: routes, problems (RFC 9457) and audit headers.

Every answer carries ``Policyrules-Version`` (the package version), ``Policyrules-Generation``
(which load of the folder answered: 1, then one more per successful reload) and, where a policy
answered, ``Policyrules-Policy`` (``id@sha256``; for a batch each distinct one, comma-separated).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..determination import Determination
from ..errors import ContextError, ContextProblem, JsonInputError, NoPolicyError
from ..explain import Explanation
from ..jsonlines import error_object, errors_of, json_error_object, loads_strict, read_id, unanswered
from ..policy import Policy
from ..serialise import answer_json, answer_parts, dumps, values_json
from ..space import SpaceTooLarge
from .state import Loaded, PolicyStore

__all__ = ["Problem", "create_app"]

log = logging.getLogger("policyrules.service")

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
           500: "Internal Server Error"}


#: The API page (``GET /docs``): one HTML file, no external assets, shipped in the package.
_API_PAGE = Path(__file__).resolve().parent / "static" / "api.html"
#: The ``values`` query parameter's accepted spellings.
_FLAGS = {"0": False, "1": True, "false": False, "true": True}


class Problem(Exception):
    """An answer that is a problem: ``status``, ``detail`` and its error objects."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    def body(self, instance: str) -> dict[str, Any]:
        return {"type": "about:blank", "title": _TITLES.get(self.status, "Error"), "status": self.status,
                "detail": self.detail, "instance": instance, "errors": self.errors}


def create_app(policies_dir: str | Path | None = None, max_body: int = 10 * 2**20,
               enable_reload_endpoint: bool = False, store: PolicyStore | None = None) -> Starlette:
    """The ASGI application answering from the policies in ``policies_dir`` (the shipped ones
    when None). A body over ``max_body`` bytes is refused (413). ``store`` shares a loaded set
    (the ``serve`` command passes its own, which SIGHUP reloads)."""
    store = store if store is not None else PolicyStore(policies_dir)

    def headers(loaded: Loaded, policies: list[Policy] | None = None) -> dict[str, str]:
        out = {"Policyrules-Version": __version__, "Policyrules-Generation": str(loaded.generation)}
        if policies:
            out["Policyrules-Policy"] = ",".join(dict.fromkeys(loaded.audit(p) for p in policies))
        return out

    def problem_response(request: Request, problem: Problem) -> Response:
        return Response(dumps(problem.body(request.url.path)), problem.status, media_type=PROBLEM_JSON,
                        headers=headers(store.current))

    async def body_of(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Problem(400, "the Content-Length header is not a number")
            if int(declared) > max_body:
                raise Problem(413, f"the body is {declared} bytes, more than the {max_body} this server takes",
                              [{"field": None, "message": f"the body is over {max_body} bytes",
                                "suggestion": "send fewer contexts per request"}])
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise Problem(413, f"the body is more than the {max_body} bytes this server takes",
                              [{"field": None, "message": f"the body is over {max_body} bytes",
                                "suggestion": "send fewer contexts per request"}])
            chunks.append(chunk)
        data = b"".join(chunks)
        if not data.strip():
            raise Problem(400, "the body is empty: send a context (a JSON object) or a JSON array of them",
                          [{"field": None, "message": "the body is empty", "suggestion": "send a JSON object",
                            "column": 1}])
        try:
            return loads_strict(data)
        except JsonInputError as error:
            detail = f"the body is not JSON (line {error.line}, column {error.column}): {error.message}"
            raise Problem(400, detail, [json_error_object(error)]) from None

    def failure(error: Exception) -> ContextError:
        if isinstance(error, NoPolicyError):
            return ContextError([ContextProblem("(context)", f"no policy: {error}",
                                                "see GET /policies for the regions and periods covered")])
        if isinstance(error, SpaceTooLarge):
            return ContextError([ContextProblem("(context)", f"cannot explain exactly: {error}")])
        assert isinstance(error, ContextError)
        return error

    def refuse(error: Exception) -> Problem:
        found = failure(error)
        detail = ("no policy covers this context" if isinstance(error, NoPolicyError)
                  else "the context cannot be answered: " + "; ".join(p.render() for p in found.problems))
        return Problem(422, detail, [error_object(p) for p in found.problems])

    def answered_by(loaded: Loaded, det: Determination) -> Policy:
        return loaded.policies[det.policy.id]

    async def health(request: Request) -> Response:
        loaded = store.current
        return Response(dumps({"status": "ok", "version": __version__, "generation": loaded.generation,
                               "policies": len(loaded.policies),
                               "worker": os.getpid(), "loaded_at": loaded.loaded_at.isoformat()}),
                        media_type=JSON, headers=headers(loaded))

    async def policies(request: Request) -> Response:
        loaded = store.current
        return Response(dumps([_summary(p) for p in loaded.policies]), media_type=JSON, headers=headers(loaded))

    async def policy(request: Request) -> Response:
        loaded = store.current
        policy_id = request.path_params["policy_id"]
        try:
            found = loaded.policies[policy_id]
        except KeyError as error:
            raise Problem(404, str(error.args[0]), [{"field": "id", "message": str(error.args[0]),
                                                      "suggestion": "GET /policies lists the ids"}]) from None
        return Response(dumps(_summary(found) | {"rules": [_rule(r) for r in found.model.rules]}),
                        media_type=JSON, headers=headers(loaded, [found]))

    async def evaluate(request: Request) -> Response:
        loaded = store.current
        value = await body_of(request)
        flag = request.query_params.get("values", "0")
        if flag not in _FLAGS:
            raise Problem(400, f"values={flag!r}: say values=1 (or true) for values lines, 0 (or false) for answers",
                          [{"field": "values", "message": f"must be one of {', '.join(_FLAGS)}, not {flag!r}",
                            "suggestion": "values=1"}])
        as_values = _FLAGS[flag]
        if isinstance(value, list):
            # the body built as pieces joined once: each answer's bytes (kilobytes) copied once
            pieces: list[bytes] = [b"["]
            add, extend = pieces.append, pieces.extend
            answering: dict[str, None] = {}  # the ids of the answering policies, each once, in order
            evaluate = loaded.policies.evaluate
            for number, context in enumerate(value, 1):
                try:
                    det = evaluate(context)
                except (ContextError, NoPolicyError) as error:
                    add(dumps(unanswered(number, read_id(context), errors_of(failure(error)))))
                    add(b",")
                    continue
                answering[det.policy.id] = None
                if as_values:
                    add(values_json(det, id=det.id))
                else:
                    extend(answer_parts(det))
                add(b",")
            used = [loaded.policies[policy_id] for policy_id in answering]
            pieces[-1:] = [b"]"] if len(pieces) > 1 else [b"[", b"]"]
            return Response(b"".join(pieces), media_type=JSON, headers=headers(loaded, used))
        try:
            det = loaded.policies.evaluate(value)
        except (ContextError, NoPolicyError) as error:
            raise refuse(error) from None
        text = values_json(det, id=det.id) if as_values else answer_json(det)
        return Response(text, media_type=JSON, headers=headers(loaded, [answered_by(loaded, det)]))

    async def explain(request: Request) -> Response:
        loaded = store.current
        value = await body_of(request)
        try:
            found: Explanation = loaded.policies.explain(value)
        except (ContextError, NoPolicyError, SpaceTooLarge) as error:
            raise refuse(error) from None
        det = found.determination
        return Response(dumps(found.to_dict()), media_type=JSON, headers=headers(loaded, [answered_by(loaded, det)]))

    async def reload(request: Request) -> Response:
        result = store.reload()
        if not result.ok:
            raise Problem(409, f"the folder did not load; still serving generation {result.generation}",
                          [{"field": None, "message": p, "suggestion": "fix the file and reload again"}
                           for p in result.problems])
        return Response(dumps({"status": "reloaded", "generation": result.generation}), media_type=JSON,
                        headers=headers(store.current))

    async def openapi(request: Request) -> Response:
        from .openapi import openapi_document

        return Response(dumps(openapi_document(enable_reload_endpoint)), media_type=JSON,
                        headers=headers(store.current))

    async def page(request: Request) -> Response:
        return Response(_API_PAGE.read_bytes(), media_type="text/html; charset=utf-8", headers=headers(store.current))

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = {404: f"no such path: {request.url.path}",
                  405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, exc.detail)
        response = problem_response(request, Problem(exc.status_code, detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem_response(request, Problem(500, "an unexpected error; it is logged on the server"))

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/policies", policies, methods=["GET"]),
        Route("/policies/{policy_id}", policy, methods=["GET"]),
        Route("/evaluate", evaluate, methods=["POST"]),
        Route("/explain", explain, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", page, methods=["GET"]),
    ]
    if enable_reload_endpoint:
        routes.append(Route("/admin/reload", reload, methods=["POST"]))
    handlers: dict[Any, Callable[..., Any]] = {Problem: on_problem, HTTPException: on_http, Exception: on_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.store = store
    return app


def _summary(policy: Policy) -> dict[str, Any]:
    meta = policy.model.meta
    return {"id": meta.id, "document": meta.document, "title": meta.title, "issuer": meta.issuer,
            "regions": list(meta.regions),
            "period": {"effective_from": meta.effective_from.isoformat(),
                       "effective_to": meta.effective_to.isoformat() if meta.effective_to else None},
            "sha256": policy.model.sha256, "source_kind": meta.source_kind,
            "outcomes": list(policy.model.outcomes())}


def _rule(rule: Any) -> dict[str, Any]:
    return {"id": rule.id, "outcome": rule.outcome, "effect": str(rule.effect.value), "label": rule.label,
            "value": list(rule.value) if rule.value is not None else None, "target_ratio": rule.target_ratio,
            "note": rule.note,
            "citations": [{"document": c.document, "clause": c.clause, "quote": c.quote}
                          | ({"note": c.note} if c.note else {}) for c in rule.citations]}
