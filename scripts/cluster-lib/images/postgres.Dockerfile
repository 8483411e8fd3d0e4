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
# Fast shutdown when the pod stops: clients are disconnected at once, as a managed database's restart or
# failover does. SIGTERM (smart shutdown) would wait for every pooled connection to close by itself,
# serving them until the grace period ends in SIGKILL.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-node"]
