"""fabricks guest adapters for Python web apps.

The generated entry module of a fabricks component imports one bridge from
here (``wsgi`` for Flask, Django, Bottle and any WSGI app) and names the
user's app; the bridge maps each `wasi:http/incoming-handler` call to the
framework's calling convention and the framework's answer back to WASI.
Nothing here knows about the host that serves the component.
"""
