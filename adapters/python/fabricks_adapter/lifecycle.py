"""`fabricks:app/lifecycle`: what runs when the host retires an instance.

An instance is to its app what a worker process is under gunicorn or
uvicorn; when the host is done with it (it served its share of requests,
sat idle, or the server is stopping), the app gets the ending a worker
would give it: the framework's own shutdown (ASGI lifespan) and then the
interpreter's `atexit` handlers. No request follows.
"""

import atexit
import sys
import traceback


def lifecycle_class(shutdown=None):
    """The `Lifecycle` class componentize-py exports; `shutdown`, if given,
    runs first (the bridge's framework shutdown)."""

    class Lifecycle:
        def retire(self):
            if shutdown is not None:
                try:
                    shutdown()
                except BaseException:
                    traceback.print_exc(file=sys.stderr)
            # As at the exit of a worker process; the handlers report their
            # own errors.
            atexit._run_exitfuncs()

    return Lifecycle
