# One image for every role: `todo serve api | notifications | web` (the chart picks the command).
# Build: docker build -t todo .   Run the all-in-one: docker run -p 3000:3000 -p 8000:8000 todo up --host 0.0.0.0

# The base: the official CPython image. Builds on a machine without a registry pass an equivalent made
# from Debian's packages (scripts/cluster images: Debian bookworm's CPython 3.11).
ARG BASE_IMAGE=python:3.11-slim-bookworm

# --- build: the locked dependencies and our package in a virtualenv -----------------------------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/todo
COPY requirements.prod.lock ./
RUN /opt/todo/bin/pip install --require-hashes --no-deps -r requirements.prod.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/todo/bin/pip install --no-deps .

# --- run: no compiler, no pip cache, a user without a shell, a read-only root works --------------------------
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 todo \
    && useradd --system --uid 10001 --gid todo --home-dir /nonexistent --shell /usr/sbin/nologin todo
COPY --from=build /opt/todo /opt/todo
ENV PATH=/opt/todo/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TODO_HOST=0.0.0.0 \
    TODO_DATA_DIR=/var/lib/todo \
    TODO_LOG_JSON=true \
    TODO_HEALTH_URL=http://127.0.0.1:8000/healthz
RUN mkdir -p /var/lib/todo && chown todo:todo /var/lib/todo
VOLUME ["/var/lib/todo"]
USER 10001:10001
EXPOSE 8000 8001 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['TODO_HEALTH_URL'], timeout=2)"]
ENTRYPOINT ["todo"]
CMD ["serve", "api"]
