"""Development reloads (`up --watch`): an edit to the app's own files
served without a new build.

The snapshot holds the app as the build imported it, its templates
compiled. An instance whose environment has `FABRICKS_RELOAD_APP=1` (the
watcher sets it on a generation whose app folder holds newer files) forgets
the compiled templates at its first request (`templates.forget`), and
forgets the app's own modules and loads the app again from its folder, as
`flask run --debug`'s reloader does in a new process: the interpreter, the
standard library and the packages stay as the snapshot has them. A Django
app's modules are not loaded again (Django keeps its settings, app registry
and models for the life of the process: an edit to them is rebuilt), only
its templates. Without the variable the snapshot's app is served as it is.

`check()` (the watcher runs it through `fabricks:app/command`, as `python
-c`) loads the app that way once; its exit status is 0 when it loads, 1
with the traceback when it does not, and 75 when it needs a standard-library
module the snapshot lacks (the standard library is not on disk while
serving): only a rebuild can serve that edit.
"""

import importlib
import io
import linecache
import sys
import traceback

from . import preload, templates

VARIABLE = "FABRICKS_RELOAD_APP"
NEEDS_REBUILD = 75

# (load, folder): how the entry module loads the app, and the folder of the
# app's own modules; None for an app whose modules are not loaded again.
# Set at build time, kept in the snapshot.
_source = None


def reloadable(app, load, folder, interface, modules):
    """What the bridge serves: `app`, or in an instance asked to reload,
    what `load()` returns after the compiled templates and (with `modules`)
    the app's modules under `folder` are forgotten."""
    global _source
    _source = (load, folder) if modules else None
    return _AsgiApp(app) if interface == "asgi" else _WsgiApp(app)


def _requested():
    from wit_world.imports import environment

    return dict(environment.get_environment()).get(VARIABLE) == "1"


def fresh_app():
    """Forget the app's own modules and load the app again from its folder."""
    load, folder = _source
    prefix = folder.rstrip("/") + "/"
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        paths = [str(p) for p in (getattr(module, "__path__", None) or [])]
        if file.startswith(prefix) or any(p.startswith(prefix) for p in paths):
            del sys.modules[name]
    importlib.invalidate_caches()
    linecache.clearcache()
    return load()


class _Reloading:
    def __init__(self, app):
        self.app = app
        self.checked = False

    def current(self):
        # Once per instance; a failed load is tried again at the next request.
        if not self.checked:
            if _requested():
                templates.forget()
                if _source is not None:
                    self.app = fresh_app()
            self.checked = True
        return self.app


class _WsgiApp(_Reloading):
    def __call__(self, environ, start_response):
        return self.current()(environ, start_response)


class _AsgiApp(_Reloading):
    async def __call__(self, scope, receive, send):
        await self.current()(scope, receive, send)


def check():
    """Load the app from its folder once; the exit status described above."""
    if _source is None:
        # Its modules are not loaded again: nothing to check.
        return 0
    # What the loader explains is shown only when no rebuild follows.
    explained, sys.stderr = sys.stderr, io.StringIO()
    try:
        fresh_app()
        # Imported later (in a view), a module the snapshot lacks would fail then.
        missing = sorted(name for name in preload.stdlib_named_in([_source[1]], submodules=False) if name not in sys.modules and name not in preload.UNAVAILABLE)
        if missing:
            sys.stderr = explained
            print(f"fabricks: the edit imports the standard-library module {missing[0]!r}, which the build did not load: rebuilding",
                  file=sys.stderr)
            return NEEDS_REBUILD
        return 0
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root in sys.stdlib_module_names:
            sys.stderr = explained
            print(f"fabricks: the edit imports the standard-library module {error.name!r}, which the build did not load: rebuilding",
                  file=sys.stderr)
            return NEEDS_REBUILD
        traceback.print_exc()
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        if sys.stderr is not explained:
            printed, sys.stderr = sys.stderr.getvalue(), explained
            sys.stderr.write(printed)

