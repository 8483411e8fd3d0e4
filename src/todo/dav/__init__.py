"""CalDAV (RFC 4791), the VTODO part: each project a calendar of to-dos, so that Apple Reminders,
Thunderbird and Tasks.org (DAVx5) sync tasks both ways. Signed in with HTTP Basic: the account's email
and a personal API token (the write scope to change anything) as the password."""
