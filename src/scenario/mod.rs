//! Parse: scenario files into the [`Scenario`] model. Knows YAML and the model, nothing of HTTP
//! beyond header-name syntax; does no I/O but reading the files it is given.

pub mod builtin;
mod load;
mod model;
mod profile;
pub mod schema;
mod shape;
pub mod template;
mod walk;
pub use walk::{Member, Visit, VisitMut};

pub use load::{
    load_file, load_file_lenient, load_lenient, load_paths, load_profile, load_profile_str,
    load_str, scenario_files, Lenient, LoadError, MAX_ERRORS,
};
pub use model::*;
pub use profile::{
    CreateBy, DeleteStyle, Existing, KeyedEndpoint, OwnRule, Profile, ReplaceBy, UrlFrom,
    VersionAt, VersionRead, VersionSend,
};
pub use template::{Template, Vars};
