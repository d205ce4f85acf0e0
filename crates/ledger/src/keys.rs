//! The Ed25519 key that signs tree heads.
//!
//! Created on first start and stored with owner-only permissions (0600), or
//! read from a path the operator gives. The file holds the 32-byte secret
//! seed as 64 hex characters and a newline.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::SigningKey;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the signing key {path}: {error}; check the path and its permissions")]
    Read { path: String, error: std::io::Error },
    #[error("cannot create the signing key {path}: {error}; check that the directory exists and is writable")]
    Write { path: String, error: std::io::Error },
    #[error("the signing key {path} is not 64 hex characters; restore it from backup (a new key cannot re-sign old tree heads)")]
    Malformed { path: String },
    #[error("the signing key {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    Permissions { path: String, mode: u32 },
    #[error("the operating system gave no randomness: {0}")]
    Random(String),
}

/// Loads the key at `path`, creating it when the file does not exist.
pub fn load_or_create(path: &Path) -> Result<SigningKey, KeyError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_permissions(path)?;
            let seed = hex::decode(text.trim()).map_err(|_| KeyError::Malformed { path: shown.clone() })?;
            let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::Malformed { path: shown })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(error) => Err(KeyError::Read { path: shown, error }),
    }
}

fn create(path: &Path) -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|error| KeyError::Random(error.to_string()))?;
    let shown = path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|error| KeyError::Write { path: shown.clone(), error })?;
    file.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| KeyError::Write { path: shown, error })?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata =
        std::fs::metadata(path).map_err(|error| KeyError::Read { path: path.display().to_string(), error })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: path.display().to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_owner_only_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.key");
        let first = load_or_create(&path).expect("create");
        let second = load_or_create(&path).expect("load");
        assert_eq!(first.to_bytes(), second.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(load_or_create(&path), Err(KeyError::Permissions { .. })));
        }
    }

    #[test]
    fn malformed_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.key");
        std::fs::write(&path, "not hex\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert!(matches!(load_or_create(&path), Err(KeyError::Malformed { .. })));
    }
}
