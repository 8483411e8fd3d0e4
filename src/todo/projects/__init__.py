"""Projects: every task and series belongs to one (each user's Inbox by default), shared with other users
as viewers or editors. `access` is the one place that says who may see or change what."""
