# Production image: no embedded servers, gunicorn serving the site, whitenoise serving static files.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=acme.settings \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system acme && useradd --system --gid acme --home-dir /app acme
WORKDIR /app

# The locked dependencies first (every package pinned, with hashes): this layer is reused
# until requirements/production.txt changes. Then the project itself, without dependencies.
COPY requirements/production.txt ./requirements/
RUN pip install --require-hashes -r requirements/production.txt
COPY pyproject.toml README.md ./
COPY acme ./acme
COPY products ./products
COPY imports ./imports
COPY webhooks ./webhooks
RUN pip install --no-deps .

COPY . .
# The production settings load without DATABASE_URL or REDIS_URL (collectstatic needs neither);
# only the SECRET_KEY check needs a value here.
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R acme:acme /app/var && chmod 700 /app/var

USER acme
EXPOSE 8000
CMD ["gunicorn", "acme.asgi:application", "--config", "gunicorn.conf.py"]
