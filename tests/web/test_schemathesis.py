"""A standing guard over the whole API: inputs generated from its own OpenAPI document, valid and
invalid, sent in-process as an admin (bearer token) and anonymously, on SQLite and PostgreSQL.
No answer may be a server error, and every answer — errors included — must be what the document
declares (status, media type and body schema)."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import factories as f
from kosh.web.app import create_app
from web.conftest import token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and mode, each sent twice (admin, anonymous): bounded so that both
# databases together take well under a minute; derandomized so that a failure is reproducible.
EXAMPLES = 8
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                   suppress_health_check=list(HealthCheck))


def test_no_server_error_and_every_answer_as_documented(ctx, users):
    app = create_app(ctx)
    with TestClient(app) as client:
        admin = token_for(client, "admin")
        # One person and notification, so that reads and lists have rows to serialise.
        assert client.post("/api/v1/notifications", json=f.notification(), headers=admin).status_code == 201
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case: schemathesis.Case) -> None:
                for headers in (admin, {}):
                    response = case.call(headers=headers)
                    case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                exercise()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters, or free text)
            except Exception as exc:  # gather every operation's failure, then report all
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {exc}")
    assert failures == [], "\n\n".join(failures)
