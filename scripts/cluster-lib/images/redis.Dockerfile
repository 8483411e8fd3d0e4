# Redis from Debian's packages, for DigitalOcean's managed Valkey (the chart's Pod gives it TLS and a password).
FROM todo.local/debian:bookworm
# A fixed UID, so that Kubernetes can tell the user is not root (runAsNonRoot).
RUN groupadd --system --gid 998 redis \
    && useradd --system --uid 998 --gid redis --home-dir /var/lib/redis redis \
    && apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
USER 998:998
ENTRYPOINT ["redis-server"]
