import pytest
from django.utils import timezone

from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.targets import TargetRefused

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:8000/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one integer
    "http://0x7f000001/hook",
    "http://0177.0.0.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://224.0.0.1/hook",  # multicast
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://192.168.1.10/hook",
]


@pytest.fixture(autouse=True)
def guard_on(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize("url", REFUSED)
def test_ssrf_guard_refuses_private_targets_when_saved(url):
    with pytest.raises(TargetRefused, match="only sent to public addresses"):
        endpoint_create(url=url, events=["product.created"])
    assert not WebhookEndpoint.objects.exists()


def test_ssrf_guard_accepts_public_addresses():
    endpoint_create(url="https://93.184.215.14/hook", events=["product.created"])
    assert WebhookEndpoint.objects.count() == 1


def test_ssrf_guard_refuses_at_send_time_the_address_actually_connected_to(receiver, settings):
    # Saved while its name pointed elsewhere (DNS rebinding, or saved with the guard lifted):
    # the send-time check resolves again and refuses before any byte is sent.
    endpoint = WebhookEndpoint.objects.create(
        url=f"http://localhost:{receiver.port}/hook", events=["product.created"]
    )
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get(endpoint=endpoint)

    delivery_module.send(delivery.id)

    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.status == Delivery.Status.FAILED  # refused targets are not retried
    (attempt,) = delivery.attempts.all()
    assert attempt.error.startswith("Refused: localhost resolves to")
    assert "loopback" in attempt.error

    # The same delivery goes through once private targets are allowed: the guard was the cause.
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    Delivery.objects.filter(pk=delivery.pk).update(status="queued", next_attempt_at=timezone.now())
    delivery_module.send(delivery.id)
    assert len(receiver.requests) == 1
