# One image for every EchoTune service (code location, Dagster daemon and webserver, dashboard): docker-compose.yml
# picks the command. Python 3.11 and the locked dependencies (uv.lock), run as an unprivileged user.
FROM python:3.11-slim-bookworm

# implicit's wheels link the system's OpenMP runtime; the slim image does not have it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir uv==0.13.9

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app

# Dependencies first, in their own layer: a code change rebuilds only the layers below.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev

# The user owns what the services write (named volumes copy this ownership when first created). ECHOTUNE_UID lets a
# host folder (the landing folder) be shared with the host user who drops exports into it.
ARG ECHOTUNE_UID=1000
RUN useradd --uid "${ECHOTUNE_UID}" --user-group --create-home --shell /usr/sbin/nologin echotune \
 && mkdir -p /data/warehouse /data/models /data/landing /data/exports /data/reference /data/secrets \
    /opt/dagster/home/storage \
 && cp deploy/dagster.yaml /opt/dagster/home/dagster.yaml \
 && chown -R echotune:echotune /data /opt/dagster/home \
 && chmod 700 /data/secrets

USER echotune
ENV PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    ECHOTUNE_HOME=/data \
    GX_ANALYTICS_ENABLED=false \
    PYTHONUNBUFFERED=1

EXPOSE 3000 4000 8501
CMD ["dagster", "api", "grpc", "-m", "orchestration.definitions", "-h", "0.0.0.0", "-p", "4000", "--location-name", "echotune"]
