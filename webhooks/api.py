"""`/api/webhooks/`: endpoints (secret read-only, and null unless the caller may change the
endpoint) and what their page does (send a test, rotate the secret, enable, disable, the
delivery log, redeliver); `/api/deliveries/`: every endpoint's deliveries.

Every call is checked against the endpoint's model permissions, like the pages: `view` to
read (deliveries included), `change` for the actions.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from acme.lib.api_schema import error_response
from webhooks import health, services
from webhooks import recovery as recovery_module
from webhooks.filters import DeliveryFilter
from webhooks.models import Delivery, Recovery, WebhookEndpoint
from webhooks.permissions import EndpointPermissions
from webhooks.serializers import (
    DeliveryResultSerializer,
    RecoverSerializer,
    RecoverySerializer,
    RotateSecretSerializer,
    WebhookEndpointSerializer,
)


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    permission_classes = [EndpointPermissions]
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["enabled"]
    search_fields = ["url", "description"]
    ordering_fields = ["url", "created_at", "updated_at"]

    def list(self, request: Request, *args, **kwargs) -> Response:
        """Endpoints, each with its `health` (last 24 h, last success and failure), read for
        the whole page at once from the health rollups, never from the delivery tables."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        endpoints = (
            list(page) if page is not None else list(self.filter_queryset(self.get_queryset()))
        )
        context = {
            **self.get_serializer_context(),
            "health_by_endpoint": health.for_endpoints([endpoint.pk for endpoint in endpoints]),
        }
        data = self.get_serializer_class()(endpoints, many=True, context=context).data
        if page is None:
            return Response(data)
        return self.get_paginated_response(data)

    def perform_create(self, serializer):
        serializer.instance = services.endpoint_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses={202: DeliveryResultSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None) -> Response:
        """Queue a test delivery; poll `deliveries/{id}` for its status code and time."""
        delivery = services.endpoint_send_test(endpoint=self.get_object())
        return Response(DeliveryResultSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RotateSecretSerializer, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None) -> Response:
        """Replace the signing secret; the answer carries the new one. The replaced secret
        keeps signing next to it for `overlap_hours` (default 24) so receivers can move over
        without rejecting a delivery; `previous_secret_expires_at` says until when."""
        options = RotateSecretSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        endpoint = services.endpoint_rotate_secret(
            endpoint=self.get_object(), overlap_hours=options.validated_data["overlap_hours"]
        )
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk=None) -> Response:
        """Turn the endpoint on; its failure count and the reason it was disabled are cleared."""
        return self._set_enabled(True)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk=None) -> Response:
        """Turn the endpoint off: no new deliveries, waiting ones fail instead of being sent."""
        return self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> Response:
        endpoint = services.endpoint_set_enabled(endpoint=self.get_object(), enabled=enabled)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(
        request=RecoverSerializer,
        responses={
            202: RecoverySerializer,
            409: error_response("Nothing can be recovered now; `detail` says why."),
        },
    )
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk=None) -> Response:
        """Send again, now, every delivery created in [since, until) that has not succeeded
        (failed, or waiting for a retry), oldest first, within the endpoint's rate limit.
        Runs in the background; the answer says how many and links the progress."""
        options = RecoverSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            recovery = recovery_module.recover(
                endpoint=self.get_object(), user=request.user, **options.validated_data
            )
        except recovery_module.RecoverRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(self._recovery_body(recovery), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=RecoverySerializer)
    @action(detail=True, methods=["get"], url_path=r"recoveries/(?P<recovery_id>[0-9]+)")
    def recovery(self, request: Request, pk=None, recovery_id=None) -> Response:
        """A recovery's progress: how many of its deliveries wait, succeeded, failed again."""
        recovery = get_object_or_404(Recovery, pk=recovery_id, endpoint=self.get_object())
        return Response(self._recovery_body(recovery))

    def _recovery_body(self, recovery: Recovery) -> dict:
        recovery.progress = recovery_module.progress(recovery)
        return RecoverySerializer(recovery, context=self.get_serializer_context()).data

    @extend_schema(responses=DeliveryResultSerializer)
    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)")
    def delivery(self, request: Request, pk=None, delivery_id=None) -> Response:
        """One delivery's state and last result (status code, time in ms, error)."""
        delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint=self.get_object())
        return Response(DeliveryResultSerializer(delivery).data)


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Deliveries of every endpoint, newest first; filter by endpoint, status, event type and
    creation time (`created_after` inclusive, `created_before` exclusive, ISO 8601)."""

    permission_classes = [EndpointPermissions]
    queryset = Delivery.objects.all()
    serializer_class = DeliveryResultSerializer
    filterset_class = DeliveryFilter
    search_fields = ["msg_id"]
    ordering_fields = ["created_at", "completed_at"]


class EndpointDeliveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """One endpoint's delivery log (the endpoint page's), and redeliver."""

    permission_classes = [EndpointPermissions]
    serializer_class = DeliveryResultSerializer
    filterset_class = DeliveryFilter
    lookup_url_kwarg = "delivery_id"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Delivery]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return Delivery.objects.none()
        endpoint = get_object_or_404(WebhookEndpoint, pk=self.kwargs["endpoint_id"])
        return Delivery.objects.filter(endpoint=endpoint)

    @extend_schema(
        request=None,
        responses={
            202: DeliveryResultSerializer,
            409: error_response("Still waiting to be sent, or its endpoint is disabled."),
        },
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, endpoint_id=None, delivery_id=None) -> Response:
        """Send a finished delivery again now, with the same `webhook-id` and payload."""
        try:
            delivery = services.delivery_redeliver(delivery=self.get_object())
        except services.RedeliverRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(DeliveryResultSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
