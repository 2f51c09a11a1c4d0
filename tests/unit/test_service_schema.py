"""schemathesis against the service's own OpenAPI document: no 5xx and no schema violation
for any generated request."""

from __future__ import annotations

import schemathesis  # a dev dependency: its absence is a failure, not a skip
from hypothesis import HealthCheck, settings
from schemathesis import checks

from rulebook.apps.service import create_app


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx, value):
    """The batch body is JSON Lines: generated text is sent as it is."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(str(value), "utf-8")


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_service_keeps_its_openapi_contract(case):
    # A snapshot can match the JSON Schema and still be refused (steps numbered 1, 2, 3…,
    # approvals after applications): a 422 for schema-valid data is right here. Every
    # other check holds — no 5xx, documented status codes, content types and bodies.
    case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])
