//! The download path, against an HTTP server on 127.0.0.1 serving the shipped MNIST files.

use std::path::{Path, PathBuf};
use std::thread;

use lab10_data::{Mnist, MnistFile, Split, fetch::download_missing};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")
}

/// Serves `<name>.gz` from the shipped folder, or corrupted bytes when `corrupt`.
fn serve(corrupt: bool) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mnist/", server.server_addr().to_ip().unwrap());
    thread::spawn(move || {
        for request in server.incoming_requests() {
            let name = request.url().trim_start_matches("/mnist/").to_string();
            let path = shipped().join(&name);
            let response = match std::fs::read(&path) {
                Ok(mut bytes) if corrupt => {
                    bytes.truncate(bytes.len() / 2);
                    tiny_http::Response::from_data(bytes)
                }
                Ok(bytes) => tiny_http::Response::from_data(bytes),
                Err(_) => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
            };
            let _ = request.respond(response);
        }
    });
    url
}

#[test]
fn downloads_verifies_and_stores_all_four_files() {
    let url = serve(false);
    let cache = tempfile::tempdir().unwrap();
    // The first mirror is dead: the next one must be tried.
    let mirrors = vec!["http://127.0.0.1:9/nothing/".to_string(), url];
    download_missing(cache.path(), &mirrors).unwrap();
    for f in MnistFile::ALL {
        assert!(
            cache.path().join(format!("{}.gz", f.name)).is_file(),
            "{}",
            f.name
        );
    }
    let test = Mnist::load(cache.path(), Split::Test, true).unwrap();
    assert_eq!(test.len(), 10_000);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn a_corrupt_download_is_refused_and_leaves_nothing() {
    let url = serve(true);
    let cache = tempfile::tempdir().unwrap();
    let err = download_missing(cache.path(), &[url]).unwrap_err();
    assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn unreachable_mirrors_give_an_error_naming_each_url() {
    let cache = tempfile::tempdir().unwrap();
    let err = download_missing(cache.path(), &["http://127.0.0.1:9/a/".to_string()]).unwrap_err();
    assert!(
        err.contains("http://127.0.0.1:9/a/train-images-idx3-ubyte.gz"),
        "{err}"
    );
}
