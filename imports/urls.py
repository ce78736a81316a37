from django.urls import path

from imports import source_views, views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_upload, name="new"),
    path("sources/", source_views.source_list, name="sources"),
    path("sources/new/", source_views.source_create, name="source-new"),
    path("sources/<int:pk>/edit/", source_views.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", source_views.source_delete, name="source-delete"),
    path("new/preview", views.job_preview, name="preview"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress", views.job_progress, name="progress"),
    path("<int:pk>/events", views.job_events, name="events"),
    path("<int:pk>/report", views.job_report, name="report"),
    path("<int:pk>/changes.csv", views.job_changes_download, name="changes-download"),
    path("<int:pk>/commit", views.job_commit, name="commit"),
    path("<int:pk>/cancel", views.job_cancel, name="cancel"),
    path("<int:pk>/retry", views.job_retry, name="retry"),
    path("<int:pk>/revert", views.job_revert, name="revert"),
]
