//! The `fabricks:crypto/kdf` interface (kdf.wit) over Zig's standard
//! library (its hash functions, HMAC and scrypt): key derivation, and
//! one-shot digests and HMACs, exported by hand in the component model's canonical ABI: each
//! export takes its arguments as (pointer, length) pairs in this module's
//! memory, allocated by the caller through `cabi_realloc` and freed here,
//! and returns a pointer to a `result<list<u8>, string>`, whose buffer the
//! matching `cabi_post_` export frees.

const std = @import("std");
const crypto = std.crypto;

const allocator = std.heap.wasm_allocator;
const interface = "fabricks:crypto/kdf@0.1.0#";

/// result<list<u8>, string>: a tag, then a (pointer, length) pair.
const Result = extern struct { tag: u8, ptr: [*]u8, len: usize };
var returned: Result = .{ .tag = 0, .ptr = undefined, .len = 0 };

fn cabiRealloc(old: ?[*]u8, old_len: usize, alignment: usize, new_len: usize) callconv(.c) ?[*]u8 {
    _ = alignment; // the allocator aligns to 16, more than any canonical type needs
    if (new_len == 0) return @ptrFromInt(16);
    if (old) |p| {
        if (old_len > 0) {
            const grown = allocator.realloc(p[0..old_len], new_len) catch return null;
            return grown.ptr;
        }
    }
    const fresh = allocator.alloc(u8, new_len) catch return null;
    return fresh.ptr;
}

fn free(ptr: [*]u8, len: usize) void {
    if (len > 0) allocator.free(ptr[0..len]);
}

fn ok(bytes: []u8) *Result {
    returned = .{ .tag = 0, .ptr = bytes.ptr, .len = bytes.len };
    return &returned;
}

fn err(message: []const u8) *Result {
    const copy = allocator.dupe(u8, message) catch {
        returned = .{ .tag = 1, .ptr = @constCast("out of memory".ptr), .len = 0 };
        return &returned;
    };
    returned = .{ .tag = 1, .ptr = copy.ptr, .len = copy.len };
    return &returned;
}

/// PBKDF2 (RFC 8018, section 5.2) with HMAC over `Hash`, from Zig's HMAC
/// and hash functions. Unlike `std.crypto.pwhash.pbkdf2`, which sets up the
/// HMAC key anew in every iteration, the inner and outer hash states keyed
/// with the password are made once and copied, as OpenSSL does: two
/// compression calls per iteration instead of four. (The caller checks
/// `iterations >= 1`, `out.len >= 1` and `out.len <= 2^31 - 1`.)
fn pbkdf2(comptime Hash: type, out: []u8, password: []const u8, salt: []const u8, iterations: u32) void {
    const Hmac = crypto.auth.hmac.Hmac(Hash);
    const length = Hmac.mac_length;
    const keyed = Hmac.init(password);
    var outer_keyed = Hash.init(.{});
    outer_keyed.update(&keyed.o_key_pad);

    var block: u32 = 1;
    var offset: usize = 0;
    while (offset < out.len) : (block += 1) {
        var counter: [4]u8 = undefined;
        std.mem.writeInt(u32, &counter, block, .big);
        var first = keyed;
        first.update(salt);
        first.update(&counter);
        var u: [length]u8 = undefined;
        first.final(&u);
        var t = u;
        var round: u32 = 1;
        while (round < iterations) : (round += 1) {
            var inner = keyed.hash;
            inner.update(&u);
            var inner_digest: [Hash.digest_length]u8 = undefined;
            inner.final(&inner_digest);
            var outer = outer_keyed;
            outer.update(&inner_digest);
            outer.final(&u);
            for (&t, u) |*a, b| a.* ^= b;
        }
        const n = @min(length, out.len - offset);
        @memcpy(out[offset..][0..n], t[0..n]);
        offset += n;
    }
}

fn pbkdf2Hmac(
    hash_ptr: [*]u8,
    hash_len: usize,
    password_ptr: [*]u8,
    password_len: usize,
    salt_ptr: [*]u8,
    salt_len: usize,
    iterations: u32,
    dklen: u32,
) callconv(.c) *Result {
    defer free(hash_ptr, hash_len);
    defer free(password_ptr, password_len);
    defer free(salt_ptr, salt_len);
    const hash = hash_ptr[0..hash_len];
    const password = password_ptr[0..password_len];
    const salt = salt_ptr[0..salt_len];
    const out = allocator.alloc(u8, dklen) catch return err("out of memory");
    const hash_fns = crypto.hash;
    if (std.mem.eql(u8, hash, "sha256"))
        pbkdf2(hash_fns.sha2.Sha256, out, password, salt, iterations)
    else if (std.mem.eql(u8, hash, "sha1"))
        pbkdf2(hash_fns.Sha1, out, password, salt, iterations)
    else if (std.mem.eql(u8, hash, "sha512"))
        pbkdf2(hash_fns.sha2.Sha512, out, password, salt, iterations)
    else if (std.mem.eql(u8, hash, "sha384"))
        pbkdf2(hash_fns.sha2.Sha384, out, password, salt, iterations)
    else if (std.mem.eql(u8, hash, "sha224"))
        pbkdf2(hash_fns.sha2.Sha224, out, password, salt, iterations)
    else if (std.mem.eql(u8, hash, "md5"))
        pbkdf2(hash_fns.Md5, out, password, salt, iterations)
    else {
        allocator.free(out);
        return err("unsupported hash type");
    }
    return ok(out);
}

fn scrypt(
    password_ptr: [*]u8,
    password_len: usize,
    salt_ptr: [*]u8,
    salt_len: usize,
    log_n: u8,
    r: u32,
    p: u32,
    dklen: u32,
) callconv(.c) *Result {
    defer free(password_ptr, password_len);
    defer free(salt_ptr, salt_len);
    if (log_n == 0 or log_n > 63 or r == 0 or r >= 1 << 30 or p == 0 or p >= 1 << 30) return err("invalid parameters");
    const out = allocator.alloc(u8, dklen) catch return err("out of memory");
    const params = crypto.pwhash.scrypt.Params{ .ln = @intCast(log_n), .r = @intCast(r), .p = @intCast(p) };
    crypto.pwhash.scrypt.kdf(allocator, out, password_ptr[0..password_len], salt_ptr[0..salt_len], params) catch |e| {
        allocator.free(out);
        return err(@errorName(e));
    };
    return ok(out);
}

/// `data`'s digest with `Hash`, or its HMAC with `key`.
fn compute(comptime Hash: type, key: ?[]const u8, data: []const u8) ![]u8 {
    const out = try allocator.alloc(u8, Hash.digest_length);
    if (key) |k|
        crypto.auth.hmac.Hmac(Hash).create(out[0..Hash.digest_length], data, k)
    else
        Hash.hash(data, out[0..Hash.digest_length], .{});
    return out;
}

/// `compute` with the hash named `name` (kdf.wit's names).
fn computeNamed(name: []const u8, key: ?[]const u8, data: []const u8) *Result {
    const h = crypto.hash;
    const out = (if (std.mem.eql(u8, name, "sha256"))
        compute(h.sha2.Sha256, key, data)
    else if (std.mem.eql(u8, name, "sha1"))
        compute(h.Sha1, key, data)
    else if (std.mem.eql(u8, name, "sha512"))
        compute(h.sha2.Sha512, key, data)
    else if (std.mem.eql(u8, name, "sha384"))
        compute(h.sha2.Sha384, key, data)
    else if (std.mem.eql(u8, name, "sha224"))
        compute(h.sha2.Sha224, key, data)
    else if (std.mem.eql(u8, name, "md5"))
        compute(h.Md5, key, data)
    else
        return err("unsupported hash type")) catch return err("out of memory");
    return ok(out);
}

fn digest(hash_ptr: [*]u8, hash_len: usize, data_ptr: [*]u8, data_len: usize) callconv(.c) *Result {
    defer free(hash_ptr, hash_len);
    defer free(data_ptr, data_len);
    return computeNamed(hash_ptr[0..hash_len], null, data_ptr[0..data_len]);
}

fn hmac(
    hash_ptr: [*]u8,
    hash_len: usize,
    key_ptr: [*]u8,
    key_len: usize,
    data_ptr: [*]u8,
    data_len: usize,
) callconv(.c) *Result {
    defer free(hash_ptr, hash_len);
    defer free(key_ptr, key_len);
    defer free(data_ptr, data_len);
    return computeNamed(hash_ptr[0..hash_len], key_ptr[0..key_len], data_ptr[0..data_len]);
}

fn postReturn(result: *Result) callconv(.c) void {
    free(result.ptr, result.len);
}

comptime {
    @export(&cabiRealloc, .{ .name = "cabi_realloc" });
    @export(&pbkdf2Hmac, .{ .name = interface ++ "pbkdf2-hmac" });
    @export(&scrypt, .{ .name = interface ++ "scrypt" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ interface ++ "pbkdf2-hmac" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ interface ++ "scrypt" });
    @export(&digest, .{ .name = interface ++ "digest" });
    @export(&hmac, .{ .name = interface ++ "hmac" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ interface ++ "digest" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ interface ++ "hmac" });
}
