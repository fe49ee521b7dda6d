//! The output folder. The site is written into a staging folder beside it and put in its place
//! whole: on Linux an existing site and the new one are exchanged in one atomic rename
//! (`renameat2(RENAME_EXCHANGE)`), so a reader (or a static server) sees the old site or the new
//! one; elsewhere the old one is moved aside first. A failed `lab10 site` leaves no half site.
//! An existing folder is replaced only with `--force`, and only if it holds nothing but what
//! `lab10 site` writes ([`SITE_ENTRIES`], with `site.json`): never a folder of other files, nor
//! a site someone added files to (a `.git`, a `CNAME`).

use std::path::Path;

use lab10_data::atomic::parent_dir;
use lab10_runs::Error;
use tempfile::TempDir;

use crate::manifest::MANIFEST;

/// Everything `lab10 site` writes at the top of its folder.
pub const SITE_ENTRIES: [&str; 9] = [
    "index.html",
    "site.js",
    "pad.js",
    "style.css",
    MANIFEST,
    crate::manifest::DIGITS_FILE,
    "wasm",
    "models",
    "report",
];

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
    let mut entries: Vec<String> = std::fs::read_dir(out)
        .map_err(|e| Error::read(out, e))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::read(out, e))?;
    if entries.is_empty() {
        return Ok(());
    }
    if !entries.iter().any(|e| e == MANIFEST) {
        return Err(Error::Invalid(format!(
            "{} exists and is not a site lab10 wrote (it has no {MANIFEST}); not replacing it, \
             even with --force. Pass another --out, or empty it yourself.",
            out.display()
        )));
    }
    entries.retain(|e| !SITE_ENTRIES.contains(&e.as_str()));
    if !entries.is_empty() {
        entries.sort();
        return Err(Error::Invalid(format!(
            "{} is a site lab10 wrote, with files added since ({}); replacing it would delete \
             them, so it is not replaced, even with --force. Move them out, or pass another \
             --out (to publish with git, copy the site into your repository's folder).",
            out.display(),
            entries.join(", ")
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
    let parent = parent_dir(out);
    std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    tempfile::Builder::new()
        .prefix(".lab10-site-")
        .tempdir_in(parent)
        .map_err(|e| Error::write(parent, e))
}

/// Puts the finished `staging` folder in `out`'s place, replacing what [`check_out`] allows
/// (checked again here: the runs' evaluation took a while).
pub fn swap_in(staging: TempDir, out: &Path, force: bool) -> Result<(), Error> {
    check_out(out, force)?;
    // A temporary folder is private (0700); a site is for everyone to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::write(staging.path(), e))?;
    }
    // Nothing there, or an empty folder (rename(2) replaces that): one rename.
    let empty = |dir: &Path| std::fs::read_dir(dir).map(|mut d| d.next().is_none());
    if !out.exists() || empty(out).map_err(|e| Error::read(out, e))? {
        return rename_into(staging, out);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        // One atomic step: `out` becomes the new site, the staging folder holds the old one
        // and is removed with it.
        match renameat_with(CWD, staging.path(), CWD, out, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // A file system without RENAME_EXCHANGE: the two renames below.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(Error::write(out, e.into())),
        }
    }
    // The old site moves aside (into a folder removed when dropped), the new one in.
    let old = tempfile::Builder::new()
        .prefix(".lab10-site-old-")
        .tempdir_in(parent_dir(out))
        .map_err(|e| Error::write(out, e))?;
    let aside = old.path().join("site");
    std::fs::rename(out, &aside).map_err(|e| Error::write(out, e))?;
    if let Err(e) = std::fs::rename(staging.path(), out) {
        if let Err(back) = std::fs::rename(&aside, out) {
            // Never lose the old site: it stays where it is, and the message says where.
            let kept = old.keep();
            return Err(Error::Invalid(format!(
                "could not put the new site in {} ({e}) nor the old one back ({back}); the old \
                 site is in {}",
                out.display(),
                kept.join("site").display()
            )));
        }
        return Err(Error::write(out, e));
    }
    let _ = staging.keep();
    Ok(())
}

fn rename_into(staging: TempDir, out: &Path) -> Result<(), Error> {
    std::fs::rename(staging.path(), out).map_err(|e| Error::write(out, e))?;
    let _ = staging.keep();
    Ok(())
}
