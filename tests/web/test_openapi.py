"""Fuzz the JSON API against its published OpenAPI document, on SQLite and PostgreSQL.

Schemathesis builds the requests from ``/api/openapi.json``: valid ones (which must be
accepted) and invalid ones. Every answer is checked against the document: no undocumented
status, no 5xx, the documented shapes. The document states a safe subset of the ids the
gateway accepts (JSON Schema cannot state its Unicode rules), so an invalid request that the
gateway accepts is not a failure here; tests/ways_in/test_api.py pins the refusals.
(Its pytest plug-in's lazy fixtures need a pytest internal that pytest 9 removed, so the
strategies are driven by Hypothesis here directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from gateway import hosts
from gateway.support import concurrency
from gateway.web import current
from tests.conftest import make_app


@pytest.fixture(params=["v1", "current"])
def api_app(request, simulators, database_url):
    sim = simulators[request.param]
    sim.reset()
    app = make_app(sim, database_url)
    _host, secret = hosts.add(app.extensions["gateway"], "Fuzzed", ["https://lms.example.edu"])
    app.config["FUZZ_SECRET"] = secret
    yield app
    concurrency.wait_idle()
    current.close(app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_every_input_as_documented(api_app, mode):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)
    auth = {"Authorization": f"Bearer {api_app.config['FUZZ_SECRET']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exchange(case):
            case.call_and_validate(headers=auth, excluded_checks=[negative_data_rejection])

        exchange()


def test_the_document_is_served(client):
    body = client.get("/api/openapi.json").get_json()
    assert body["openapi"].startswith("3.1") and "/api/v1/launches" in body["paths"]
