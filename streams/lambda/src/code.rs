//! Function code on disk: zips unpacked under the functions directory,
//! named by their digest.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::Error;

/// The most a zip may unpack to (Lambda's 250 MB).
pub const UNZIPPED_BYTES_MAX: u64 = 250 * 1024 * 1024;

/// Unpacked code: where it is and how Lambda describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// The directory.
    pub dir: PathBuf,
    /// Base64 of the SHA-256 of the zip (or of the local path).
    pub sha256: String,
    /// Bytes of the zip.
    pub size: u64,
    /// Whether `dir` is the user's own directory.
    pub local: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpacks `zip` into `<root>/<function>/<sha hex>/` (reusing it if it is
/// there already).
pub fn unpack(root: &Path, function: &str, zip: &[u8]) -> Result<Code, Error> {
    let digest = Sha256::digest(zip);
    let dir = root.join(function).join(hex(&digest));
    let code = Code {
        dir: dir.clone(),
        sha256: base64::engine::general_purpose::STANDARD.encode(digest),
        size: zip.len() as u64,
        local: false,
    };
    if dir.is_dir() {
        return Ok(code);
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| Error::BadZip)?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|_| Error::BadZip)?;
        total = total.saturating_add(f.size());
        if f.enclosed_name().is_none() {
            return Err(Error::BadZip);
        }
    }
    if total > UNZIPPED_BYTES_MAX {
        return Err(Error::CodeTooLarge(total));
    }
    let parent = dir.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(Error::Io)?;
    // Unpacked beside its final place and renamed, so that a directory
    // named by a digest is always complete.
    let staging = parent.join(format!(
        ".unpack-{}-{}",
        std::process::id(),
        hex(&digest[..8])
    ));
    let _ = std::fs::remove_dir_all(&staging);
    if let Err(e) = archive.extract(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        tracing::debug!(error = %e, "cannot unpack function code");
        return Err(Error::BadZip);
    }
    if let Err(e) = std::fs::rename(&staging, &dir) {
        let _ = std::fs::remove_dir_all(&staging);
        if !dir.is_dir() {
            return Err(Error::Io(e));
        }
    }
    Ok(code)
}

/// Code in the user's own directory (Tarn's `tarn-local` extension).
pub fn local(path: &str) -> Result<Code, Error> {
    let dir = PathBuf::from(path);
    if !dir.is_absolute() || !dir.is_dir() {
        return Err(Error::InvalidParameter(format!(
            "Tarn local code: S3Key must be an absolute path to a directory, not {path}"
        )));
    }
    let digest = Sha256::digest(path.as_bytes());
    Ok(Code {
        dir,
        sha256: base64::engine::general_purpose::STANDARD.encode(digest),
        size: 0,
        local: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &str, u32)]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, body, mode) in files {
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, opts).expect("start");
            w.write_all(body.as_bytes()).expect("write");
        }
        w.finish().expect("finish");
        buf.into_inner()
    }

    #[test]
    fn zips_unpack_with_their_modes_and_bad_ones_are_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let z = zip_of(&[("bootstrap", "#!/bin/sh\n", 0o755), ("a/b.txt", "x", 0o644)]);
        let code = unpack(root.path(), "f", &z).expect("unpacks");
        assert!(code.dir.join("a/b.txt").is_file());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(code.dir.join("bootstrap"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(code.sha256.len(), 44);
        assert!(matches!(
            unpack(root.path(), "f", b"not a zip"),
            Err(Error::BadZip)
        ));
        let evil = zip_of(&[("../escape", "x", 0o644)]);
        assert!(matches!(
            unpack(root.path(), "g", &evil),
            Err(Error::BadZip)
        ));
        assert!(!root.path().join("escape").exists());
    }
}
