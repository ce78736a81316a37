"""Addresses that carry an IPv4 address inside IPv6 (6to4, Teredo, NAT64, IPv4-mapped or
-compatible) and deprecated ranges that Python's `is_global` still calls global (the 6to4
relay anycast 192.88.99.0/24, IPv6 site-local fec0::/10) are refused when an endpoint is
saved and again when a delivery connects."""

import pytest

from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.targets import TargetRefused

pytestmark = pytest.mark.django_db

REFUSED = {
    "http://[2002:7f00:1::1]/hook": "6to4",  # 6to4 around 127.0.0.1
    "http://[2002:5db8:d70e::1]/hook": "6to4",  # 6to4 around a public address: relays
    "http://192.88.99.1/hook": "6to4 relay anycast",
    "http://[fec0::1]/hook": "site-local",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook": "Teredo",
    "http://[64:ff9b::7f00:1]/hook": "loopback",  # NAT64 around 127.0.0.1
    "http://[64:ff9b::a00:1]/hook": "private",  # NAT64 around 10.0.0.1
    "http://[64:ff9b:1::5db8:d70e]/hook": "reserved",  # local-use NAT64 prefix
    "http://[::ffff:169.254.169.254]/hook": "link-local",  # IPv4-mapped
    "http://[::127.0.0.1]/hook": "reserved",  # IPv4-compatible (deprecated)
}


@pytest.fixture(autouse=True)
def guard_on(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(("url", "reason"), REFUSED.items())
def test_the_range_is_refused_when_an_endpoint_is_saved(url, reason):
    with pytest.raises(TargetRefused, match=f"a {reason} address"):
        endpoint_create(url=url, events=["product.created"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(("url", "reason"), REFUSED.items())
def test_the_range_is_refused_when_a_delivery_connects(url, reason):
    # Saved past the form (or under another policy): the send-time check refuses it.
    endpoint = WebhookEndpoint.objects.create(url=url, events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get(endpoint=endpoint)

    delivery_module.send(delivery.id)

    delivery.refresh_from_db()
    (attempt,) = delivery.attempts.all()
    assert attempt.error.startswith("Refused: "), attempt.error
    assert f"a {reason} address" in attempt.error
    assert delivery.status == Delivery.Status.FAILED


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::5db8:d70e]/hook",  # NAT64 around a public IPv4 address
        "https://[::ffff:93.184.215.14]/hook",  # IPv4-mapped public address
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook",  # plain public IPv6
    ],
)
def test_public_addresses_in_ipv6_forms_are_accepted(url):
    endpoint_create(url=url, events=["product.created"])
    assert WebhookEndpoint.objects.count() == 1
