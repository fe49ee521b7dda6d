//! The download path, against an HTTP server on 127.0.0.1 serving the shipped MNIST files.

use std::path::{Path, PathBuf};
use std::thread;

use lab10_data::{FASHION_MNIST, MNIST, Mnist, MnistFile, Split, fetch::download_missing};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")
}

/// Serves `<name>.gz` from the shipped folder, or corrupted bytes when `corrupt`.
fn serve(corrupt: bool) -> String {
    serve_from(shipped(), corrupt)
}

fn serve_from(dir: PathBuf, corrupt: bool) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mnist/", server.server_addr().to_ip().unwrap());
    thread::spawn(move || {
        for request in server.incoming_requests() {
            let name = request.url().trim_start_matches("/mnist/").to_string();
            let path = dir.join(&name);
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
    download_missing(cache.path(), &MNIST, &mirrors).unwrap();
    for f in MnistFile::ALL {
        assert!(
            cache.path().join(format!("{}.gz", f.name)).is_file(),
            "{}",
            f.name
        );
    }
    let (test, digests) = Mnist::read(cache.path(), Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(digests[0], MNIST.digests[2]);
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
    let err = download_missing(cache.path(), &MNIST, &[url]).unwrap_err();
    assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn unreachable_mirrors_give_an_error_naming_each_url() {
    let cache = tempfile::tempdir().unwrap();
    let err =
        download_missing(cache.path(), &MNIST, &["http://127.0.0.1:9/a/".to_string()]).unwrap_err();
    assert!(
        err.contains("http://127.0.0.1:9/a/train-images-idx3-ubyte.gz"),
        "{err}"
    );
}

#[test]
#[ignore = "needs Fashion-MNIST: apt-get install dataset-fashion-mnist"]
fn fashion_mnist_downloads_verify_against_its_own_digests() {
    let system = PathBuf::from(FASHION_MNIST.system_dirs[0]);
    assert!(
        system.join("t10k-images-idx3-ubyte.gz").is_file(),
        "missing prerequisite: Fashion-MNIST (apt-get install dataset-fashion-mnist)"
    );
    // A mirror of Fashion-MNIST on 127.0.0.1.
    let url = serve_from(system, false);
    let cache = tempfile::tempdir().unwrap();
    download_missing(cache.path(), &FASHION_MNIST, std::slice::from_ref(&url)).unwrap();
    let (test, digests) = Mnist::read(cache.path(), Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(digests[0], FASHION_MNIST.digests[2]);
    // MNIST's digests do not accept Fashion-MNIST's files.
    let other = tempfile::tempdir().unwrap();
    let err = download_missing(other.path(), &MNIST, &[url]).unwrap_err();
    assert!(
        err.contains("SHA-256") && err.contains(MNIST.digests[0]),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}
