"""Ports for servers a developer's machine starts (tests, `todo dev stack`): below the kernel's ephemeral
range, so that no outgoing connection can hold one at the moment its server binds it."""

from __future__ import annotations

import random
import socket

# /proc/sys/net/ipv4/ip_local_port_range starts at 32768 on Linux by default; scripts/devstack and
# scripts/cluster keep their fixed ports below 20000.
LOCAL_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port in LOCAL_PORTS that nothing listens on now (random, so that parallel callers rarely meet)."""
    for _ in range(200):
        port = random.choice(LOCAL_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {LOCAL_PORTS.start}-{LOCAL_PORTS.stop - 1}")
