from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from acme.lib import favicon, health
from acme.lib.metrics import MetricsView
from imports.api import ImportChangeViewSet, ImportJobViewSet
from imports.source_api import ImportSourceViewSet
from products.api import ProductViewSet
from webhooks.api import DeliveryViewSet, EndpointDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("imports", ImportJobViewSet, basename="import")
router.register("import-sources", ImportSourceViewSet, basename="import-source")
router.register(
    r"imports/(?P<job_id>[0-9]+)/changes", ImportChangeViewSet, basename="import-change"
)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register(
    r"webhooks/(?P<endpoint_id>[0-9]+)/deliveries",
    EndpointDeliveryViewSet,
    basename="webhook-delivery",
)
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="products:list", permanent=False), name="home"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("health", health.live, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(router.urls)),
    path("products/", include("products.urls")),
    path("imports/", include("imports.urls")),
    path("webhooks/", include("webhooks.urls")),
]
