"""`/api/webhooks/`: endpoints (secret read-only) and a `test` action the worker sends."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from acme.lib.permissions import ModelPermissions
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.serializers import DeliveryResultSerializer, WebhookEndpointSerializer


class EndpointPermissions(ModelPermissions):
    """Model permissions (`view` to read: the secret is in every answer), `change` to send a
    test."""

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) == "test":
            return bool(
                request.user
                and request.user.is_authenticated
                and request.user.has_perm("webhooks.change_webhookendpoint")
            )
        return super().has_permission(request, view)


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    permission_classes = [EndpointPermissions]
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["enabled"]
    search_fields = ["url", "description"]
    ordering_fields = ["url", "created_at", "updated_at"]

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

    @extend_schema(responses=DeliveryResultSerializer)
    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)")
    def delivery(self, request: Request, pk=None, delivery_id=None) -> Response:
        """One delivery's state and last result (status code, time in ms, error)."""
        delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint=self.get_object())
        return Response(DeliveryResultSerializer(delivery).data)
