"""The HTTP service (issue 19, ``policyrules serve``, docs/http.md): an ASGI application on
Starlette for hospital systems written in any language. The ``serve`` extra installs it.

    from policyrules.service import create_app
    app = create_app("policies/")          # any ASGI server: uvicorn 'module:app'

The app answers ``/health``, ``/policies``, ``/policies/{id}``, ``/evaluate``, ``/explain`` and
``/openapi.json``; errors are ``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

from .app import create_app
from .state import Loaded, PolicyStore

__all__ = ["Loaded", "PolicyStore", "create_app"]
