//! `spin-fabricks plugin package`: the Spin plugin tarballs and installable
//! manifests for this machine's platform.
//!
//! One executable serves both plugins: `fabricks` (`spin fabricks ...`) and
//! `trigger-fabricks` (started by `spin up` for `[[trigger.fabricks]]`); each
//! gets its own tarball (the executable at the root, named as the plugin) and
//! its own manifest with an absolute `file://` URL and the tarball's sha256,
//! ready for `spin plugins install --file <manifest> --yes`.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Build the plugin tarballs and local manifests for this platform.
    Package(PackageArgs),
}

#[derive(Args)]
pub struct PackageArgs {
    /// Where the tarballs and manifests go.
    #[arg(short, long, default_value = "target/spin-plugin")]
    pub output: PathBuf,
    /// The executable to package [default: this one].
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
}

pub const PLUGIN_NAMES: [&str; 2] = ["fabricks", "trigger-fabricks"];

pub fn run(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::Package(args) => package(args),
    }
}

fn package(args: PackageArgs) -> Result<()> {
    let binary = match args.binary {
        Some(path) => path,
        None => std::env::current_exe().context("finding this executable")?,
    };
    let (os, arch) = platform()?;
    std::fs::create_dir_all(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    let output = std::fs::canonicalize(&args.output)?;
    let version = env!("CARGO_PKG_VERSION");
    for name in PLUGIN_NAMES {
        let tarball = output.join(format!("{name}-v{version}-{os}-{arch}.tar.gz"));
        write_tarball(&binary, name, &tarball)?;
        let digest = format!("{:x}", Sha256::digest(std::fs::read(&tarball)?));
        let manifest = serde_json::json!({
            "name": name,
            "description": description(name),
            "homepage": "https://github.com/fabricks-dev/fabricks",
            "version": version,
            "spinCompatibility": ">=3.0",
            "license": "Apache-2.0",
            "packages": [{
                "os": os,
                "arch": arch,
                "url": fabricks_builders::lock::file_url(&tarball),
                "sha256": digest,
            }],
        });
        let manifest_path = output.join(format!("{name}.json"));
        std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)? + "\n")
            .with_context(|| format!("writing {}", manifest_path.display()))?;
        eprintln!("fabricks: wrote {} and {}", tarball.display(), manifest_path.display());
    }
    eprintln!(
        "Install with: spin plugins install --file {}/fabricks.json --yes (and the same for trigger-fabricks.json)",
        output.display()
    );
    Ok(())
}

fn description(name: &str) -> &'static str {
    if name == "fabricks" {
        "Build and serve unchanged Flask, Django, FastAPI, Express and Hono apps as wasi:http components"
    } else {
        "The fabricks trigger: serves [[trigger.fabricks]] apps under `spin up`"
    }
}

/// Spin's names for this platform.
fn platform() -> Result<(&'static str, &'static str)> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "macos",
        "windows" => "windows",
        other => bail!("Spin has no plugin packages for the OS {other:?}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "aarch64",
        other => bail!("Spin has no plugin packages for the architecture {other:?}"),
    };
    Ok((os, arch))
}

/// A gzip tar holding `binary` at its root as `name`, executable.
fn write_tarball(binary: &Path, name: &str, tarball: &Path) -> Result<()> {
    let file = std::fs::File::create(tarball).with_context(|| format!("creating {}", tarball.display()))?;
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::default()));
    let mut executable = std::fs::File::open(binary).with_context(|| format!("reading {}", binary.display()))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(executable.metadata()?.len());
    header.set_mode(0o755);
    header.set_mtime(0);
    header.set_cksum();
    builder.append_data(&mut header, name, &mut executable).context("writing the tarball")?;
    builder.into_inner()?.finish().context("finishing the tarball")?;
    Ok(())
}
