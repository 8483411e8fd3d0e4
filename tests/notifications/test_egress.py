"""A channel may send out to the internet, never inside: the addresses refused, and what an operator
allows."""

from __future__ import annotations

import socket

import pytest

from todo.notifications.egress import EgressPolicy, RefusedTarget, guarded

INSIDE = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4 written as IPv6
    ("169.254.169.254", "link-local"),  # a cloud's metadata service
    ("fe80::1%eth0", "link-local"),
    ("10.201.0.7", "private"),  # the local cluster's pod range
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("100.64.0.1", "not a public address"),  # shared address space (carrier NAT)
]


@pytest.mark.parametrize(("address", "kind"), INSIDE)
def test_an_address_inside_is_refused_and_the_reason_names_it(address: str, kind: str) -> None:
    why = EgressPolicy().refusal(address)
    assert why is not None
    assert kind in why


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_a_public_address_may_be_sent_to(address: str) -> None:
    assert EgressPolicy().refusal(address) is None


def test_an_operator_allows_a_network_and_nothing_beside_it() -> None:
    policy = EgressPolicy.allowing(["10.201.0.1/32", "::1/128"])
    assert policy.refusal("10.201.0.1") is None
    assert policy.refusal("::1") is None
    assert policy.refusal("10.201.0.2") is not None
    assert policy.refusal("127.0.0.1") is not None


def test_names_resolved_under_the_guard_are_checked_and_elsewhere_not() -> None:
    with guarded(EgressPolicy()), pytest.raises(RefusedTarget, match="localhost resolves to"):
        socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo("localhost", 80)  # outside the guard: this process's own connections
    with guarded(EgressPolicy.allowing(["127.0.0.0/8", "::1/128"])):
        assert socket.getaddrinfo("localhost", 80)
