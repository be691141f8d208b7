# Vitrina as a container: `vitrina run` as a user without privileges, the package installed (not the
# checkout), logs as JSON lines, a health check on /healthz. compose.yaml runs two of them on PostgreSQL
# behind Caddy; docs/DEPLOY.md, section 10, says how.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VITRINA_WEBAPP__HOST=0.0.0.0 \
    VITRINA_WEBAPP__PORT=8080 \
    VITRINA_DATABASE_URL=sqlite:////data/vitrina.db \
    VITRINA_LOG_FORMAT=json

# the package only: its code, migrations, the Mini App's files, the demo shop and the fonts (package data)
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY journey journey
COPY bot bot
COPY adapters adapters
COPY storage storage
COPY webapp webapp
RUN pip install . && rm -rf /src

# no root: a user of its own, whose home /data holds a SQLite shop or backups (PostgreSQL needs no volume here)
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home --shell /usr/sbin/nologin vitrina
USER vitrina
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# alive: /healthz asks nothing of the database (the proxy asks /readyz which instance gets traffic)
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('VITRINA_WEBAPP__PORT', '8080'), timeout=2)"]

# SIGTERM: no new connections, the requests in flight and the current job rounds finish within
# VITRINA_SHUTDOWN_SECONDS (10), exit 0; compose.yaml gives it stop_grace_period beyond that
STOPSIGNAL SIGTERM
CMD ["vitrina", "run"]
