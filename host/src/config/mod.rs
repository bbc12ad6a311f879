//! Configuration: typed, validated, with `${VAR}` substitution and
//! environment overrides. Nothing else in the host reads the environment.

mod aliases;
mod load;
mod render;
mod schema;
mod substitute;
mod units;
mod validate;

pub use aliases::{ALIASES, Alias, REFUSED, Translation};
pub use load::{ConfigEnv, ConfigError, ENV_OVERRIDE_PREFIX, load, parse};
pub use render::render_yaml;
pub use schema::*;
pub use substitute::SubstituteError;
pub use units::{ByteSize, Secret};
