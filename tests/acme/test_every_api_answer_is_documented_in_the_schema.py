"""A schema-driven client (schemathesis) calls every API operation with generated requests,
valid and invalid, and checks that each answer's status code and body are the ones the live
OpenAPI schema documents, and that none is a server error.

The requests go through the WSGI application in this test's transaction (rolled back at the
end), so destructive operations such as delete-all run safely and nothing reaches the Celery
queue (work is only sent after a commit).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from acme.wsgi import application
from imports import event_stream
from imports import services as import_services
from imports.models import ImportJob
from products import services as product_services
from webhooks import services as webhook_services

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CONFIG = SchemathesisConfig.from_dict(
    {"seed": 12, "phases": {"coverage": {"enabled": False}}, "generation": {"max-examples": 15}}
)


@pytest.fixture(autouse=True)
def _requests_share_the_test_transaction():
    """Django closes a connection whose autocommit is off at each request's start and end, as
    the test's transaction is; the test client does not, and neither may these requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _streams_end_at_once(monkeypatch):
    """An import's event stream lasts until the import ends, which none does here (no worker):
    the client reads whole answers, so streams end after their first line."""
    monkeypatch.setattr(event_stream, "MAX_SECONDS", 0)


@pytest.fixture
def token(staff_user) -> str:
    return Token.objects.create(user=staff_user).key


# Ids of rows that exist during the running test, by collection (/api/<collection>/...).
EXISTING: dict[str, int] = {}
# Path parameters that name a row of another collection than the path's own.
PARAMETER_COLLECTIONS = {"endpoint_id": "webhooks", "delivery_id": "deliveries"}


@pytest.fixture
def existing(staff_user):
    """One row of each collection, so generated ids sometimes name one that exists."""
    product = product_services.product_create(sku="SCHEMA-1", name="Schema lamp")
    job = import_services.import_job_create(
        uploaded_file=SimpleUploadedFile("schema.csv", b"sku,name\nA-1,Lamp\n", "text/csv"),
        options={},
        user=staff_user,
        source=ImportJob.Source.API,
    )
    endpoint = webhook_services.endpoint_create(
        url="https://example.com/hooks", events=["product.created"]
    )
    delivery = webhook_services.endpoint_send_test(endpoint=endpoint)
    EXISTING.update(
        products=product.pk, imports=job.pk, webhooks=endpoint.pk, deliveries=delivery.pk
    )
    yield
    EXISTING.clear()


# The schema the site serves at /api/schema/ (same generator, no request needed), loaded at
# collection so each operation is its own test.
schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the cases name existing rows instead of generated ids."""
    if not path_parameters:
        return st.just(path_parameters)
    own_collection = context.operation.path.split("/")[2]
    known = {
        name: EXISTING.get(PARAMETER_COLLECTIONS.get(name, own_collection), value)
        for name, value in path_parameters.items()
    }
    return st.sampled_from([path_parameters, known])


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_documented(case, token, existing):
    case.call_and_validate(
        app=application, headers={"Authorization": f"Token {token}"}, checks=CHECKS
    )
