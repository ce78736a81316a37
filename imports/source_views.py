"""Saved source pages: list, create, edit, delete (imports.sources owns the writes).

Reading needs the view permission on saved sources, creating `add`, editing `change`,
deleting `delete` (imports.permissions), as for the admin and the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports import sources
from imports.models import ImportSource
from imports.permissions import SOURCE_ADD, SOURCE_CHANGE, SOURCE_DELETE, SOURCE_VIEW
from imports.source_forms import ImportSourceForm


@require_GET
@permission_required(SOURCE_VIEW, raise_exception=True)
def source_list(request: HttpRequest) -> HttpResponse:
    listed = ImportSource.objects.annotate(job_count=Count("jobs")).order_by(Lower("name"))
    return render(request, "imports/sources/list.html", {"sources": listed})


@require_http_methods(["GET", "POST"])
@permission_required(SOURCE_ADD, raise_exception=True)
def source_create(request: HttpRequest) -> HttpResponse:
    form = ImportSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = sources.source_create(
                name=form.cleaned_data["name"], values=form.values(), user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved source “{source.name}” created.")
            return redirect("imports:sources")
    return render(request, "imports/sources/form.html", {"form": form, "source": None})


@require_http_methods(["GET", "POST"])
@permission_required(SOURCE_CHANGE, raise_exception=True)
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(ImportSource, pk=pk)
    form = ImportSourceForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            source = sources.source_update(
                source=source, name=form.cleaned_data["name"], values=form.values()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved source “{source.name}” saved.")
            return redirect("imports:sources")
    return render(request, "imports/sources/form.html", {"form": form, "source": source})


@require_POST
@permission_required(SOURCE_DELETE, raise_exception=True)
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(ImportSource, pk=pk)
    sources.source_delete(source=source)
    messages.success(request, f"Saved source “{source.name}” deleted.")
    return redirect("imports:sources")
