//! Running the external tools a build needs (python3, pip, componentize-py),
//! with their output captured and shown only when they fail.

use anyhow::{Context, Result, bail};
use std::process::{Command, Output};

/// Run `command`; on failure, the error says what was being done and shows
/// the tail of the tool's output.
pub fn run(command: &mut Command, doing: &str) -> Result<Output> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().with_context(|| format!("{doing}: cannot start `{program}`"))?;
    if !output.status.success() {
        bail!("{doing} failed ({}):\n{}", output.status, tail(&output, 40));
    }
    Ok(output)
}

/// The last `lines` lines of a command's stdout and stderr.
pub fn tail(output: &Output, lines: usize) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}

/// Whether `program` can be started (it is on PATH).
pub fn is_available(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}
