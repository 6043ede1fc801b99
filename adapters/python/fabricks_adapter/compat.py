"""Make libraries written for servers with threads and TLS work in the guest.

- The guest's CPython has no `_ssl`, so `import ssl` fails, and with it anyio
  (Starlette, FastAPI) and others that import ssl but never use it to serve.
  A stand-in `ssl` module lets them import. Its client contexts wrap the
  guest's HTTP connections (`outbound`: the host makes the TLS connection);
  any other use of TLS raises.
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
        """A client context: settings are kept, certificates are the host's
        business, and `wrap_socket` makes a guest HTTP connection https."""

        def __init__(self, protocol=None, *args, **kwargs):
            self.protocol = protocol
            self.check_hostname = True
            self.verify_mode = 2
            self.verify_flags = 0
            self.options = 0
            self.minimum_version = module.TLSVersion.MINIMUM_SUPPORTED
            self.maximum_version = module.TLSVersion.MAXIMUM_SUPPORTED
            self.post_handshake_auth = False
            self.keylog_filename = None
            self.hostname_checks_common_name = False
            self.sni_callback = None

        def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, suppress_ragged_eofs=True, server_hostname=None, session=None):
            if server_side:
                _no_tls()
            from fabricks_adapter import outbound

            return outbound.wrap_socket(sock, server_hostname=server_hostname)

        def wrap_bio(self, *args, **kwargs):
            _no_tls()

        def load_verify_locations(self, cafile=None, capath=None, cadata=None):
            pass

        def load_default_certs(self, purpose=None):
            pass

        def set_default_verify_paths(self):
            pass

        def load_cert_chain(self, certfile, keyfile=None, password=None):
            pass

        def set_ciphers(self, ciphers):
            pass

        def set_alpn_protocols(self, protocols):
            pass

        def set_npn_protocols(self, protocols):
            pass

        def set_ecdh_curve(self, name):
            pass

        def get_ca_certs(self, binary_form=False):
            return []

        def get_ciphers(self):
            return []

        def cert_store_stats(self):
            return {"x509": 0, "crl": 0, "x509_ca": 0}

    def create_default_context(purpose=None, *, cafile=None, capath=None, cadata=None):
        return SSLContext(module.PROTOCOL_TLS_CLIENT)

    def create_unverified_context(*args, **kwargs):
        context = SSLContext(module.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = 0
        return context

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
    module.HAS_TLSv1_3 = True
    module.HAS_NEVER_CHECK_COMMON_NAME = True
    # What the host's TLS is (rustls), in the form libraries check for.
    module.OPENSSL_VERSION = "OpenSSL 3.0.0 compatible (fabricks guest: the host makes TLS connections)"
    module.OPENSSL_VERSION_INFO = (3, 0, 0, 0, 0)
    module.OPENSSL_VERSION_NUMBER = 0x30000000
    module.create_default_context = create_default_context
    module._create_default_https_context = create_default_context
    module._create_unverified_context = create_unverified_context
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
    from fabricks_adapter import kdf, outbound

    kdf.install()
    run_thread_work_inline()
    outbound.install()
