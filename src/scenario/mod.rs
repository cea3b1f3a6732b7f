//! Parse: scenario files into the [`Scenario`] model. Knows YAML and the model, nothing of HTTP
//! beyond header-name syntax; does no I/O but reading the files it is given.

mod load;
mod model;
pub mod template;

pub use load::{load_file, load_paths, load_str, scenario_files, LoadError};
pub use model::*;
pub use template::{Template, Vars};
