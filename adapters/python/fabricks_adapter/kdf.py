"""`hashlib.pbkdf2_hmac` and `hashlib.scrypt`, as CPython has them when it is
built with OpenSSL: the same signatures, checks and errors. The guest's
CPython is built without OpenSSL, so the work is done by compiled code the
build composes into the component (`adapters/kdf/`, imported here as the
`fabricks:crypto/kdf` interface)."""

import hashlib

from componentize_py_types import Err
from wit_world.imports import kdf

_INT_MAX = 2**31 - 1
_DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
# Other spellings OpenSSL accepts for these digests.
_ALIASES = {"sha-1": "sha1", "sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512",
            "sha2-224": "sha224", "sha2-256": "sha256", "sha2-384": "sha384", "sha2-512": "sha512"}

try:
    from _hashlib import UnsupportedDigestmodError
except ImportError:

    class UnsupportedDigestmodError(ValueError):
        pass


def _bytes(value, argument):
    if isinstance(value, str):
        raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'")
    try:
        return bytes(memoryview(value))
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'") from None


def _integer(value, what):
    if not isinstance(value, int):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    return value


def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
    """Password based key derivation function 2 (PKCS #5 v2.0) with HMAC as
    pseudorandom function."""
    if not isinstance(hash_name, str):
        raise TypeError(f"pbkdf2_hmac() argument 'hash_name' must be str, not {type(hash_name).__name__}")
    password = _bytes(password, "password")
    salt = _bytes(salt, "salt")
    iterations = _integer(iterations, "iterations")
    if iterations < 1:
        raise ValueError("iteration value must be greater than 0.")
    if iterations > _INT_MAX:
        raise OverflowError("iteration value is too great.")
    name = hash_name.lower()
    name = _ALIASES.get(name, name)
    if name not in _DIGEST_SIZES:
        raise UnsupportedDigestmodError(f"unsupported hash type {hash_name}")
    if dklen is None:
        dklen = _DIGEST_SIZES[name]
    dklen = _integer(dklen, "dklen")
    if dklen < 1:
        raise ValueError("key length must be greater than 0.")
    if dklen > _INT_MAX:
        raise OverflowError("key length is too great.")
    try:
        return kdf.pbkdf2_hmac(name, password, salt, iterations, dklen)
    except Err as error:
        raise ValueError(f"pbkdf2_hmac failed: {error.value}") from None


# OpenSSL's limits for scrypt (crypto/kdf's scrypt_alg).
_SCRYPT_PR_MAX = (1 << 30) - 1
_SCRYPT_MAX_MEM = 32 * 1024 * 1024
_UINT64_MAX = 2**64 - 1


def _scrypt_parameters_problem(n, r, p, maxmem):
    invalid = "Invalid parameter combination for n, r, p, maxmem."
    if r == 0 or p == 0 or n < 2 or n & (n - 1):
        return invalid
    if p > _SCRYPT_PR_MAX // r:
        return invalid
    if 16 * r <= 63 and n >= 1 << (16 * r):
        return invalid
    block_length = p * 128 * r
    if block_length > _INT_MAX:
        return invalid
    if n + 2 > (_UINT64_MAX // 128) // r:
        return invalid
    v_length = 32 * r * (n + 2) * 4
    if block_length > _UINT64_MAX - v_length:
        return invalid
    if block_length + v_length > (maxmem or _SCRYPT_MAX_MEM):
        return "[digital envelope routines] memory limit exceeded"
    return None


def scrypt(password, *, salt, n, r, p, maxmem=0, dklen=64):
    """scrypt password-based key derivation function."""
    password = _bytes(password, "password")
    salt = _bytes(salt, "salt")
    for value in (n, r, p, maxmem, dklen):
        _integer(value, "")
    if n < 2 or n & (n - 1):
        raise ValueError("n must be a power of 2.")
    if maxmem < 0 or maxmem > _INT_MAX:
        raise ValueError(f"maxmem must be positive and smaller than {_INT_MAX}")
    if dklen < 1 or dklen > _INT_MAX:
        raise ValueError(f"dklen must be greater than 0 and smaller than {_INT_MAX}")
    if r > 2**32 - 1 or p > 2**32 - 1:
        raise ValueError("Invalid parameter combination for n, r, p, maxmem.")
    problem = _scrypt_parameters_problem(n, r, p, maxmem)
    if problem:
        # CPython reports OpenSSL 3's reason when there is one.
        raise ValueError(problem)
    try:
        return kdf.scrypt(password, salt, n.bit_length() - 1, r, p, dklen)
    except Err as error:
        raise ValueError(f"scrypt failed: {error.value}") from None


def install():
    """Give `hashlib` the functions its OpenSSL would have (unless it has them)."""
    if not hasattr(hashlib, "pbkdf2_hmac"):
        hashlib.pbkdf2_hmac = pbkdf2_hmac
        hashlib.__all__ = tuple(hashlib.__all__) + ("pbkdf2_hmac",)
    if not hasattr(hashlib, "scrypt"):
        # As in CPython's hashlib: there, but not in __all__.
        hashlib.scrypt = scrypt
