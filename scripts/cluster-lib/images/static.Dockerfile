# A static program alone (CoreDNS, the local-path provisioner), as a non-root user; the pod names the command.
FROM scratch
ARG NAME
ARG USER=65532
COPY ${NAME} /${NAME}
USER ${USER}
