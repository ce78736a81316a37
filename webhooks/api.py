from rest_framework import viewsets


class WebhookEndpointViewSet(viewsets.ViewSet):
    pass
