# The sandbox every pod starts with: Kubernetes' own pause program (build/pause/linux/pause.c), static.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
