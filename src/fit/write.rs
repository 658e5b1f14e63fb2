//! Writing output files atomically: the whole file or nothing, and never
//! over an existing file unless asked.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and overwriting was not asked for.
    #[error("{0}: already exists; pass --force to overwrite it")]
    Exists(PathBuf),
    /// The target is a folder, a device or a link, not a regular file.
    #[error("{0}: is not a regular file; name a file to write")]
    NotAFile(PathBuf),
    /// Two outputs were given the same path.
    #[error("{0}: is named for both the scenario and the report; give them different paths")]
    SamePath(PathBuf),
    /// The file system refused.
    #[error("{file}: cannot write: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// then moves it into place. Without `force`, an existing file is left
/// alone and [`WriteError::Exists`] returned, even if it appears while
/// writing (the final step is a hard link, which refuses to replace).
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), WriteError> {
    stage(path, bytes, force)?.commit()
}

/// An output written in full to a temporary file beside its target, not
/// yet moved into place. Dropping it removes the temporary file, so
/// staging several outputs and committing them only when all are staged
/// leaves every existing file alone on any failure.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    force: bool,
}

/// Checks the target and writes `bytes` to a temporary file beside it.
///
/// The target must be absent, or, with `force`, a regular file: a folder,
/// a device or a symbolic link is never replaced.
pub fn stage(path: &Path, bytes: &[u8], force: bool) -> Result<Staged, WriteError> {
    let io = |source| WriteError::Io {
        file: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !force {
            return Err(WriteError::Exists(path.to_path_buf()));
        }
        if !meta.file_type().is_file() {
            return Err(WriteError::NotAFile(path.to_path_buf()));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let staged = Staged {
        tmp,
        path: path.to_path_buf(),
        force,
    };
    let mut f = std::fs::File::create(&staged.tmp).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)?;
    Ok(staged)
}

impl Staged {
    /// Moves the file into place (a hard link without `force`, which
    /// refuses to replace a file that appeared meanwhile).
    pub fn commit(self) -> Result<(), WriteError> {
        let result = if self.force {
            std::fs::rename(&self.tmp, &self.path)
        } else {
            std::fs::hard_link(&self.tmp, &self.path)
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(WriteError::Exists(self.path.clone()))
            }
            Err(source) => Err(WriteError::Io {
                file: self.path.clone(),
                source,
            }),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Gone already after a rename; after a hard link, the extra name.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = std::env::temp_dir().join(format!("revpipe-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("s.json");
        let _ = std::fs::remove_file(&file);
        write_atomic(&file, b"one", false).unwrap();
        let err = write_atomic(&file, b"two", false).unwrap_err();
        assert!(matches!(err, WriteError::Exists(_)));
        assert_eq!(std::fs::read(&file).unwrap(), b"one");
        write_atomic(&file, b"three", true).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"three");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn never_replaces_what_is_not_a_regular_file() {
        let dir = std::env::temp_dir().join(format!("revpipe-write-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let err = write_atomic(&dir.join("sub"), b"x", true).unwrap_err();
        assert!(matches!(err, WriteError::NotAFile(_)), "{err}");
        assert!(dir.join("sub").is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_staged_file_that_is_dropped_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("revpipe-write-drop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let staged = stage(&dir.join("a.json"), b"x", false).unwrap();
        drop(staged);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
