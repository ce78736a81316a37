from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import admin, messages
from django.utils import timezone

from webhooks import alerts, permissions, recovery, services
from webhooks.endpoint_locks import DeliveryGone, EndpointGone
from webhooks.forms import EndpointForm
from webhooks.models import (
    ROTATION_OVERLAP_HOURS_DEFAULT,
    Delivery,
    DeliveryAttempt,
    WebhookEndpoint,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "description",
        "enabled",
        "rate_limit",
        "consecutive_failures",
        "disabled_at",
        "updated_at",
    ]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "last_exhausted_at",
        "last_exhausted_error",
        "created_at",
        "updated_at",
    ]
    fields = ["url", "description", "events", "enabled", "rate_limit", *readonly_fields]
    actions = ["send_test", "rotate_secret", "rotate_secret_now", "recover_last_day"]
    # The pages' form: event checkboxes and the SSRF guard on the URL.
    form = EndpointForm

    def get_fields(self, request, obj=None):
        # The signing secret only for those who may change the endpoint (it forges deliveries).
        fields = super().get_fields(request, obj)
        if request.user.has_perm(permissions.CHANGE):
            return fields
        return [field for field in fields if field != "secret"]

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in ("url", "description", "events", "enabled", "rate_limit")
        }
        if change:
            services.endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=obj.pk), **data)
        else:
            obj.pk = services.endpoint_create(**data).pk

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def get_deleted_objects(self, objs, request):
        # Django's confirmation lists every related row and asks for the permission to delete
        # each kind: an endpoint's delivery log (millions of rows) goes with it
        # (services.endpoint_delete), and deliveries are never deleted on their own.
        endpoints = list(objs)
        deliveries = Delivery.objects.filter(endpoint__in=endpoints).count()
        counts = {
            WebhookEndpoint._meta.verbose_name_plural: len(endpoints),
            Delivery._meta.verbose_name_plural: deliveries,
        }
        return [str(endpoint) for endpoint in endpoints], counts, set(), []

    def delete_queryset(self, request, queryset):
        # "Delete selected" one endpoint at a time through the service, which locks the
        # endpoint before its deliveries (webhooks.endpoint_locks); the default queryset delete
        # removed the deliveries first: a delivery emitted meanwhile failed the whole delete,
        # and a worker recording attempts for the endpoint could deadlock against it.
        for endpoint in queryset:
            with self._skip_if_gone(request):
                services.endpoint_delete(endpoint=endpoint)

    def changelist_view(self, request, extra_context=None):
        # The webhooks page's notices (webhooks.alerts): endpoints the system disabled,
        # deliveries that ran out of retries.
        if request.method == "GET":
            for notice in alerts.notices():
                self.message_user(
                    request, f"{notice.at:%Y-%m-%d %H:%M} · {notice.text}", messages.WARNING
                )
        return super().changelist_view(request, extra_context)

    # Actions change endpoints: the `change` permission, as on the pages and the API.
    @admin.action(description="Send a test delivery", permissions=["change"])
    def send_test(self, request, queryset):
        count = 0
        for endpoint in queryset:
            with self._skip_if_gone(request):
                services.endpoint_send_test(endpoint=endpoint)
                count += 1
        self.message_user(request, f"Queued {count} test deliveries.", messages.SUCCESS)

    @admin.action(
        description=f"Rotate the signing secret (the old one also signs for "
        f"{ROTATION_OVERLAP_HOURS_DEFAULT} h)",
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        self._rotate(request, queryset, overlap_hours=ROTATION_OVERLAP_HOURS_DEFAULT)

    @admin.action(
        description="Rotate the signing secret now (the old one stops at once)",
        permissions=["change"],
    )
    def rotate_secret_now(self, request, queryset):
        self._rotate(request, queryset, overlap_hours=0)

    @admin.action(
        description="Recover: send again the last day's deliveries that did not succeed",
        permissions=["change"],
    )
    def recover_last_day(self, request, queryset):
        since = timezone.now() - recovery.DEFAULT_WINDOW
        for endpoint in queryset:
            try:
                done = recovery.recover(endpoint=endpoint, since=since, user=request.user)
            except EndpointGone as gone:
                self.message_user(request, f"{gone} Skipped.", messages.WARNING)
            except recovery.RecoverRefused as refused:
                self.message_user(request, f"{endpoint.url}: {refused}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{endpoint.url}: {done.count} deliveries will be sent again.",
                    messages.SUCCESS,
                )

    def _rotate(self, request, queryset, *, overlap_hours: int) -> None:
        count = 0
        for endpoint in queryset:
            with self._skip_if_gone(request):
                services.endpoint_rotate_secret(endpoint=endpoint, overlap_hours=overlap_hours)
                count += 1
        self.message_user(request, f"Rotated {count} secrets.", messages.SUCCESS)

    @contextmanager
    def _skip_if_gone(self, request) -> Iterator[None]:
        """An endpoint deleted while the action ran is skipped with a message, not a 500."""
        try:
            yield
        except EndpointGone as gone:
            self.message_user(request, f"{gone} Skipped.", messages.WARNING)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = ("attempted_at", "status_code", "duration_ms", "error", "success")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "endpoint",
        "event_type",
        "status",
        "retries",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type", "is_test"]
    search_fields = ["msg_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The log is deleted with its endpoint or by retention (webhooks.retention), never
        # row by row: deleting a delivery while a worker records its attempt would fail.
        return False

    def has_redeliver_permission(self, request) -> bool:
        """Deliveries are read-only rows; sending one again needs the permission to change
        its endpoint, as on the endpoint's page."""
        return request.user.has_perm(permissions.CHANGE)

    @admin.action(description="Redeliver (finished deliveries)", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        count = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery)
            except DeliveryGone as gone:
                self.message_user(request, f"{gone} Skipped.", messages.WARNING)
                continue
            except services.RedeliverRefused:
                continue
            count += 1
        self.message_user(request, f"Queued {count} deliveries again.", messages.SUCCESS)
