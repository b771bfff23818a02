//! Files holding secrets the server generated and keeps in its data directory (the
//! development JWT secret, the development credentials key).
//!
//! They are written owner-only (0600), and their mode is checked on every read, not only
//! at creation: a file that group or others can read may already have been copied, and
//! one they can write may have been replaced, so it is refused with the fix in the
//! message rather than used. The check looks at the opened handle, so the file checked
//! is the file read. Keys the operator supplies (RS256 PEM files) are the operator's to
//! protect and are not checked here.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;

/// Mode bits that must be clear on a secret file: any access by group or others.
#[cfg(unix)]
const FOREIGN_ACCESS: u32 = 0o077;

/// Writes `contents` to a new or truncated file only its owner can read and write.
pub fn write(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

/// The contents of a secret file, `None` when there is none; an error when it cannot
/// be read or others may access it.
pub fn read(path: &Path) -> anyhow::Result<Option<String>> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot open {}", path.display()));
        }
    };
    let metadata = file
        .metadata()
        .with_context(|| format!("cannot read the mode of {}", path.display()))?;
    check_private(path, &metadata)?;
    let mut contents = String::new();
    file.read_to_string(&mut contents)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(contents))
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & FOREIGN_ACCESS != 0 {
        anyhow::bail!(
            "{} holds a secret but other users may access it (mode {mode:03o}); refusing to \
             use it. If it is still yours, `chmod 600` it; consider the secret known to others",
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &std::fs::Metadata) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_secret_file_is_read_back_only_while_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        assert!(read(&path).unwrap().is_none());
        write(&path, "s3cret").unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some("s3cret"));
        for loose in [0o640, 0o604, 0o620] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
            let error = format!("{:#}", read(&path).unwrap_err());
            assert!(error.contains("chmod 600"), "{error}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some("s3cret"));
    }
}
