"""Build time: compile the app's templates into the snapshot, as its
template engine would at each one's first render; and, under `up --watch`,
forget them again.

Jinja (Flask, Quart, FastAPI's `Jinja2Templates`) and Django compile a
template the first time it is rendered and keep it for the life of the
process. So every instance compiled again each template its requests
rendered, and a fresh instance per request did it at every request (a fresh
instance's request, tests/apps/flask-factory `/`: 18 ms, 2.6 ms with the
templates in the snapshot; Django's admin login page: 156 ms, 13 ms with
this and `routes`; a warm instance's: 0.8 ms and 6.8 ms). This compiles
every template the app's engines can list, rendering none (no view runs,
no context is made). A template that does not compile is left for the app
to meet where it renders it, as before. With a Django engine goes what a
first render loads besides: the context processors, the language's
formats, the default time zone.

Templates compiled into the snapshot are the build's: `forget()` drops them
in an instance asked to reload (`reload`), so that an edited template is
read from disk again.
"""

import gc
import os
import sys


def compile_all():
    """Compile every template of every Jinja environment and Django
    template engine the app has (an engine whose loader cannot list its
    templates is left to compile them at their first render)."""
    for compile_engine in (_jinja, _django, _django_first_render):
        try:
            compile_engine()
        except Exception:
            pass


def forget():
    """Drop every compiled template (Jinja's caches, Django's cached
    loaders): the next render of each reads it from disk again."""
    for environment in _jinja_environments():
        if environment.cache is not None:
            environment.cache.clear()
    for engine in _django_engines():
        for loader in engine.template_loaders:
            if hasattr(loader, "reset"):
                loader.reset()


def _jinja_environments():
    jinja2 = sys.modules.get("jinja2")
    if jinja2 is None:
        return []
    # The snapshot's objects are frozen out of `gc.get_objects()`'s sight.
    frozen = gc.get_freeze_count()
    if frozen:
        gc.unfreeze()
    try:
        return [e for e in gc.get_objects() if isinstance(e, jinja2.Environment)]
    finally:
        if frozen:
            gc.freeze()


def _jinja():
    # Flask's and Quart's apps (both `flask.sansio.app.App` since Flask 2.3).
    flask = sys.modules.get("flask.sansio.app") or sys.modules.get("flask")
    app_class = getattr(flask, "App", None) or getattr(flask, "Flask", None)
    if app_class is not None:
        for app in gc.get_objects():
            if isinstance(app, app_class):
                # Made at the app's first render otherwise.
                app.jinja_env
    for environment in _jinja_environments():
        if environment.cache is None:
            continue
        try:
            names = environment.list_templates()
        except Exception:
            continue
        for name in names:
            try:
                environment.get_template(name)
            except Exception:
                pass


def _django_engines():
    """The template engines of the app's settings and the one its forms
    render their widgets with."""
    settings = getattr(sys.modules.get("django.conf"), "settings", None)
    template = sys.modules.get("django.template")
    if settings is None or template is None or not settings.configured:
        return []
    backends = list(template.engines.all())
    try:
        from django.forms.renderers import get_default_renderer

        backends.append(get_default_renderer().engine)
    except Exception:
        pass
    return [backend.engine for backend in backends if hasattr(backend, "engine")]


def _django_first_render():
    """What a first render loads besides the templates: the context
    processors' modules, the language's date and number formats, the
    default time zone (read from tzdata's files)."""
    engines = _django_engines()
    if not engines:
        return
    from django.utils import formats, timezone

    for load in (formats.get_format_modules, timezone.get_default_timezone,
                 *(lambda e=e: e.template_context_processors for e in engines)):
        try:
            load()
        except Exception:
            pass


def _django():
    for engine in _django_engines():
        names = set()
        for loader in engine.template_loaders:
            # The cached loader holds the loaders that read the files.
            for source in getattr(loader, "loaders", [loader]):
                for folder in source.get_dirs() if hasattr(source, "get_dirs") else ():
                    for root, _dirs, files in os.walk(folder):
                        for file in files:
                            names.add(os.path.relpath(os.path.join(root, file), folder).replace(os.sep, "/"))
        for name in sorted(names):
            try:
                # The first loader that has the name wins, as at a render.
                engine.get_template(name)
            except Exception:
                pass
