//! One module per subcommand, plus what they share.

pub mod build;
pub mod project;
pub mod up;
