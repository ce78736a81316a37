"""Catalogue pages: validate input, call a service, render or redirect."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from acme.lib.pages import PAGE_SIZES, page_size, safe_next_url, wants_json
from products import services
from products.counting import CataloguePaginator
from products.export import export_lines
from products.filters import ORDERING_LABELS, ProductFilter
from products.forms import DeleteAllForm, ProductForm
from products.models import Product
from products.table_rows import RowContext, render_rows

SORTABLE_COLUMNS = {"name": "name", "sku": "sku", "updated": "updated_at"}


def _back(request: HttpRequest, fallback: str = "products:list"):
    """Redirect to the `next` field (the list with its filters) if it is a local URL."""
    target = request.POST.get("next") or request.GET.get("next")
    return redirect(safe_next_url(request, target, fallback))


def _sort_headers(current: str) -> list[dict]:
    """Column headers: clicking sorts ascending, clicking the sorted column reverses it."""
    headers = []
    for label, param in (("Name", "name"), ("SKU", "sku"), ("Updated", "updated_at")):
        if current == param:
            direction, next_param = "ascending", f"-{param}"
        elif current == f"-{param}":
            direction, next_param = "descending", param
        else:
            direction, next_param = None, param
        headers.append({"label": label, "param": next_param, "direction": direction})
    return headers


@require_GET
@permission_required("products.view_product", raise_exception=True)
def product_list(request: HttpRequest) -> HttpResponse:
    product_filter = ProductFilter(request.GET, queryset=Product.objects.all())
    queryset = product_filter.qs
    paginator = CataloguePaginator(queryset, page_size(request))
    page = paginator.get_page(request.GET.get("page"))
    ordering = request.GET.get("ordering", "name")
    filters = {
        key: request.GET.get(key, "") for key in ("search", "sku", "name", "description", "active")
    }
    here = request.get_full_path()
    user = request.user
    can = {
        action: user.has_perm(f"products.{action}_product")
        for action in ("add", "change", "delete")
    }
    row_context = RowContext(
        here=here,
        here_encoded=quote(here, safe=""),
        csrf_token=get_token(request),
        can_change=can["change"],
        can_delete=can["delete"],
    )
    return render(
        request,
        "products/list.html",
        {
            "page_obj": page,
            "rows_html": render_rows(page.object_list, row_context),
            "here": here,
            "here_encoded": row_context.here_encoded,
            "can": can,
            "paginator": paginator,
            "count_is_exact": paginator.count_is_exact,
            "filters": filters,
            "filtered": any(filters.values()),
            "filter_errors": product_filter.errors,
            "ordering": ordering,
            "orderings": ORDERING_LABELS,
            "sort_headers": _sort_headers(ordering),
            "page_size": paginator.per_page,
            "page_sizes": PAGE_SIZES,
            "delete_all_form": DeleteAllForm(),
            # A delete-all can be reverted while its change set is kept (0: forever).
            "restore_days": settings.IMPORT_FILE_RETENTION_DAYS,
        },
    )


def _save_form(request: HttpRequest, form: ProductForm, product: Product | None):
    """Call the service; a domain error (e.g. a concurrent duplicate SKU) becomes a field error."""
    data = form.cleaned_data
    try:
        if product is None:
            return services.product_create(**data)
        return services.product_update(product=product, **data)
    except services.ProductError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


@require_http_methods(["GET", "POST"])
@permission_required("products.add_product", raise_exception=True)
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = _save_form(request, form, None)
        if product is not None:
            messages.success(request, f"Product {product.sku} created.")
            return _back(request)
    status = 400 if form.errors else 200
    return render(
        request,
        "products/form.html",
        {"form": form, "product": None, "next": request.GET.get("next", "")},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("products.change_product", raise_exception=True)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    initial = {field: getattr(product, field) for field in services.EDITABLE_FIELDS}
    form = ProductForm(request.POST or None, initial=initial, product=product)
    if request.method == "POST" and form.is_valid() and _save_form(request, form, product):
        messages.success(request, f"Product {product.sku} saved.")
        return _back(request)
    status = 400 if form.errors else 200
    return render(
        request,
        "products/form.html",
        {"form": form, "product": product, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
@permission_required("products.change_product", raise_exception=True)
def product_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    active = request.POST.get("active") == "true"
    try:
        services.product_set_active(product=product, active=active)
    except services.CatalogueBusy as error:
        return _busy(request, error)
    text = f"{product.sku} is now {'active' if active else 'inactive'}."
    if wants_json(request):
        return JsonResponse({"id": product.pk, "active": product.active, "message": text})
    messages.success(request, text)
    return _back(request)


@require_http_methods(["GET", "POST"])
@permission_required("products.delete_product", raise_exception=True)
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: a confirmation page (the no-JS path; the list opens a dialog instead). POST: delete."""
    product = get_object_or_404(Product, pk=pk)
    if request.method == "GET":
        return render(
            request,
            "products/confirm_delete.html",
            {"product": product, "next": request.GET.get("next", "")},
        )
    sku = product.sku
    try:
        services.product_delete(product=product)
    except services.CatalogueBusy as error:
        return _busy(request, error)
    messages.success(request, f"Product {sku} deleted.")
    return _back(request)


def _busy(request: HttpRequest, error: services.CatalogueBusy) -> HttpResponse:
    """A write that gave up waiting for the catalogue (an import is merging)."""
    if wants_json(request):
        return JsonResponse({"message": error.message}, status=409)
    messages.error(request, error.message)
    return _back(request)


@require_POST
@permission_required("products.delete_product", raise_exception=True)
def products_delete_all(request: HttpRequest) -> HttpResponse:
    form = DeleteAllForm(request.POST, expected_count=_optional_int(request.POST.get("count")))
    if not form.is_valid():
        error = str(form.errors["confirm"][0])
        return _delete_all_answer(request, ok=False, text=error, status=400)
    try:
        deleted = services.products_delete_all(user=request.user)
    except services.ProductError as error:
        return _delete_all_answer(request, ok=False, text=error.message, status=409)
    return _delete_all_answer(
        request,
        ok=True,
        text=f"Deleted {deleted:,} product{'' if deleted == 1 else 's'}. Restore them from "
        "the import history (Delete all → Restore deleted products).",
        deleted=deleted,
    )


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _delete_all_answer(request, *, ok: bool, text: str, status: int = 200, deleted: int = 0):
    if wants_json(request):
        return JsonResponse({"ok": ok, "message": text, "deleted": deleted}, status=status)
    (messages.success if ok else messages.error)(request, text)
    return redirect("products:list")


@require_GET
@permission_required("products.view_product", raise_exception=True)
def products_export(request: HttpRequest) -> StreamingHttpResponse:
    queryset = ProductFilter(request.GET, queryset=Product.objects.all()).qs
    response = StreamingHttpResponse(export_lines(queryset), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="products.csv"'
    return response
