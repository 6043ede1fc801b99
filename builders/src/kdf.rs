//! `hashlib.pbkdf2_hmac` and `hashlib.scrypt` for Python components, and
//! key derivation, digests and HMACs for Node components' `crypto`. The
//! guest's CPython has no OpenSSL and Node components' JavaScript is
//! interpreted, so these come from compiled code of our own:
//! `adapters/kdf/kdf.zig` (Zig's standard library hashes, HMAC and scrypt,
//! exported as the `fabricks:crypto/kdf` interface of `adapters/kdf/kdf.wit`)
//! is compiled with the pinned Zig (`zig`) into a component, once per Zig
//! version and source, in the cache; each Python and Node component, which
//! imports that interface, is then composed with it, so what comes out
//! imports only WASI and runs under any host.

use crate::process;
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const KDF_ZIG: &str = include_str!("../../adapters/kdf/kdf.zig");
pub const KDF_WIT: &str = include_str!("../../adapters/kdf/kdf.wit");
/// The interface Python and Node components import and the kdf component exports.
pub const INTERFACE: &str = "fabricks:crypto/kdf@0.1.0";

/// The kdf component for this fabricks, built into the cache on first use.
pub fn component(cache: &Path) -> Result<PathBuf> {
    let digest =
        format!("{:x}", Sha256::new().chain_update(crate::zig::ZIG_VERSION).chain_update(KDF_ZIG).chain_update(KDF_WIT).finalize());
    let dir = cache.join("toolchains").join(format!("kdf-{}", &digest[..16]));
    crate::reuse::provision(&dir, &digest, |dir| {
        // Zig only when there is something to compile.
        let zig = crate::zig::provision(cache)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("kdf.zig"), KDF_ZIG).context("writing kdf.zig")?;
        let core = dir.join("kdf-core.wasm");
        process::run(
            crate::zig::command(&zig, dir)
                .args(["build-exe", "kdf.zig", "-target", "wasm32-freestanding", "-mcpu", "generic+simd128+bulk_memory"])
                .args(["-fno-entry", "-rdynamic", "-O", "ReleaseFast", "-fstrip", "-femit-bin=kdf-core.wasm"]),
            "compiling adapters/kdf/kdf.zig for wasm32",
        )?;
        let core = std::fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
        let component = componentize(core)?;
        std::fs::write(dir.join("kdf.wasm"), component).context("writing the kdf component")?;
        let _ = std::fs::remove_dir_all(dir.join("zig-cache"));
        Ok(())
    })?;
    Ok(dir.join("kdf.wasm"))
}

/// The core module, with kdf.wit's `provider` world, as a component.
fn componentize(mut core: Vec<u8>) -> Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve.push_str("kdf.wit", KDF_WIT).context("parsing adapters/kdf/kdf.wit")?;
    let world = resolve.select_world(&[package], Some("provider")).context("finding the provider world in kdf.wit")?;
    wit_component::embed_component_metadata(&mut core, &resolve, world, wit_component::StringEncoding::UTF8)
        .context("embedding kdf.wit in the kdf module")?;
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&core)
        .context("reading the kdf module")?
        .encode()
        .context("making the kdf module a component (do its exports match kdf.wit?)")
}

/// Compose `app` (a component importing [`INTERFACE`]) with the kdf
/// component into `output`: the app's import is satisfied by the kdf
/// component's export, and nothing else changes.
pub fn compose(app: &Path, kdf: &Path, output: &Path) -> Result<()> {
    let config = wasm_compose::config::Config { definitions: vec![kdf.to_path_buf()], ..Default::default() };
    let composed = wasm_compose::composer::ComponentComposer::new(app, &config)
        .compose()
        .with_context(|| format!("composing {} with the kdf component {}", app.display(), kdf.display()))?;
    if composed.is_empty() {
        bail!("composing {} gave an empty component", app.display());
    }
    std::fs::write(output, composed).with_context(|| format!("writing {}", output.display()))
}
