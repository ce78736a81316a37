import os

from django.core.wsgi import get_wsgi_application

from acme.lib import service_urls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")

application = get_wsgi_application()
# gunicorn runs no system checks: refuse to serve without the servers, naming what to set.
service_urls.require()
