"""Who may do what with webhooks: one rule for the pages, the API and the admin.

Everything is checked against WebhookEndpoint's model permissions (a delivery is part of its
endpoint's page): `view` to read endpoints and deliveries, `add` to create an endpoint,
`delete` to delete one, and `change` to edit it and for every action that changes what it
sends (send a test, rotate, enable, disable, recover, redeliver). Seeing the signing secret
also needs `change` (whoever holds it can forge deliveries).
"""

from __future__ import annotations

from acme.lib.permissions import ModelPermissions
from webhooks.models import WebhookEndpoint

VIEW = "webhooks.view_webhookendpoint"
ADD = "webhooks.add_webhookendpoint"
CHANGE = "webhooks.change_webhookendpoint"
DELETE = "webhooks.delete_webhookendpoint"
# API actions that change an endpoint (DRF would map their POST to `add`).
CHANGE_ACTIONS = frozenset({"test", "rotate_secret", "enable", "disable", "redeliver", "recover"})


class EndpointPermissions(ModelPermissions):
    """WebhookEndpoint's model permissions for every webhook call; CHANGE_ACTIONS need CHANGE."""

    def has_permission(self, request, view) -> bool:
        # Checked against WebhookEndpoint alone, never the view's queryset: reading that
        # looks the endpoint up, and a caller without permission would get 404 before 403.
        if not (request.user and request.user.is_authenticated):
            return False
        if getattr(view, "action", None) in CHANGE_ACTIONS:
            required = [CHANGE]
        else:
            required = self.get_required_permissions(request.method, WebhookEndpoint)
        return request.user.has_perms(required)
