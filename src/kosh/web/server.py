"""The ASGI application for `kosh serve` (uvicorn imports it, once per worker)."""

from kosh.platform.context import open_context
from kosh.web.app import create_app

app = create_app(open_context())
