"""The web UI (`todo-frontend`): server-rendered pages that use the backend only through its HTTP API.

`backend.py` is that API's client (directly, or through Dapr service invocation); `present.py` turns API
answers into what a page shows (pure); `session.py` keeps the sign-in cookie and the CSRF token;
`routes.py` holds the pages; `app.py` builds the ASGI app with its security headers.
"""
