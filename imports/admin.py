from django.contrib import admin, messages

from imports import services, sources
from imports.models import ImportJob, ImportSource
from imports.permissions import REVERT


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs change only through imports.services (pages, API, command); the one
    action queues reverts, for users with the imports add and change permissions."""

    list_display = ["id", "kind", "original_name", "status", "phase", "rows_read", "created",
                    "updated", "unchanged", "rows_rejected", "restored", "deleted", "conflicts",
                    "source", "created_by", "created_at", "finished_at"]  # fmt: skip
    list_filter = ["kind", "status", "source", "validate_only", "strict"]
    search_fields = ["original_name", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]
    actions = ["revert_imports"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revert_permission(self, request) -> bool:
        return request.user.has_perms(REVERT)

    @admin.action(description="Revert the selected imports", permissions=["revert"])
    def revert_imports(self, request, queryset) -> None:
        """Queue a revert of each selected import; products changed since are left as they
        are (conflicts). One later imports touched is skipped with a message: revert it from
        its page, which shows what they changed."""
        for job in queryset.order_by("pk"):
            try:
                revert_job = services.import_job_revert(job=job, user=request.user)
            except services.ImportJobError as exc:
                self.message_user(request, f"Import #{job.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"Import #{job.pk}: revert #{revert_job.pk} queued.", messages.SUCCESS
                )


@admin.register(ImportSource)
class ImportSourceAdmin(admin.ModelAdmin):
    """Saved sources; the model permissions apply. Writes go through imports.sources."""

    list_display = ["name", "encoding", "delimiter", "sheet", "strict", "sync", "updated_at"]
    list_filter = ["strict", "sync"]
    search_fields = ["name"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    fields = ["name", "encoding", "delimiter", "sheet", "mapping", "header", "strict", "sync",
              *readonly_fields]  # fmt: skip

    def save_model(self, request, obj, form, change) -> None:
        values = {name: form.cleaned_data[name] for name in (*sources.SETTINGS, "header")}
        if change:
            saved = sources.source_update(source=obj, name=obj.name, values=values)
        else:
            saved = sources.source_create(name=obj.name, values=values, user=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        sources.source_delete(source=obj)

    def delete_queryset(self, request, queryset) -> None:
        for source in queryset:
            sources.source_delete(source=source)
