from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from acme.lib.api_schema import error_response
from acme.lib.pagination import (
    IdCursorPagination,
    PageNumberOrCursorPagination,
    PageNumberPagination,
)
from acme.lib.permissions import ModelPermissions
from products import services
from products.counting import EXACT_COUNT_LIMIT, CataloguePaginator
from products.filters import ProductFilter
from products.models import Product
from products.serializers import (
    DeleteAllResultSerializer,
    DeleteAllSerializer,
    ProductSerializer,
    raise_as_validation_error,
)

CATALOGUE_BUSY = error_response(
    "The catalogue is busy (an import is being merged); try again in a moment."
)


class CataloguePageNumbers(PageNumberPagination):
    """DRF's page-number shape; `count` is exact up to counting.EXACT_COUNT_LIMIT matches and
    an estimate above."""

    django_paginator_class = CataloguePaginator


class CatalogueCursorPages(IdCursorPagination):
    """Keyset pages of rows as dicts: a full read serializes 500,000 products, and a model
    instance per row was ~15% of the API's CPU time (ProductSerializer reads dicts too)."""

    def paginate_queryset(self, queryset, request, view=None):
        return super().paginate_queryset(
            queryset.values(*ProductSerializer.Meta.fields), request, view
        )


class CataloguePagination(PageNumberOrCursorPagination):
    """Page numbers (CataloguePageNumbers), or keyset pages in id order with `cursor`."""

    page_number_class = CataloguePageNumbers
    cursor_class = CatalogueCursorPages


class CanDeleteProducts(permissions.BasePermission):
    message = "You need the permission to delete products."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("products.delete_product")


@extend_schema_view(
    list=extend_schema(
        description=(
            f"Products, filtered and paginated. `count` is exact up to {EXACT_COUNT_LIMIT:,} "
            "matches and PostgreSQL's estimate above that."
        ),
        parameters=[
            OpenApiParameter(
                "active",
                str,
                enum=["true", "false"],
                description="true: active products only; false: inactive only.",
            )
        ],
    ),
    create=extend_schema(responses={201: ProductSerializer, 409: CATALOGUE_BUSY}),
    update=extend_schema(responses={200: ProductSerializer, 409: CATALOGUE_BUSY}),
    partial_update=extend_schema(responses={200: ProductSerializer, 409: CATALOGUE_BUSY}),
    destroy=extend_schema(responses={204: None, 409: CATALOGUE_BUSY}),
)
class ProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = CataloguePagination
    # ProductFilter does search and ordering too (lower(...) lookups the indexes serve), so
    # DRF's SearchFilter/OrderingFilter (UPPER(...) LIKE, unindexed sorts) are left out.
    filter_backends = [DjangoFilterBackend]
    permission_classes = [ModelPermissions]
    filterset_class = ProductFilter

    def perform_destroy(self, instance: Product) -> None:
        try:
            services.product_delete(product=instance)
        except services.ProductError as error:
            raise_as_validation_error(error)

    @extend_schema(
        request=DeleteAllSerializer,
        responses={
            200: DeleteAllResultSerializer,
            409: CATALOGUE_BUSY,
        },
        filters=False,
        description=(
            "Delete every product (in TRUNCATE time) and emit one `products.deleted_all` webhook "
            'event with the count. Requires `{"confirm": true}` and the delete permission. '
            "The import history records it as a job of kind `delete_all`; reverting that job "
            "(`POST /api/imports/{id}/revert/`) puts the products back with their ids, within "
            "IMPORT_FILE_RETENTION_DAYS."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="delete-all",
        url_name="delete-all",
        permission_classes=[permissions.IsAuthenticated, CanDeleteProducts],
        serializer_class=DeleteAllSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def delete_all(self, request):
        serializer = DeleteAllSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            deleted = services.products_delete_all(user=request.user)
        except services.ProductError as error:
            raise_as_validation_error(error)
        return Response(DeleteAllResultSerializer({"deleted": deleted}).data)
