# Production image: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH VAR_DIR=/var/lib/prakerja

RUN pip install --no-cache-dir uv==0.9.30 \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin prakerja
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN python manage.py compile_translations \
    && SECRET_KEY=build-only python manage.py collectstatic --no-input -v0 \
    && mkdir -p /var/lib/prakerja/private && chown -R prakerja /var/lib/prakerja
USER prakerja
EXPOSE 8000
# Threaded workers, one process per core (WEB_CONCURRENCY, GUNICORN_THREADS): prakerja/gunicorn_conf.py.
CMD ["gunicorn", "prakerja.wsgi", "-c", "prakerja/gunicorn_conf.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
