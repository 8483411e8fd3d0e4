"""Key/value state that lives outside the relational database, behind one small port.

`StateStore` is the port; `MemoryStateStore` keeps the all-in-one free of Redis; `DaprStateStore` goes
through the sidecar's state API to the `statestore` component (Redis or Valkey) so that every replica
of a service sees the same state. Bootstrap chooses one with the transport.
"""
