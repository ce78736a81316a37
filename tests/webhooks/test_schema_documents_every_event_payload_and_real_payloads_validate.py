"""The OpenAPI schema describes every event's payload (OpenAPI 3.1 `webhooks`), built from the
serializers the payload builders use; real emitted payloads validate against it."""

import json

import jsonschema
import pytest
import yaml
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from imports import execution
from imports import services as import_services
from imports.models import ImportJob
from products import services as product_services
from webhooks import alerts
from webhooks import services as webhook_services
from webhooks.delivery import body_of
from webhooks.models import TEST_EVENT_TYPE, Delivery, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(staff_client):
    return yaml.safe_load(staff_client.get("/api/schema/").content)


def payload_schema(schema: dict, event_type: str) -> dict:
    operation = schema["webhooks"][event_type]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    # Resolve $refs against the whole document (3.1 schemas are JSON Schema 2020-12).
    return {**body, "components": schema["components"]}


def validate(schema: dict, delivery: Delivery) -> None:
    sent = json.loads(body_of(delivery.payload))
    jsonschema.Draft202012Validator(
        payload_schema(schema, delivery.event_type),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    ).validate(sent)


def test_every_event_type_has_a_documented_payload(schema):
    assert schema["openapi"].startswith("3.1")
    documented = set(schema["webhooks"])
    assert set(EventType.values) | {TEST_EVENT_TYPE} <= documented
    for event_type in documented:
        operation = schema["webhooks"][event_type]["post"]
        for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            assert header in operation["description"], event_type
        body = payload_schema(schema, event_type)
        name = body["$ref"].rsplit("/", 1)[1]
        properties = schema["components"]["schemas"][name]["properties"]
        assert set(properties) == {"type", "timestamp", "data"}, event_type
        assert properties["type"]["enum"] == [event_type]


def test_real_payloads_of_every_event_type_validate(schema, make_endpoint, tmp_path):
    endpoint = make_endpoint("http://127.0.0.1:9/hook")
    product = product_services.product_create(sku="SKU-1", name="Lamp", description="")
    product_services.product_update(product=product, name="Desk lamp")
    product_services.product_delete(product=product)
    product_services.product_create(sku="SKU-2", name="Chair", description="")
    product_services.products_delete_all()
    webhook_services.endpoint_send_test(endpoint=endpoint)

    user = User.objects.create_user("importer")
    job = import_services.import_job_create(
        uploaded_file=SimpleUploadedFile("p.csv", b"sku,name,description\nA,Apple,red\n"),
        options={},
        user=user,
        source=ImportJob.Source.API,
    )
    execution.execute(import_services.import_job_claim(job_id=job.pk))  # import.completed
    revert = ImportJob.objects.create(kind=ImportJob.Kind.REVERT, reverts=job,
                                      original_name=job.original_name, size=0)  # fmt: skip
    execution.execute(import_services.import_job_claim(job_id=revert.pk))  # import.reverted
    failing = import_services.import_job_create(
        uploaded_file=SimpleUploadedFile("bad.csv", b"name\nno sku column\n"),
        options={},
        user=user,
        source=ImportJob.Source.API,
    )
    execution.execute(import_services.import_job_claim(job_id=failing.pk))  # import.failed

    # The operational events, raised the way the worker raises them.
    other = make_endpoint("http://127.0.0.1:9/other", events=["product.created"])
    alerts.disable_endpoint(other.pk, reason="The receiver answered 410 Gone.")
    given_up = Delivery.objects.filter(endpoint=endpoint, event_type="product.created").first()
    given_up.status, given_up.completed_at = Delivery.Status.FAILED, timezone.now()
    given_up.save()
    alerts.delivery_exhausted(given_up, error="HTTP 503")

    seen = set()
    for delivery in Delivery.objects.filter(endpoint=endpoint):
        validate(schema, delivery)
        seen.add(delivery.event_type)
    assert set(EventType.values) | {TEST_EVENT_TYPE} <= seen

    # The schema really constrains the payload: a wrong field type is refused.
    delivery = Delivery.objects.filter(event_type="product.created").first()
    delivery.payload["data"]["id"] = "not a number"
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, delivery)
