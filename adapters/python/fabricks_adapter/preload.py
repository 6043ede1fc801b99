"""Build-time preparation of the interpreter snapshot.

componentize-py runs the entry module once at build time and snapshots the
interpreter; a standard-library module first imported while serving cannot
be loaded then (the standard library is not on disk in the guest). So what
the app may import later is imported now:
a list of standard-library modules that frameworks import lazily, every
submodule of each standard-library package the app has loaded, and whatever
one warm-up request through the app pulls in. The app and its packages are
on disk while serving, at the paths the build saw them at, so their modules
load on first use.
"""

import importlib
import io
import os
import pkgutil
import re
import sys

# Standard-library modules frameworks and their dependencies import on first
# use rather than at import time (codecs looked up by name, parsers, ...).
LAZY_STDLIB = """
encodings.idna encodings.punycode encodings.utf_8 encodings.utf_8_sig encodings.latin_1
encodings.ascii encodings.utf_16 encodings.utf_16_le encodings.utf_16_be encodings.utf_32
encodings.unicode_escape encodings.raw_unicode_escape encodings.cp1252 encodings.charmap
encodings.base64_codec encodings.hex_codec encodings.zlib_codec
json json.decoder json.encoder json.scanner
email email.parser email.feedparser email.message email.utils email.header email.charset
email.encoders email.policy email._policybase email.headerregistry email.contentmanager
email.mime.text email.mime.multipart email.mime.base email.generator email.quoprimime
email.base64mime email.iterators email.errors
http http.cookies http.client urllib.parse urllib.request urllib.error
mimetypes uuid decimal fractions datetime zoneinfo calendar time locale gettext
hashlib hmac secrets base64 binascii zlib gzip struct pickle copy copyreg pprint
tempfile shutil string textwrap dataclasses enum functools operator itertools
typing inspect ast dis tokenize token keyword linecache traceback warnings
html html.parser html.entities xml.etree.ElementTree xml.dom.minidom
csv difflib unicodedata random statistics queue weakref contextvars contextlib
logging logging.handlers logging.config collections collections.abc numbers
ipaddress quopri stringprep platform annotationlib
""".split()

# Submodules never needed to serve requests.
_SKIP_SUBMODULE = re.compile(r"(^|\.)(tests?|testing|conftest|__main__|_pytest|benchmarks?)(\.|$)")


def import_quietly(name):
    """Import a module if it can be imported here; a module that cannot (a
    compiled extension, a missing optional dependency) is left out."""
    try:
        importlib.import_module(name)
        return True
    except BaseException:
        return False


def import_lazy_stdlib():
    for name in LAZY_STDLIB:
        import_quietly(name)
    import mimetypes

    # Only the built-in table: the build machine's /etc/mime.types stays out.
    mimetypes.init(files=[])


# Standard-library packages whose submodules serving never needs (and
# `encodings`, whose codecs in use are in LAZY_STDLIB).
_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data", "venv", "unittest",
                "distutils", "concurrent", "multiprocessing", "curses", "encodings"}


def import_stdlib_trees():
    """Import every submodule of each standard-library package the app has
    loaded (importlib => its `resources` and `metadata` helpers): the
    standard library is not on disk while serving. The app's own modules and
    its packages are (mounted where the build saw them), so those load on
    first use; importing all of them here made components up to 40% larger
    (Django 35 -> 50 MB) for modules most apps never use."""
    roots = set()
    for name, module in list(sys.modules.items()):
        root = name.split(".")[0]
        if root in sys.stdlib_module_names and root not in _SKIP_STDLIB and hasattr(module, "__path__"):
            roots.add(root)
    for root in sorted(roots):
        package = sys.modules.get(root)
        if package is None or not hasattr(package, "__path__"):
            continue
        for info in pkgutil.walk_packages(package.__path__, root + ".", onerror=lambda _name: None):
            if not _SKIP_SUBMODULE.search(info.name):
                import_quietly(info.name)


# The built-in warm-up request's target: a path no app routes (a 404 runs
# through the framework's routing, error handling and response on every app).
DEFAULT_WARM_UP = "/.well-known/fabricks/warm-up?a=1&a=2"


def warm_up_wsgi(app, target=DEFAULT_WARM_UP):
    """Send one GET request for `target` (a path, with a query if any)
    through the app, so that what the framework loads and caches on a
    request is in the snapshot. Returns the status the app answered (None
    if it raised: the exception is passed on)."""
    from urllib.parse import unquote_to_bytes

    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        # As a WSGI server passes it: percent-decoded, bytes as latin-1.
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": "fabricks=warm-up",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(int(str(status).split(" ", 1)[0]))
        return lambda data: None

    result = app(environ, start_response)
    try:
        for _ in result:
            pass
    finally:
        if hasattr(result, "close"):
            result.close()
    return statuses[-1] if statuses else None


def warm_up_asgi(app, target=DEFAULT_WARM_UP):
    """The ASGI counterpart of `warm_up_wsgi`, on the guest's event loop."""
    from urllib.parse import unquote

    from .event_loop import get_loop

    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("ascii", "replace"),
        "query_string": query.encode("ascii", "replace"),
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"accept", b"application/json"), (b"cookie", b"fabricks=warm-up")],
        "client": None,
        "server": ("localhost", 80),
        "state": {},
    }
    sent_request = False
    statuses = []

    async def receive():
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message):
        if message.get("type") == "http.response.start":
            statuses.append(int(message.get("status", 200)))

    get_loop().run_until_complete(app(scope, receive, send))
    return statuses[-1] if statuses else None


def warm_up_quietly(warm_up, app):
    """The built-in warm-up request: whatever the app answers or raises."""
    try:
        warm_up(app)
    except BaseException:
        pass


def warm_up_listed(warm_up, app, targets, key):
    """The app's own warm-up requests (`[python] warm_up`, written at `key`):
    each must be answered without an error, else the build stops and says
    which."""
    for target in targets:
        fix = "list paths the app answers to GET without a database or outbound calls (neither is there at build time), or remove it"
        try:
            status = warm_up(app, target)
        except BaseException as error:
            print(f"fabricks-error: {key} {target!r}: the app raised {type(error).__name__}: {error} "
                  f"at build time. Fix: {fix}.", file=sys.stderr)
            raise
        if status is None or status >= 400:
            print(f"fabricks-error: {key} {target!r}: the app answered {status} at build time "
                  f"(a GET with Host: localhost). Fix: {fix}.", file=sys.stderr)
            raise RuntimeError(f"warm-up request {target!r} answered {status}")


# Standard-library packages no web app imports while serving.
_NEVER_SERVING = {"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data"}

# `import a.b, c` and `from a.b import c` at the start of a line.
_IMPORT_LINE = re.compile(
    rb"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+\(?([\w \t,]*)|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))",
    re.M,
)


def import_stdlib_named_in(folders):
    """Import each standard-library module that a source file under
    `folders` (the app and its packages) names in an import statement, even
    one inside a function: that module would be imported while serving,
    and the standard library is not there then. A line scan, not a parse:
    it may import a module no code path reaches, never miss one written."""
    for name in sorted(stdlib_named_in(folders)):
        if name not in sys.modules and not import_quietly(name):
            UNAVAILABLE.add(name)


# Standard-library names the sources import that could not be imported at
# build time (a platform's own module, `from a import name` that is no
# module): no new build would have them either.
UNAVAILABLE = set()


def stdlib_named_in(folders, submodules=True):
    """The standard-library modules source files under `folders` import by
    name (see `import_stdlib_named_in`); with `submodules`, also `a.b` for
    each `from a import b`, which may name a submodule."""
    names = set()
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not _SKIP_SUBMODULE.search(d) and not d.endswith(".dist-info")]
            for file in files:
                if not file.endswith(".py"):
                    continue
                try:
                    with open(os.path.join(root, file), "rb") as source:
                        text = source.read()
                except OSError:
                    continue
                for from_name, from_names, import_names in _IMPORT_LINE.findall(text):
                    if from_name:
                        names.add(from_name.decode("ascii", "replace"))
                        # `from unittest import mock`: the name may be a submodule.
                        for imported in from_names.split(b",") if submodules else ():
                            imported = imported.split()[0] if imported.split() else b""
                            if imported and imported != b"*":
                                names.add((from_name + b"." + imported).decode("ascii", "replace"))
                    else:
                        for name in import_names.split(b","):
                            names.add(name.strip().decode("ascii", "replace"))
    return {name for name in names if name.split(".")[0] in sys.stdlib_module_names and name.split(".")[0] not in _NEVER_SERVING}


def prepare(app, interface, source_folders, warm_up_targets, warm_up_key):
    """Everything the entry module runs at build time, after loading the app;
    `source_folders` hold the app's and its packages' sources (as the guest
    sees them), `warm_up_targets` the app's own warm-up requests
    (`[python] warm_up`, written at `warm_up_key`)."""
    from . import compat, routes, templates

    warm_up = warm_up_asgi if interface == "asgi" else warm_up_wsgi
    import_lazy_stdlib()
    compat.install()
    warm_up_quietly(warm_up, app)
    import_stdlib_named_in(source_folders)
    import_stdlib_trees()
    # Packages imported just now (anyio's backends...) get their patches too.
    compat.install()
    routes.compile_all()
    templates.compile_all()
    # The warm-up once more, last, with the app's own: the imports ran
    # thousands of modules' code through CPython's caches (the type
    # attribute cache, the specialized instructions' guards), and a snapshot
    # taken after them handed every instance caches that missed on the
    # request path (Flask's own work on an instance's first request: +0.5
    # ms; +0.2 ms with this; none with the route itself in `warm_up`).
    warm_up_quietly(warm_up, app)
    warm_up_listed(warm_up, app, warm_up_targets, warm_up_key)
    freeze_snapshot()


def freeze_snapshot():
    """Leave the snapshot so that serving writes to as little of it as it
    can. A fresh instance's memory is put back to the snapshot after each
    request by copying back every page the request wrote: for the Flask
    example 4.4 MiB with the first step alone, 2.7 MiB with the second,
    2.0 MiB with all three.

    - Its objects are moved out of the cyclic collector's sight (as gunicorn
      apps loaded with --preload do): they live as long as the instance
      anyway, and a collection that walks them writes to each one's header.
    - They are marked immortal (`immortalize_snapshot`).
    - The free chunks left between them are taken up for good
      (`_fabricks_heap.plug_free_chunks`: 3.2 MB in 15,000 holes for the
      Flask example), so what a request allocates comes from the end of the
      heap, a few contiguous pages, instead of from holes spread over all of
      it. This runs last: anything freed after it would leave a hole."""
    import gc

    import _fabricks_heap

    gc.collect()
    immortalize_snapshot(_fabricks_heap)
    gc.freeze()
    _fabricks_heap.plug_free_chunks()


def immortalize_snapshot(heap):
    """Mark every object the snapshot holds immortal, as CPython marks None
    and its static types: the objects the cyclic collector sees, and what
    they refer to (strings, numbers, tuples of them). They live as long as
    the instance anyway. Once immortal, a reference taken or dropped (every
    global, attribute and method a request touches) no longer writes to the
    object, so serving a request leaves the snapshot's pages unwritten: a
    fresh instance has that much less memory to copy back when its slot is
    reset (the Flask example with a fresh instance per request: ~1.3x less
    CPU a request). The marking is done by `_fabricks_heap`, a small C
    extension built with the adapter (adapters/python/heap), passed in as
    `heap`."""
    import gc

    is_immortal = sys._is_immortal
    # The extension writes the header as CPython 3.14 lays it out on wasm32;
    # checked on an object of its own before any other is touched.
    probe = [object()]
    heap.immortalize(probe)
    if not is_immortal(probe[0]):
        raise RuntimeError("fabricks: _fabricks_heap does not match this interpreter's object layout")
    roots = gc.get_objects()
    heap.immortalize(roots)
    for root in roots:
        # An object already immortal has had its referents walked (or is
        # one of CPython's own, whose referents are roots themselves).
        todo = [r for r in gc.get_referents(root) if not is_immortal(r)]
        while todo:
            heap.immortalize(todo)
            todo = [r for o in todo for r in gc.get_referents(o) if not is_immortal(r)]


def _importing_file(error):
    """The file whose import failed: the last frame of the traceback."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<")]
    return f"{frames[-1].filename}, line {frames[-1].lineno}" if frames else "the app"


def load_app(module_name, attribute, stripped_modules, factory_args=None):
    """Import the user's app object (or call its app factory with
    `factory_args`, the literal arguments written in `pkg:create_app(...)`);
    explain failures on lines starting with `fabricks-error: `, which the
    builder shows as the build's error."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        package = stripped_modules.get(missing)
        importer = _importing_file(error)
        if missing.split(".")[0] in sys.stdlib_module_names:
            print(
                f"fabricks-error: the guest's Python has no {missing!r} (WebAssembly has no processes, threads "
                f"or native extensions here); it is imported by {importer}. "
                f"Fix: avoid that import, or use a version of the package that does not need it.",
                file=sys.stderr,
            )
        elif package:
            print(
                f"fabricks-error: the package {package!r} only works compiled: its extension module "
                f"{missing!r} has no WebAssembly build and no pure-Python fallback. "
                f"Fix: use a pure-Python alternative or a version of {package!r} that does not need it.",
                file=sys.stderr,
            )
        else:
            print(
                f"fabricks-error: importing {module_name!r} needs the module {missing!r}, which is not installed. "
                f"Fix: add the package that provides it to the requirements file.",
                file=sys.stderr,
            )
        raise
    try:
        found = getattr(module, attribute)
    except AttributeError:
        print(
            f"fabricks-error: the module {module_name!r} has no attribute {attribute!r}. "
            f"Fix: set [python] app = \"{module_name}:<name of the app object>\".",
            file=sys.stderr,
        )
        raise
    if factory_args is None:
        return found
    args, kwargs = _literal_arguments(module_name, attribute, factory_args)
    return found(*args, **kwargs)


def _literal_arguments(module_name, attribute, text):
    """The positional and keyword arguments written in `factory(...)`, which
    must be literals (as gunicorn requires of `'pkg:create_app(...)'`)."""
    import ast

    try:
        call = ast.parse(f"f({text})", mode="eval").body
        return [ast.literal_eval(a) for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as error:
        print(
            f"fabricks-error: the app factory call {module_name}:{attribute}({text}) takes only literal arguments "
            f"(strings, numbers, True/False/None, lists, dicts): {error}. "
            f"Fix: pass literals, or read settings from the environment inside the factory.",
            file=sys.stderr,
        )
        raise
