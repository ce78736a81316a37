"""Saved sources are listed, created, edited and deleted on pages, in the API and in the
admin, each with its model permission (view, add, change, delete); names are unique in any
letter case; deleting a source leaves the imports started with it."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports import sources
from imports.models import ImportJob, ImportSource

pytestmark = pytest.mark.django_db


def _api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _user_with(*codenames: str) -> User:
    user = User.objects.create_user("limited", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_api_creates_reads_changes_and_deletes_a_source(staff_user):
    api = _api(staff_user)

    created = api.post("/api/import-sources/", {
        "name": "Supplier A weekly feed", "encoding": "cp1252", "delimiter": "tab",
        "mapping": {"sku": "Product Code", "description": None},
        "header": ["Product Code", "Title"], "sync": "deactivate",
    }, format="json")  # fmt: skip

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["delimiter"], body["mapping"], body["header"]) == (
        "\t", {"sku": "Product Code", "description": None}, ["product code", "title"],
    )  # fmt: skip
    source_id = body["id"]
    assert api.get("/api/import-sources/").json()["results"][0]["name"] == "Supplier A weekly feed"
    changed = api.patch(f"/api/import-sources/{source_id}/", {"sync": "", "strict": True},
                        format="json")  # fmt: skip
    assert changed.status_code == 200, changed.content
    assert (changed.json()["sync"], changed.json()["strict"]) == ("", True)
    duplicate = api.post("/api/import-sources/", {"name": "SUPPLIER A weekly feed"},
                         format="json")  # fmt: skip
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.json()["name"][0]
    bad = api.post("/api/import-sources/", {"name": "B", "mapping": {"sku": None}}, format="json")
    assert bad.status_code == 400
    assert "sku cannot be left out" in bad.json()["mapping"][0]
    job = ImportJob.objects.create(original_name="a.csv", size=1,
                                   saved_source_id=source_id)  # fmt: skip
    assert api.delete(f"/api/import-sources/{source_id}/").status_code == 204
    job.refresh_from_db()
    assert job.saved_source is None
    assert not ImportSource.objects.exists()


def test_the_api_needs_each_model_permission(viewer_user):
    source = sources.source_create(name="Feed", values={})
    nobody = _api(viewer_user)
    reader = _api(_user_with("view_importsource"))

    assert nobody.get("/api/import-sources/").status_code == 403
    assert reader.get(f"/api/import-sources/{source.pk}/").status_code == 200
    assert reader.post("/api/import-sources/", {"name": "New"}, format="json").status_code == 403
    assert reader.patch(f"/api/import-sources/{source.pk}/", {"name": "X"},
                        format="json").status_code == 403  # fmt: skip
    assert reader.delete(f"/api/import-sources/{source.pk}/").status_code == 403
    assert list(ImportSource.objects.values_list("name", flat=True)) == ["Feed"]


def test_the_schema_documents_the_sources_and_the_import_source_field(staff_user):
    schema = _api(staff_user).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert "/api/import-sources/" in schema["paths"]
    assert "/api/import-sources/{id}/" in schema["paths"]
    upload = schema["paths"]["/api/imports/"]["post"]["requestBody"]["content"]
    fields = next(iter(upload.values()))["schema"]["$ref"].rsplit("/", 1)[1]
    assert "source" in schema["components"]["schemas"][fields]["properties"]


def test_the_pages_create_edit_and_delete_a_source(staff_client):
    listed = staff_client.get(reverse("imports:sources"))
    assert "No saved sources yet" in listed.content.decode()

    created = staff_client.post(reverse("imports:source-new"), {
        "name": "Supplier A weekly feed", "encoding": "cp1252", "delimiter": ";",
        "map_sku": "Artikelnummer", "map_name": "Bezeichnung", "map_description": "-",
        "header": "Artikelnummer;Bezeichnung;Langtext",
    })  # fmt: skip
    assert created.status_code == 302, created.content.decode()
    source = ImportSource.objects.get()
    assert (source.encoding, source.delimiter, source.header) == (
        "cp1252", ";", ["artikelnummer", "bezeichnung", "langtext"],
    )  # fmt: skip
    assert source.mapping == {"sku": "Artikelnummer", "name": "Bezeichnung", "description": None}

    page = staff_client.get(reverse("imports:sources")).content.decode()
    assert "Supplier A weekly feed" in page
    assert "<em>left out</em>" in page
    form = staff_client.get(reverse("imports:source-edit", args=[source.pk])).content.decode()
    assert 'value="Artikelnummer"' in form

    edited = staff_client.post(reverse("imports:source-edit", args=[source.pk]), {
        "name": "Supplier A", "encoding": "", "delimiter": "", "map_sku": "Artikelnummer",
        "map_name": "Bezeichnung", "sync": "delete",
    })  # fmt: skip
    assert edited.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.encoding, source.sync) == ("Supplier A", "", "delete")
    assert source.mapping == {"sku": "Artikelnummer", "name": "Bezeichnung"}

    deleted = staff_client.post(reverse("imports:source-delete", args=[source.pk]))
    assert deleted.status_code == 302
    assert not ImportSource.objects.exists()


def test_the_pages_need_each_model_permission(client):
    source = sources.source_create(name="Feed", values={})
    client.force_login(_user_with("view_importsource"))

    assert client.get(reverse("imports:sources")).status_code == 200
    assert client.get(reverse("imports:source-new")).status_code == 403
    assert client.post(reverse("imports:source-new"), {"name": "New"}).status_code == 403
    assert client.post(reverse("imports:source-edit", args=[source.pk]),
                       {"name": "X"}).status_code == 403  # fmt: skip
    assert client.post(reverse("imports:source-delete", args=[source.pk])).status_code == 403
    assert list(ImportSource.objects.values_list("name", flat=True)) == ["Feed"]


def test_the_admin_lists_and_changes_sources_through_the_service(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    response = client.post(reverse("admin:imports_importsource_add"), {
        "name": "Admin feed", "encoding": "", "delimiter": "", "sheet": "",
        "mapping": '{"sku": "Code"}', "header": '["Code", "Title"]', "sync": "",
    })  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    source = ImportSource.objects.get()
    assert (source.created_by, source.header) == (staff_user, ["code", "title"])
    changelist = client.get(reverse("admin:imports_importsource_changelist"))
    assert "Admin feed" in changelist.content.decode()
