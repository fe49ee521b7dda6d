//! The output folder. The site is written into a staging folder beside it and renamed into
//! place whole, so a reader (or a static server) sees the old site or the new one, and a failed
//! `lab10 site` leaves no half site behind. An existing folder is replaced only with `--force`,
//! and only if it is a site lab10 wrote (it has `site.json`) or empty: never a folder of other
//! files.

use std::path::Path;

use lab10_runs::Error;
use tempfile::TempDir;

use crate::manifest::MANIFEST;

/// Whether `out` may be written: absent, empty, or (with `force`) a site written earlier.
pub fn check_out(out: &Path, force: bool) -> Result<(), Error> {
    let meta = match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::read(out, e)),
        Ok(meta) => meta,
    };
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "{} exists and is not a folder; pass another --out",
            out.display()
        )));
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| Error::read(out, e))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    if !out.join(MANIFEST).is_file() {
        return Err(Error::Invalid(format!(
            "{} exists and is not a site lab10 wrote (it has no {MANIFEST}); not replacing it, \
             even with --force. Pass another --out, or empty it yourself.",
            out.display()
        )));
    }
    if !force {
        return Err(Error::Invalid(format!(
            "{} exists (a site written earlier); pass --force to replace it",
            out.display()
        )));
    }
    Ok(())
}

/// An empty staging folder in `out`'s parent (created if missing), removed if dropped.
pub fn staging(out: &Path) -> Result<TempDir, Error> {
    let parent = parent(out);
    std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
    tempfile::Builder::new()
        .prefix(".lab10-site-")
        .tempdir_in(&parent)
        .map_err(|e| Error::write(&parent, e))
}

/// Renames the finished `staging` folder to `out`, replacing what [`check_out`] allowed.
pub fn swap_in(staging: TempDir, out: &Path) -> Result<(), Error> {
    // A temporary folder is private (0700); a site is for everyone to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::write(staging.path(), e))?;
    }
    if !out.exists() {
        return std::fs::rename(staging.path(), out)
            .map(|()| {
                let _ = staging.keep();
            })
            .map_err(|e| Error::write(out, e));
    }
    // The old site moves aside (into a folder removed when dropped), the new one in.
    let old = tempfile::Builder::new()
        .prefix(".lab10-site-old-")
        .tempdir_in(parent(out))
        .map_err(|e| Error::write(out, e))?;
    let aside = old.path().join("site");
    std::fs::rename(out, &aside).map_err(|e| Error::write(out, e))?;
    if let Err(e) = std::fs::rename(staging.path(), out) {
        let _ = std::fs::rename(&aside, out);
        return Err(Error::write(out, e));
    }
    let _ = staging.keep();
    Ok(())
}

fn parent(out: &Path) -> std::path::PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    }
}
