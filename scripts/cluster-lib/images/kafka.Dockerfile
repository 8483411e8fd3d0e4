# Apache Kafka from its Maven Central jars (scripts/kafka/pom.xml) on Debian's Java 17: the stand-in for
# Redpanda (same Kafka protocol). kafka-node configures a KRaft node from its StatefulSet ordinal. Kafka's
# command-line tools (TopicCommand, GetOffsetShell) have a classpath of their own: KAFKA_TOOLS_CLASSPATH.
FROM todo.local/debian:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1001 --home-dir /var/lib/kafka --create-home kafka
COPY libs /opt/kafka/libs
COPY tools /opt/kafka/tools
ENV KAFKA_TOOLS_CLASSPATH="/opt/kafka/libs/*:/opt/kafka/tools/*"
COPY kafka-node /usr/local/bin/kafka-node
USER 1001:1001
ENTRYPOINT ["/usr/local/bin/kafka-node"]
