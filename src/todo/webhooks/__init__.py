"""Outgoing webhooks: a user subscribes a URL to kinds of events; each event of a task they can see is
posted there as its CloudEvent, signed with the subscription's secret, retried with backoff, in order
per task; a subscription that keeps failing is paused and its owner told."""
