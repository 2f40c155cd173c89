//! Passwords and tokens: kept out of `Debug` and logs, read from a file
//! (or systemd's credentials folder) when given as `*_file`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A password or token: never shown by `Debug` or in logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where a `*_file` path points: an absolute path as it is; a relative one
/// in `$CREDENTIALS_DIRECTORY` when systemd provides it and the file is
/// there, else beside the configuration file.
pub fn resolve_secret_path(path: &Path, base: Option<&Path>) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let candidate = Path::new(&dir).join(path);
        if candidate.exists() {
            return candidate;
        }
    }
    match base {
        Some(base) => base.join(path),
        None => path.to_owned(),
    }
}
