"""What the API serves of notifications: the inbox and its live stream, channels, a task's reminders."""
