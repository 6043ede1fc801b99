# hashlib.pbkdf2_hmac and hashlib.scrypt: results and errors, one per line.
# tests/python_apps.rs runs this in a component (through exec) and with the
# python3 on PATH (CPython with OpenSSL), and compares what they print.
import hashlib

calls = [
    lambda: hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 4096),
    lambda: hashlib.pbkdf2_hmac("sha1", b"password", b"salt", 2, 25),
    lambda: hashlib.pbkdf2_hmac("SHA512", bytearray(b"pw"), memoryview(b"s"), 10, 100),
    lambda: hashlib.pbkdf2_hmac("sha384", b"p" * 200, b"s" * 100, 3, 7),
    lambda: hashlib.pbkdf2_hmac("sha224", b"pw", b"", 5),
    lambda: hashlib.pbkdf2_hmac("md5", b"", b"", 1),
    lambda: hashlib.pbkdf2_hmac(hash_name="sha256", password=b"k", salt=b"s", iterations=1, dklen=None),
    lambda: hashlib.scrypt(b"password", salt=b"NaCl", n=1024, r=8, p=16),
    lambda: hashlib.scrypt(b"", salt=b"", n=16, r=1, p=1, dklen=64),
    lambda: hashlib.scrypt(b"pleaseletmein", salt=b"SodiumChloride", n=2**14, r=8, p=1, dklen=16),
    lambda: hashlib.scrypt(b"secret", salt=b"salt", n=2**15, r=8, p=1, maxmem=132 * 2**15 * 8),
    lambda: hashlib.pbkdf2_hmac("sha256", "text", b"s", 1),
    lambda: hashlib.pbkdf2_hmac("sha256", b"p", b"s", 0),
    lambda: hashlib.pbkdf2_hmac("sha256", b"p", b"s", 2**31),
    lambda: hashlib.pbkdf2_hmac("sha256", b"p", b"s", 1, 0),
    lambda: hashlib.pbkdf2_hmac("sha256", b"p", b"s", 1.5),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=3, r=1, p=1),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=1, r=1, p=1),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=16, r=1, p=1, dklen=0),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=16, r=1, p=1, maxmem=-1),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=16, r=0, p=1),
    lambda: hashlib.scrypt(b"p", salt=b"s", n=2**15, r=8, p=1),
]
for call in calls:
    try:
        print(call().hex())
    except Exception as error:
        print(f"{type(error).__name__}: {error}")
try:
    hashlib.pbkdf2_hmac("nope", b"p", b"s", 1)
except ValueError:
    print("unsupported digest: a ValueError")
print(sorted(name for name in ("pbkdf2_hmac", "scrypt") if name in hashlib.__all__))
