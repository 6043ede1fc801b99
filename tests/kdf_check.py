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
# The published test vectors (RFC 6070 for PBKDF2-HMAC-SHA1, RFC 7914 for
# scrypt), checked here so that both sides are held to them, not only to
# each other.
VECTORS = [
    (lambda: hashlib.pbkdf2_hmac("sha1", b"password", b"salt", 1, 20), "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
    (lambda: hashlib.pbkdf2_hmac("sha1", b"password", b"salt", 2, 20), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
    (lambda: hashlib.pbkdf2_hmac("sha1", b"password", b"salt", 4096, 20), "4b007901b765489abead49d926f721d065a429c1"),
    (lambda: hashlib.pbkdf2_hmac("sha1", b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25),
     "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"),
    (lambda: hashlib.pbkdf2_hmac("sha1", b"pass\0word", b"sa\0lt", 4096, 16), "56fa6aa75548099dcc37d7f03425e0c3"),
    (lambda: hashlib.scrypt(b"", salt=b"", n=16, r=1, p=1, dklen=64),
     "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
    (lambda: hashlib.scrypt(b"password", salt=b"NaCl", n=1024, r=8, p=16, dklen=64),
     "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
    (lambda: hashlib.scrypt(b"pleaseletmein", salt=b"SodiumChloride", n=16384, r=8, p=1, dklen=64),
     "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
]
for number, (call, expected) in enumerate(VECTORS):
    print(f"vector {number}:", "ok" if call().hex() == expected else f"WRONG {call().hex()}")
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
