"""`weakref.finalize` without a write to its class on every call.

Every WASI resource the guest holds (a request, its headers, the response,
its body and stream: about ten per HTTP request) gets a `weakref.finalize`
from componentize-py's bindings, and a constructor's resource gets two.
CPython's `finalize.__init__` ends with `finalize._dirty = True`, a write to
a class attribute: each one modifies the class, which invalidates what the
interpreter cached about it (its type version), so each attribute the next
call reads through the class (`self._registry`, `self._Info`, ...) is looked
up again, the slow way, and the instructions specialized on it are undone.
After a thousand such writes CPython stops caching lookups on the class at
all. In the guest that made a finalizer and its `detach()` cost 5.8 us, more
than the host calls the resource is for.

`install()` replaces `__init__` with CPython 3.14's own code but for that
write, which happens only when the flag changes (it is a flag: once True it
stays True until the interpreter's exit handler, `_exitfunc`, clears it).
What a finalizer does, when it runs and what `detach`, `peek`, `alive` and
the exit handler see are unchanged.
"""

import weakref


def install():
    """Replace `weakref.finalize.__init__` (once; at build time)."""
    finalize = weakref.finalize
    if getattr(finalize.__init__, "_fabricks", False):
        return
    ref = weakref.ref

    def __init__(self, obj, func, /, *args, **kwargs):
        if not self._registered_with_atexit:
            # As CPython: the exit handler is registered on first use.
            import atexit

            atexit.register(self._exitfunc)
            finalize._registered_with_atexit = True
        info = self._Info()
        info.weakref = ref(obj, self)
        info.func = func
        info.args = args
        info.kwargs = kwargs or None
        info.atexit = True
        info.index = next(self._index_iter)
        self._registry[self] = info
        if not finalize._dirty:
            finalize._dirty = True

    __init__._fabricks = True
    __init__.__doc__ = finalize.__init__.__doc__
    __init__.__qualname__ = finalize.__init__.__qualname__
    finalize.__init__ = __init__
