"""gunicorn settings, from the environment (used by `make run` and the Docker image)."""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Long CSV uploads and streamed exports/SSE need more than the 30 s default.
timeout = int(os.environ.get("WEB_TIMEOUT", "300"))
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
