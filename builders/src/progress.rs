//! The build's voice: numbered steps on stderr, each with how long it took.

use std::time::Instant;

pub struct Progress {
    total: usize,
    current: usize,
    quiet: bool,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Self {
        Self { total, current: 0, quiet }
    }

    /// Say a line that is not a step.
    pub fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// Announce the next step; call [`Step::done`] with its outcome.
    pub fn step(&mut self, what: &str) -> Step {
        self.current += 1;
        if !self.quiet {
            eprintln!("  [{}/{}] {what} ...", self.current, self.total);
        }
        Step { started: Instant::now(), quiet: self.quiet }
    }
}

pub struct Step {
    started: Instant,
    quiet: bool,
}

impl Step {
    pub fn done(self, outcome: &str) {
        if !self.quiet {
            eprintln!("        {outcome} ({:.1} s)", self.started.elapsed().as_secs_f64());
        }
    }
}
