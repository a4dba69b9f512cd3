"""Schemathesis drives /data, /metadata and /health from the published OpenAPI schema:
no answer is a server error, and every answer matches what the schema documents."""

from __future__ import annotations

import schemathesis
from data_source.app import create_app
from data_source.settings import DataSourceSettings
from hypothesis import HealthCheck, given, settings


def test_answers_follow_the_schema():
    # Built inside the test (schemathesis' pytest fixture loader does not run on pytest 9).
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(DataSourceSettings(groups=3))
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.path for op in operations) == ["/data", "/health", "/metadata"]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate()

        answers_as_documented()
