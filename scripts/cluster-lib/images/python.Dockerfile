# The local stand-in for python:3.11-slim-bookworm: Debian bookworm's CPython 3.11 with venv, where the
# official image has its own build of 3.11 under /usr/local. `python` is on PATH in both.
FROM todo.local/debian:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 \
    && rm -rf /var/lib/apt/lists/*
