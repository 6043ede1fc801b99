"""Make libraries written for servers with threads and TLS work in the guest.

- The guest's CPython has no `_ssl`, so `import ssl` fails, and with it anyio
  (Starlette, FastAPI) and others that import ssl but never use it to serve.
  A stand-in `ssl` module lets them import; using TLS from it raises.
- `_multiprocessing` (process semaphores) does not exist in the guest, so
  `multiprocessing.synchronize` cannot be imported even just for a type (as
  Hypercorn, and so Quart, do). A stand-in lets it import; using it raises.
- The guest cannot start threads: anyio's `to_thread.run_sync` (Starlette's
  `run_in_threadpool`, FastAPI's sync endpoints and dependencies) runs the
  function inline instead.
"""

import enum
import sys
import types


class _NoTLS(OSError):
    pass


def _no_tls(*args, **kwargs):
    raise _NoTLS("TLS is not available in a fabricks guest (the guest's Python has no ssl module)")


class _AnyFlag(type):
    """A class every attribute of which is the flag value 0."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return 0


def _ssl_stand_in():
    module = types.ModuleType("ssl", "Stand-in for ssl in a fabricks guest: importable, not usable.")

    class SSLError(OSError):
        pass

    for name in ["SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError", "SSLSyscallError", "SSLEOFError", "SSLCertVerificationError"]:
        setattr(module, name, type(name, (SSLError,), {}))
    module.SSLError = SSLError
    module.CertificateError = module.SSLCertVerificationError

    class SSLContext:
        def __init__(self, *args, **kwargs):
            _no_tls()

    class SSLObject:
        def __init__(self, *args, **kwargs):
            _no_tls()

    module.SSLContext = SSLContext
    module.SSLObject = SSLObject
    module.SSLSocket = SSLObject
    module.MemoryBIO = SSLObject
    module.Purpose = enum.Enum("Purpose", ["SERVER_AUTH", "CLIENT_AUTH"])
    module.TLSVersion = enum.IntEnum("TLSVersion", ["MINIMUM_SUPPORTED", "TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3", "MAXIMUM_SUPPORTED"])
    module.VerifyMode = enum.IntEnum("VerifyMode", ["CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED"], start=0)
    module.CERT_NONE, module.CERT_OPTIONAL, module.CERT_REQUIRED = 0, 1, 2
    module.PROTOCOL_TLS, module.PROTOCOL_TLS_CLIENT, module.PROTOCOL_TLS_SERVER = 2, 16, 17
    module.HAS_SNI = module.HAS_ALPN = module.HAS_NPN = module.HAS_ECDH = False
    module.HAS_TLSv1_3 = False
    module.OPENSSL_VERSION = "none (fabricks guest)"
    module.OPENSSL_VERSION_INFO = (0, 0, 0, 0, 0)
    module.create_default_context = _no_tls
    module._create_default_https_context = _no_tls
    module._create_unverified_context = _no_tls
    module.wrap_socket = _no_tls

    def __getattr__(name):
        # OP_*, VERIFY_*, ALERT_* and other flags: harmless integers;
        # VerifyFlags, Options, AlertDescription...: classes whose members are 0.
        if name.isupper():
            return 0
        if name[:1].isupper():
            flags = _AnyFlag(name, (int,), {})
            setattr(module, name, flags)
            return flags
        raise AttributeError(f"module 'ssl' has no attribute {name!r} (fabricks guest stand-in)")

    module.__getattr__ = __getattr__
    return module


def install_ssl_stand_in():
    try:
        import ssl  # noqa: F401
    except ImportError:
        sys.modules["ssl"] = _ssl_stand_in()


def explain_ungranted_sqlite():
    """In a component granted no database, `sqlite3.connect` of a file it
    cannot open says how to grant one (then `connect` opens Spin's
    database, whatever the path)."""
    import sqlite3
    import sqlite3.dbapi2

    native_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        try:
            return native_connect(database, *args, **kwargs)
        except sqlite3.OperationalError as error:
            if "unable to open database file" not in str(error):
                raise
            raise sqlite3.OperationalError(
                f"{error}: {database!r} cannot be opened in the component, which is granted no database; "
                "grant one ([capabilities] sqlite = [\"default\"] in the Fabrickfile, or sqlite_databases = [\"default\"] "
                "on the component in spin.toml) and sqlite3.connect opens it, whatever the path"
            ) from None

    connect.__doc__ = native_connect.__doc__
    sqlite3.connect = connect
    sqlite3.dbapi2.connect = connect


def install_multiprocessing_stand_in():
    try:
        import _multiprocessing  # noqa: F401
    except ImportError:
        module = types.ModuleType("_multiprocessing", "Stand-in in a fabricks guest: no processes, no semaphores.")

        class SemLock:
            SEM_VALUE_MAX = 2**31 - 1

            def __init__(self, *args, **kwargs):
                raise OSError("processes and semaphores are not available in a fabricks guest")

        module.SemLock = SemLock
        module.sem_unlink = SemLock
        module.flags = {}
        sys.modules["_multiprocessing"] = module


async def _run_sync_inline(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
    return func(*args)


def run_thread_work_inline():
    try:
        import anyio.to_thread
    except ImportError:
        return
    anyio.to_thread.run_sync = _run_sync_inline


def install():
    install_ssl_stand_in()
    install_multiprocessing_stand_in()
    from fabricks_adapter import kdf

    kdf.install()
    run_thread_work_inline()
