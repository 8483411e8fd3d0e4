"""Where a user's channel may send: out to the internet, never inside our own network.

A channel is any URL a user types, and it is sent to from inside our pods. Unchecked, `json://127.0.0.1:3500/
v1.0/publish/...` reaches the pod's own Dapr sidecar (which takes any caller on loopback: forged events for
other users) and `json://10.x.y.z/...` any Service in the cluster. So a target on loopback, link-local,
private, shared or reserved addresses is refused unless an operator allows its network
(`TODO_CHANNEL_ALLOWED_NETWORKS`): when the channel is saved, and again when it is sent to, on every address
the send resolves (a public name that resolves inside is refused too, and the address checked is the one
connected to). The send-time check wraps `socket.getaddrinfo` for the calls made under `guarded(policy)`;
Apprise carries the context into its worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(OSError):
    """The channel's target is inside; an OSError, so the sending library reports it as a failed send."""


@dataclass(frozen=True)
class EgressPolicy:
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, networks: Iterable[str]) -> EgressPolicy:
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be sent to, or None if it may."""
        ip = _unmapped(ipaddress.ip_address(address.split("%", 1)[0]))  # "fe80::1%eth0": the zone aside
        if any(ip in network for network in self.allowed):
            return None
        if ip.is_global and not ip.is_multicast:
            return None
        return f"{ip} is {_kind(ip)}: nothing is sent inside this network"

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        for address in addresses:
            if why := self.refusal(address):
                raise RefusedTarget(why if host == address else f"{host} resolves to {why}")


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip


def _kind(ip: IPAddress) -> str:
    for kind, applies in (
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("a private address", ip.is_private),
    ):
        if applies:
            return kind
    return "not a public address"


SAVE_TIME_LOOKUP_SECONDS = 2.0  # a slow resolver does not hold up saving; the send is checked anyway


async def check_host(host: str, policy: EgressPolicy) -> None:
    """At save time: refuse a host that is, or resolves to, an address inside. A name that does not resolve
    passes (many channel URLs carry a token where a host would be); its send is checked again."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:
            lookup = asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            found = await asyncio.wait_for(lookup, timeout=SAVE_TIME_LOOKUP_SECONDS)
        except (OSError, UnicodeError, TimeoutError):
            return
        policy.check_addresses(host, [str(sockaddr[0]) for *_, sockaddr in found])
        return
    policy.check_addresses(host, [host])


_policy: contextvars.ContextVar[EgressPolicy | None] = contextvars.ContextVar("egress_policy", default=None)
_resolve = socket.getaddrinfo


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    found = _resolve(host, port, *args, **kwargs)
    policy = _policy.get()
    if policy is not None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        policy.check_addresses(name, [str(sockaddr[0]) for *_, sockaddr in found])
    return found


@contextlib.contextmanager
def guarded(policy: EgressPolicy) -> Iterator[None]:
    """Every name resolved in this context (and the threads it is copied into) is checked first."""
    socket.getaddrinfo = _guarded_getaddrinfo  # idempotent; a no-op outside a guarded context
    token = _policy.set(policy)
    try:
        yield
    finally:
        _policy.reset(token)
