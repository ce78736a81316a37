from rest_framework import viewsets


class ImportJobViewSet(viewsets.ViewSet):
    pass
