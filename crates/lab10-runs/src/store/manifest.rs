//! `SHA256SUMS`: the SHA-256 of every file of a run folder (and of an ensemble's or a group's),
//! in the format of coreutils' `sha256sum`, so that `sha256sum -c SHA256SUMS` in the folder
//! checks it without lab10. A run records each file as it writes it (the experiment first, each
//! checkpoint as it is saved, the metrics every epoch, the model and report last); every reader
//! checks what it loads against it ([`read_checked`]).
//!
//! The manifest is the run's word on what is whole: a file it does not list is not part of the
//! run (a kill came between writing the file and recording it), so readers take it as absent.
//! A folder without a manifest was written by an earlier lab10: it is read unverified.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lab10_data::atomic::{parent_dir, write_atomically};
use lab10_data::idx::sha256_hex;

use crate::error::{Error, Result};

pub const MANIFEST_FILE: &str = "SHA256SUMS";

/// One update of a manifest at a time in this process (Burn's checkpointers save from their
/// own thread); other processes are kept out of a run folder by its lock.
static UPDATING: Mutex<()> = Mutex::new(());

/// The files of a folder and their SHA-256, by path relative to the folder (`/`-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of `dir`, or `None` where it has none.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MANIFEST_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&bytes)
                .map(Some)
                .map_err(|message| Error::damaged(&path, message)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::read(&path, e)),
        }
    }

    /// Lines `<64 hex digits>  <file>` (or ` *<file>`, binary mode), as `sha256sum` writes.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| "the manifest is not text".to_string())?;
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let parsed = line.split_once(' ').and_then(|(hash, rest)| {
                let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
                let hex = hash.len() == 64
                    && hash
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                (hex && !name.is_empty()).then(|| (name.to_string(), hash.to_string()))
            });
            let (name, hash) = parsed.ok_or_else(|| {
                format!(
                    "line {} is not `<sha256>  <file>`: the manifest itself is damaged",
                    n + 1
                )
            })?;
            entries.insert(name, hash);
        }
        Ok(Self { entries })
    }

    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(|(name, hash)| format!("{hash}  {name}\n"))
            .collect()
    }

    /// Checks `bytes`, the content of `dir/name`, against the manifest. A file the manifest
    /// does not list is an error too: it is not part of the run.
    pub fn check(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
        let path = dir.join(name);
        let Some(want) = self.entries.get(name) else {
            return Err(Error::Unrecorded { path });
        };
        let found = sha256_hex(bytes);
        if &found == want {
            Ok(())
        } else {
            Err(Error::damaged(
                &path,
                format!("its SHA-256 is {found}, {MANIFEST_FILE} records {want}"),
            ))
        }
    }

    /// Records `changes` in `dir`'s manifest: a file's new content, or `None` for a file
    /// removed. The manifest is rewritten atomically (written, synced, renamed, its folder
    /// synced).
    pub fn update<'a>(
        dir: &Path,
        changes: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    ) -> Result<()> {
        let _one = UPDATING.lock().unwrap_or_else(|p| p.into_inner());
        let mut manifest = Self::read(dir)?.unwrap_or_default();
        for (name, bytes) in changes {
            match bytes {
                Some(bytes) => manifest.entries.insert(name.into(), sha256_hex(bytes)),
                None => manifest.entries.remove(name),
            };
        }
        let path = dir.join(MANIFEST_FILE);
        write_atomically(&path, manifest.render().as_bytes()).map_err(|e| Error::write(&path, e))
    }

    /// A manifest of every file now in `dir` (but the lock, temporary files and the manifest
    /// itself), written atomically: for a folder written by an earlier lab10 (`lab10 verify
    /// --seal`) and for the folders of groups and ensembles.
    pub fn seal(dir: &Path) -> Result<Self> {
        let _one = UPDATING.lock().unwrap_or_else(|p| p.into_inner());
        let mut manifest = Self::default();
        for name in files_in(dir)? {
            let path = dir.join(&name);
            let bytes = std::fs::read(&path).map_err(|e| Error::read(&path, e))?;
            manifest.entries.insert(name, sha256_hex(&bytes));
        }
        let path = dir.join(MANIFEST_FILE);
        write_atomically(&path, manifest.render().as_bytes())
            .map_err(|e| Error::write(&path, e))?;
        Ok(manifest)
    }
}

/// The files under `dir` a manifest lists, relative and sorted: every regular file but the
/// manifest, the lock and hidden files (temporary files of writes in progress); links (the
/// `latest` of an experiment folder) are not followed.
pub fn files_in(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for entry in std::fs::read_dir(&here).map_err(|e| Error::read(&here, e))? {
            let entry = entry.map_err(|e| Error::read(&here, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry
                .file_type()
                .map_err(|e| Error::read(entry.path(), e))?;
            if name.starts_with('.') || (rel.as_os_str().is_empty() && name == MANIFEST_FILE) {
                continue;
            }
            let rel_name = rel.join(&name);
            if kind.is_dir() {
                stack.push(rel_name);
            } else if kind.is_file() {
                names.push(rel_name.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    names.sort();
    Ok(names)
}

/// The folder whose manifest speaks for `path` (a file in a run, or in its `checkpoint/`),
/// and the file's name relative to it; `None` where no folder above has a manifest.
fn owner(path: &Path) -> Option<(PathBuf, String)> {
    let file = path.file_name()?.to_string_lossy().into_owned();
    let parent = parent_dir(path);
    if parent.join(MANIFEST_FILE).is_file() {
        return Some((parent.to_path_buf(), file));
    }
    let sub = parent.file_name()?.to_string_lossy().into_owned();
    let grand = parent_dir(parent);
    grand
        .join(MANIFEST_FILE)
        .is_file()
        .then(|| (grand.to_path_buf(), format!("{sub}/{file}")))
}

/// For a file no manifest speaks for: the line that says it is read unverified.
pub fn unverified_note(path: &Path) -> Option<String> {
    let file = match path.is_dir() {
        true => path.join("experiment.toml"),
        false => path.to_path_buf(),
    };
    owner(&file).is_none().then(|| {
        format!(
            "note: {} has no {MANIFEST_FILE} (written by an earlier lab10, or outside a run), so \
             it is read unverified; `lab10 verify --seal RUN` checks a run and adds one",
            path.display()
        )
    })
}

/// The bytes of `path`, checked against the manifest of the folder it belongs to: an error
/// naming the file when they do not match, when the manifest does not list the file, or when
/// it lists a file that is gone.
pub fn read_checked(path: &Path) -> Result<Vec<u8>> {
    let owner = owner(path);
    let read = std::fs::read(path);
    let Some((dir, name)) = owner else {
        return read.map_err(|e| Error::read(path, e));
    };
    let manifest = Manifest::read(&dir)?.unwrap_or_default();
    match read {
        Ok(bytes) => {
            manifest.check(&dir, &name, &bytes)?;
            Ok(bytes)
        }
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound && manifest.entries.contains_key(&name) =>
        {
            Err(Error::damaged(
                path,
                format!("missing, though {MANIFEST_FILE} lists it"),
            ))
        }
        Err(e) => Err(Error::read(path, e)),
    }
}

/// The bytes of a file of a run that may be absent: `None` when there is no such file, or when
/// the manifest does not list it (written, but a kill came before it was recorded: not part of
/// the run); else [`read_checked`]'s bytes.
pub fn read_if_recorded(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.is_file() {
        return Ok(None);
    }
    match read_checked(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(Error::Unrecorded { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_sha256sum_writes_is_read_back_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("checkpoint")).unwrap();
        std::fs::write(d.join("a.json"), b"{}").unwrap();
        std::fs::write(d.join("checkpoint/model-1.bpk"), b"weights").unwrap();
        Manifest::update(d, [("a.json", Some(&b"{}"[..]))]).unwrap();
        Manifest::update(d, [("checkpoint/model-1.bpk", Some(&b"weights"[..]))]).unwrap();
        let text = std::fs::read_to_string(d.join(MANIFEST_FILE)).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            format!("{}  a.json", sha256_hex(b"{}"))
        );
        assert_eq!(
            read_checked(&d.join("checkpoint/model-1.bpk")).unwrap(),
            b"weights".to_vec()
        );
        std::fs::write(d.join("a.json"), b"{ }").unwrap();
        let err = read_checked(&d.join("a.json")).unwrap_err().to_string();
        assert!(err.contains("a.json") && err.contains("SHA-256"), "{err}");
        std::fs::write(d.join("b.json"), b"{}").unwrap();
        let err = read_checked(&d.join("b.json")).unwrap_err().to_string();
        assert!(err.contains("not part of the run"), "{err}");
        std::fs::remove_file(d.join("checkpoint/model-1.bpk")).unwrap();
        let err = read_checked(&d.join("checkpoint/model-1.bpk"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
        Manifest::update(d, [("checkpoint/model-1.bpk", None)]).unwrap();
        assert_eq!(Manifest::read(d).unwrap().unwrap().entries.len(), 1);
        std::fs::write(d.join(MANIFEST_FILE), b"not a manifest\n").unwrap();
        let err = Manifest::read(d).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("m.bpk"), b"x").unwrap();
        assert_eq!(read_checked(&outside.path().join("m.bpk")).unwrap(), b"x");
    }
}
