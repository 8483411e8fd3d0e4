"""What the notifications service runs: the reminder schedule and inbox consumers, the reminder clock and
the channel delivery worker."""
