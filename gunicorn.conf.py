"""gunicorn settings, from the environment (used by `make run`, compose and the Docker image).

gunicorn manages WEB_CONCURRENCY uvicorn worker processes serving acme.asgi:application: event
streams run on each worker's event loop, other requests on its WEB_THREADS threads (acme/asgi.py).
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn_worker.UvicornWorker"
# Seconds a worker may go without a heartbeat before gunicorn restarts it (uvicorn workers
# beat from their event loop, so long uploads and open streams do not count against it).
timeout = int(os.environ.get("WEB_TIMEOUT", "300"))
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
