"""The site as an ASGI app: what gunicorn serves (with uvicorn workers; gunicorn.conf.py).

Event streams (views marked with acme.lib.event_streams.event_stream) go to a Django ASGI
handler and are driven by the event loop without holding a thread. Every other request goes
through a WSGI bridge with a fixed pool of WEB_THREADS threads, so it runs exactly as under a
threaded WSGI server: each thread keeps its persistent database connection, and request
bodies are read as the view asks for them (a refused upload is never spooled).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")
django.setup(set_prefix=False)

from a2wsgi import WSGIMiddleware  # noqa: E402 - Django is set up first
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from acme.lib import service_urls  # noqa: E402
from acme.lib.event_streams import StreamHandler, is_event_stream_request  # noqa: E402

# gunicorn runs no system checks: refuse to serve without the servers, naming what to set.
service_urls.require()
streams = StreamHandler()
# django-stubs types WSGIHandler's answer as HttpResponse; it is a WSGI app all the same.
pages = WSGIMiddleware(get_wsgi_application(), workers=settings.WEB_THREADS)  # type: ignore[arg-type]


async def application(scope, receive, send) -> None:
    if scope["type"] == "http" and is_event_stream_request(scope):
        await streams(scope, receive, send)
    else:
        await pages(scope, receive, send)  # also answers lifespan and refuses websockets
