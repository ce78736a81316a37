from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="new"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("<int:pk>/enabled/", views.endpoint_set_enabled, name="set-enabled"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate_secret, name="rotate-secret"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/recover/", views.endpoint_recover, name="recover"),
    path("deliveries/<int:pk>/status", views.delivery_status, name="delivery-status"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
