# One Dapr binary (daprd, operator, injector, sentry or placement) where Dapr's chart and injector run it:
# /<name>, as the non-root user of Dapr's own images. Built with cgo against bookworm's glibc.
FROM todo.local/debian:bookworm
ARG NAME
COPY ${NAME} /${NAME}
USER 65532:65532
