"""Recording a batch of attempts stores every attempt and moves each delivery on exactly as
recording them one by one would: an endpoint's failure count follows its answers in the
order they came (a success resets it), and results for an endpoint deleted meanwhile are
dropped with it."""

import pytest
from django.utils import timezone

from webhooks import claims, recording
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.recording import Attempted, Outcome

pytestmark = pytest.mark.django_db


def _claimed(count: int) -> list[Delivery]:
    for number in range(count):
        emit("product.created", {"id": number})
    return claims.claim_due(100)


def _answered(deliveries, *codes):
    now = timezone.now()
    return [
        Attempted(delivery=d, attempted_at=now, outcome=Outcome(status_code=code, duration_ms=3))
        for d, code in zip(deliveries, codes, strict=True)
    ]


def test_a_recorded_batch_moves_each_endpoint_on_in_the_order_answers_came(make_endpoint):
    first = make_endpoint("http://127.0.0.1:9/first", events=["product.created"])
    second = make_endpoint("http://127.0.0.1:9/second", events=["product.created"])
    deliveries = _claimed(3)
    of_first = [d for d in deliveries if d.endpoint_id == first.id]
    of_second = [d for d in deliveries if d.endpoint_id == second.id]

    # first: fails, succeeds, fails -> 1 in a row; second: fails, fails, succeeds -> 0.
    recording.record(_answered(of_first, 400, 200, 404) + _answered(of_second, 400, 404, 204))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.consecutive_failures == 1
    assert second.consecutive_failures == 0
    assert DeliveryAttempt.objects.count() == 6
    statuses = {d.id: d.status for d in Delivery.objects.all()}
    assert [statuses[d.id] for d in of_first] == ["failed", "succeeded", "failed"]
    assert [statuses[d.id] for d in of_second] == ["failed", "failed", "succeeded"]
    succeeded = Delivery.objects.get(pk=of_second[2].pk)
    assert (succeeded.last_status_code, succeeded.last_duration_ms) == (204, 3)
    assert succeeded.completed_at is not None and succeeded.last_error == ""


def test_a_recorded_batch_drops_the_results_of_an_endpoint_deleted_meanwhile(make_endpoint):
    kept = make_endpoint("http://127.0.0.1:9/kept", events=["product.created"])
    gone = make_endpoint("http://127.0.0.1:9/gone", events=["product.created"])
    deliveries = _claimed(1)
    WebhookEndpoint.objects.filter(pk=gone.pk).delete()

    recording.record(_answered(deliveries, *[200] * len(deliveries)))

    assert list(DeliveryAttempt.objects.values_list("endpoint_id", flat=True)) == [kept.id]
    assert Delivery.objects.get().status == "succeeded"
