# PostgreSQL from Debian's packages, for the managed database of DigitalOcean. postgres-node creates the
# cluster on first start (password from POSTGRES_PASSWORD) and runs the server in the foreground.
FROM todo.local/debian:bookworm
# A fixed UID, so that Kubernetes can tell the user is not root (runAsNonRoot).
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql postgres \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/*
COPY postgres-node /usr/local/bin/postgres-node
USER 999:999
ENTRYPOINT ["/usr/local/bin/postgres-node"]
