"""Quick add: a task or a series typed in plain words."""
