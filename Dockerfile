# Production image: no embedded servers, gunicorn serving the site, whitenoise serving static files.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system acme && useradd --system --gid acme --home-dir /app acme
WORKDIR /app

COPY pyproject.toml README.md ./
COPY acme ./acme
COPY products ./products
COPY imports ./imports
COPY webhooks ./webhooks
RUN pip install .

COPY . .
# collectstatic needs settings to load, not a database or Redis: give it throwaway values.
RUN DEBUG=false SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R acme:acme /app/var && chmod 700 /app/var

USER acme
EXPOSE 8000
CMD ["gunicorn", "acme.asgi:application", "--config", "gunicorn.conf.py"]
