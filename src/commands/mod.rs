//! One module per subcommand, plus what they share.

pub mod build;
pub mod convert;
pub mod exec;
pub mod plugin;
pub mod project;
pub mod serve_args;
pub mod trigger;
pub mod up;
pub mod watch;
