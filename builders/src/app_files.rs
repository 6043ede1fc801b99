//! Which files of an app directory make up the app: what is staged into the
//! build and hashed for the no-op check. Build outputs, hidden folders,
//! virtualenvs, `node_modules` and bytecode caches are not part of it.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The app's files, relative to `dir`, sorted.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    walk(dir, Path::new(""), &mut files)?;
    files.sort();
    Ok(files)
}

fn walk(root: &Path, relative: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(relative);
    let entries = std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = relative.join(&*name);
        let kind = entry.file_type().with_context(|| format!("reading {}", root.join(&path).display()))?;
        if kind.is_dir() {
            let skipped =
                name.starts_with('.') || name == "__pycache__" || name == "node_modules" || root.join(&path).join("pyvenv.cfg").exists();
            if !skipped {
                walk(root, &path, files)?;
            }
        } else if kind.is_file() && !name.ends_with(".pyc") {
            files.push(path);
        }
    }
    Ok(())
}

/// Feed every app file's path and content into `hasher`.
pub fn hash_into(dir: &Path, hasher: &mut Sha256) -> Result<()> {
    for relative in list(dir)? {
        let content = std::fs::read(dir.join(&relative)).with_context(|| format!("reading {}", dir.join(&relative).display()))?;
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(())
}

/// Copy the app's files into `target` (made fresh).
pub fn copy_to(dir: &Path, target: &Path) -> Result<usize> {
    if target.exists() {
        std::fs::remove_dir_all(target).with_context(|| format!("clearing {}", target.display()))?;
    }
    let files = list(dir)?;
    for relative in &files {
        let to = target.join(relative);
        std::fs::create_dir_all(to.parent().unwrap()).with_context(|| format!("creating {}", to.parent().unwrap().display()))?;
        std::fs::copy(dir.join(relative), &to).with_context(|| format!("copying {} to {}", dir.join(relative).display(), to.display()))?;
    }
    Ok(files.len())
}
