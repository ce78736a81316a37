from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("new/", views.product_create, name="new"),
    path("export.csv", views.products_export, name="export"),
    path("delete-all/", views.products_delete_all, name="delete-all"),
    path("<int:pk>/edit/", views.product_edit, name="edit"),
    path("<int:pk>/active/", views.product_set_active, name="set-active"),
    path("<int:pk>/delete/", views.product_delete, name="delete"),
]
