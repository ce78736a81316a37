"""Webhook pages: endpoints list, add/edit/delete, the endpoint page (secret, test, delivery log).

Views validate input and call a service; the worker sends (tests included), the page polls
`delivery_status` for the result.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from acme.lib.pages import PAGE_SIZES, page_size, safe_next_url, wants_json
from webhooks import alerts, health, permissions, recovery, services
from webhooks.forms import EndpointForm, RecoverForm, RotateSecretForm
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

# The log's status filter: what a person asks, mapped to delivery states.
STATUS_FILTERS: dict[str, tuple[str, list[str]]] = {
    "waiting": (
        "Waiting",
        [status for status in Delivery.Status.values if status not in Delivery.FINAL_STATUSES],
    ),
    "succeeded": ("Succeeded", [Delivery.Status.SUCCEEDED]),
    "failed": ("Failed", [Delivery.Status.FAILED]),
}


def delivery_result(delivery: Delivery) -> dict:
    """What the page shows of a delivery: never the receiver's response body."""
    return {
        "id": delivery.id,
        "status": delivery.status,
        "status_label": delivery.get_status_display(),
        "final": delivery.is_final,
        "status_code": delivery.last_status_code,
        "duration_ms": delivery.last_duration_ms,
        "error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at.isoformat()
        if delivery.next_attempt_at
        else None,
    }


@require_GET
@permission_required(permissions.VIEW, raise_exception=True)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(WebhookEndpoint.objects.all(), page_size(request)).get_page(
        request.GET.get("page")
    )
    # Health from the rollups only (webhooks.health), never from the delivery tables.
    found = health.for_endpoints([endpoint.pk for endpoint in page.object_list])
    rows = [(endpoint, found.get(endpoint.pk, health.Health())) for endpoint in page.object_list]
    return render(
        request,
        "webhooks/list.html",
        {"page_obj": page, "rows": rows, "page_sizes": PAGE_SIZES,
         "page_size": page_size(request), "notices": alerts.notices(),
         "health_window_hours": int(health.WINDOW.total_seconds() // 3600)},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@permission_required(permissions.ADD, raise_exception=True)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        endpoint = services.endpoint_create(**form.cleaned_data)
        messages.success(request, f"Endpoint {endpoint.url} added. Its signing secret is below.")
        return redirect("webhooks:detail", pk=endpoint.pk)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": None})


@require_http_methods(["GET", "POST"])
@permission_required(permissions.CHANGE, raise_exception=True)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        # The form must not save the model itself: the service owns the write.
        changes = {name: form.cleaned_data[name] for name in EndpointForm.Meta.fields}
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        services.endpoint_update(endpoint=endpoint, **changes)
        messages.success(request, "Endpoint saved.")
        return redirect("webhooks:detail", pk=endpoint.pk)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": endpoint})


@require_GET
@permission_required(permissions.VIEW, raise_exception=True)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    status = request.GET.get("status", "")
    if status in STATUS_FILTERS:
        deliveries = deliveries.filter(status__in=STATUS_FILTERS[status][1])
    deliveries = deliveries.prefetch_related(
        Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("attempted_at", "id"))
    )
    page = Paginator(deliveries, page_size(request)).get_page(request.GET.get("page"))
    last_test = Delivery.objects.filter(endpoint=endpoint, is_test=True).first()
    return render(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "page_obj": page,
            "deliveries": page.object_list,
            "status": status,
            "status_filters": [(key, label) for key, (label, _) in STATUS_FILTERS.items()],
            "page_size": page_size(request),
            "page_sizes": PAGE_SIZES,
            "last_test": last_test,
            "rotate_form": RotateSecretForm(),
            "recover_form": RecoverForm(
                initial={"since": timezone.localtime() - recovery.DEFAULT_WINDOW}
            ),
            "delivery_count": Delivery.objects.filter(endpoint=endpoint).count(),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(permissions.DELETE, raise_exception=True)
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        url = endpoint.url
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, f"Endpoint {url} deleted.")
        return redirect("webhooks:list")
    return render(
        request,
        "webhooks/confirm_delete.html",
        {"endpoint": endpoint, "delivery_count": endpoint.deliveries.count()},
    )


@require_POST
@permission_required(permissions.CHANGE, raise_exception=True)
def endpoint_set_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    services.endpoint_set_enabled(endpoint=endpoint, enabled=enabled)
    messages.success(request, f"{endpoint.url} {'enabled' if enabled else 'disabled'}.")
    return redirect(safe_next_url(request, request.POST.get("next", ""), reverse("webhooks:list")))


@require_POST
@permission_required(permissions.CHANGE, raise_exception=True)
def endpoint_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = RotateSecretForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("overlap_hours", []):
            messages.error(request, f"Secret not rotated: {error} (hours to keep the old one)")
        return redirect("webhooks:detail", pk=endpoint.pk)
    endpoint = services.endpoint_rotate_secret(
        endpoint=endpoint, overlap_hours=form.cleaned_data["overlap_hours"]
    )
    if endpoint.previous_secret_expires_at:
        until = timezone.localtime(endpoint.previous_secret_expires_at)
        messages.success(
            request,
            f"New secret generated. The previous one also signs every delivery until "
            f"{until:%Y-%m-%d %H:%M}: update the receiver before then.",
        )
    else:
        messages.success(
            request, "New secret generated. Update the receiver: the old one no longer verifies."
        )
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_POST
@permission_required(permissions.CHANGE, raise_exception=True)
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    delivery = services.endpoint_send_test(endpoint=endpoint)
    if wants_json(request):
        result = delivery_result(delivery)
        result["status_url"] = reverse("webhooks:delivery-status", args=[delivery.pk])
        return JsonResponse(result, status=202)
    messages.success(request, "Test delivery queued; its result appears below.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_GET
@permission_required(permissions.VIEW, raise_exception=True)
def delivery_status(request: HttpRequest, pk: int) -> JsonResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    return JsonResponse(delivery_result(delivery))


@require_POST
@permission_required(permissions.CHANGE, raise_exception=True)
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.delivery_redeliver(delivery=delivery)
    except services.RedeliverRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Delivery {delivery.msg_id} queued again.")
    return redirect(
        safe_next_url(
            request,
            request.POST.get("next", ""),
            reverse("webhooks:detail", args=[delivery.endpoint_id]),
        )
    )


@require_POST
@permission_required(permissions.CHANGE, raise_exception=True)
def endpoint_recover(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = RecoverForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"Nothing recovered: {field}: {error}")
        return redirect("webhooks:detail", pk=endpoint.pk)
    try:
        done = recovery.recover(endpoint=endpoint, user=request.user, **form.cleaned_data)
    except recovery.RecoverRefused as refused:
        messages.error(request, str(refused))
        return redirect("webhooks:detail", pk=endpoint.pk)
    messages.success(
        request,
        f"{done.count} deliver{'y' if done.count == 1 else 'ies'} will be sent again, oldest "
        "first, within the endpoint's rate limit; follow them in the log below.",
    )
    return redirect(reverse("webhooks:detail", args=[endpoint.pk]) + "?status=waiting#log")
