"""Build time: compile the app's URL patterns the way its router would on a
first match, so that the snapshot holds them.

Routers compile a route's pattern late: werkzeug's matcher (Flask, Quart)
calls `re.compile` on a dynamic part each time it tries one, counting on
`re`'s cache; Django compiles a URL pattern when it is first matched and
builds its reverse lookup (`reverse`, `{% url %}`) at the first use. The
warm-up requests reach only the routes they ask for, so every instance did
that work again at the first request of every other route: with a fresh
instance per request, at every request (Flask's `/users/<int:id>`: the
pattern's compilation was ~0.3 ms of a 0.9 ms request). This reaches every
route of the app without running a view, and only reads what the router
itself would compute (nothing the app sees changes).
"""

import gc
import re
import sys


def compile_all():
    """Compile what every router the app has loaded compiles lazily; a
    router whose internals are not as expected is left to do it itself."""
    for compile_router in (_werkzeug, _django):
        try:
            compile_router()
        except Exception:
            pass


def _werkzeug():
    routing = sys.modules.get("werkzeug.routing")
    if routing is None:
        return
    rule_class = routing.Rule
    for rule in gc.get_objects():
        if isinstance(rule, rule_class):
            # werkzeug >= 2.2: a rule's parts, each a regular expression
            # its state machine compiles when it tries the part.
            for part in getattr(rule, "_parts", None) or ():
                if not part.static:
                    re.compile(part.content)


def _django():
    resolvers = sys.modules.get("django.urls.resolvers")
    settings = getattr(sys.modules.get("django.conf"), "settings", None)
    if resolvers is None or settings is None or not settings.configured:
        return
    root = resolvers.get_resolver()
    todo = [root]
    while todo:
        entry = todo.pop()
        try:
            # Compiled once and kept on the pattern (a locale prefix is
            # worked out per request: reading it changes nothing).
            entry.pattern.regex
            if isinstance(entry, resolvers.URLResolver):
                todo.extend(entry.url_patterns)
        except Exception:
            continue
    # The reverse lookup for the default language, with every included
    # URLconf's (what the first `reverse` of a process builds), and each
    # namespace's (`reverse("admin:login")` builds it on a resolver of its
    # own, as `_namespaced` does).
    root.reverse_dict
    _namespaced(resolvers, root, "", {})


def _namespaced(resolvers, resolver, prefix, converters):
    for extra, inner in resolver.namespace_dict.values():
        pattern, inner_converters = prefix + extra, {**converters, **inner.pattern.converters}
        (resolvers.get_ns_resolver(pattern, inner, tuple(inner_converters.items())) if pattern else inner).reverse_dict
        _namespaced(resolvers, inner, pattern, inner_converters)
