//! Devices on other machines, through Burn's remote backend (burn-remote, WebSocket
//! transport): [`Worker`] serves this machine's device (`lab10 worker`), [`RemoteTarget`]
//! connects to one (`--remote ws://host:port`). The tensors live on the worker; the autodiff
//! graph, the data, the run folder and everything written stay with the client.
//!
//! The types exist in every build so that the CLI can say what is missing; connecting and
//! serving need the `remote` feature.

use std::fmt;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::Path;
use std::str::FromStr;

use crate::runtime::backend::{BackendKind, ComputeDevice};
use lab10_runs::Error;

/// The cargo feature that compiles Burn's remote backend in.
pub const REMOTE_FEATURE: &str = "remote";

/// A worker's address: `ws://host:port` (WebSocket; unencrypted, for trusted networks).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkerUrl {
    url: String,
}

impl FromStr for WorkerUrl {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::Invalid(format!(
                "'{text}' is not a worker address: {why}. Give it as ws://HOST:PORT, \
                 e.g. ws://127.0.0.1:3000 (what `lab10 worker` prints)"
            ))
        };
        let rest = match text.split_once("://") {
            Some(("ws", rest)) => rest,
            Some(("wss", _)) => {
                return Err(bad(
                    "Burn's WebSocket transport has no TLS (wss://); on an untrusted network, \
                     tunnel the port (ssh -L) and use ws://",
                ));
            }
            Some((scheme, _)) => return Err(bad(&format!("the scheme '{scheme}' is not ws"))),
            None => return Err(bad("it has no ws:// scheme")),
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(bad("it must be just ws://HOST:PORT, without a path"));
        }
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
            _ => return Err(bad("it has no port")),
        }
        Ok(Self {
            url: format!("ws://{authority}"),
        })
    }
}

impl fmt::Display for WorkerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// A worker to train or evaluate on, with the token its `lab10 worker` asks for (`None` for a
/// worker started with `--no-auth`).
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteTarget {
    pub url: WorkerUrl,
    pub token: Option<String>,
}

impl fmt::Debug for RemoteTarget {
    // Never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteTarget")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Reads a token file: its first line, trimmed. The file must exist and hold a token.
pub fn read_token_file(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Invalid(format!(
            "cannot read the token file {}: {e}. It holds the token `lab10 worker` printed (or \
             the one its --token-file holds), on one line",
            path.display()
        ))
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(Error::Invalid(format!(
            "the token file {} is empty; put the worker's token on its first line",
            path.display()
        )));
    }
    Ok(token)
}

/// A fresh token: 128 random bits from the operating system's generator, as hex.
pub fn new_token() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random number generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl RemoteTarget {
    /// Connects to the worker's device 0, where the tensors of everything run on it live.
    pub fn open(&self) -> Result<ComputeDevice, Error> {
        let device = self.connect()?;
        Ok(ComputeDevice {
            description: format!("device 0 of the worker at {}", self.url),
            device,
        })
    }

    #[cfg(feature = "remote")]
    fn connect(&self) -> Result<burn::prelude::Device, Error> {
        use burn::remote::{ConnectError, RemoteHost};
        let mut host = RemoteHost::websocket(&self.url.url);
        if let Some(token) = &self.token {
            host = host.with_credential(token.as_str());
        }
        burn::prelude::Device::remote_options(&host)
            .init()
            .map_err(|e| match e {
                ConnectError::Unauthorized => Error::WorkerRefused {
                    url: self.url.to_string(),
                    message: if self.token.is_some() {
                        "it refused the token; pass the token file of this worker (--token-file)"
                            .into()
                    } else {
                        "it asks for a token; pass --token-file FILE with the token \
                         `lab10 worker` printed"
                            .into()
                    },
                },
                other => Error::WorkerUnreachable {
                    url: self.url.to_string(),
                    message: other.to_string(),
                },
            })
    }

    #[cfg(not(feature = "remote"))]
    fn connect(&self) -> Result<burn::prelude::Device, Error> {
        Err(Error::RemoteNotCompiled)
    }
}

/// How `lab10 worker` lets clients in.
#[derive(Debug, Clone)]
pub enum Access {
    /// Clients present this token.
    Token(String),
    /// Anyone who can reach the port: allowed on a loopback address only.
    Open,
}

/// A bound worker, not yet serving: what [`Worker::serve`] will serve, and where.
pub struct Worker {
    listener: TcpListener,
    /// The address it listens on (0.0.0.0:PORT for every interface).
    pub address: SocketAddr,
    pub url: WorkerUrl,
    pub backend: BackendKind,
    pub device: ComputeDevice,
    access: Access,
}

impl Worker {
    /// Opens `backend`'s device and binds `listen`. A worker without a token (`Access::Open`)
    /// must listen on a loopback address: anyone who reaches the port runs code on it.
    pub fn bind(listen: &str, backend: BackendKind, access: Access) -> Result<Self, Error> {
        if !cfg!(feature = "remote") {
            return Err(Error::RemoteNotCompiled);
        }
        let addrs: Vec<SocketAddr> = listen
            .to_socket_addrs()
            .map_err(|e| {
                Error::Invalid(format!(
                    "--listen {listen}: {e}; give HOST:PORT, e.g. 127.0.0.1:3000"
                ))
            })?
            .collect();
        if matches!(access, Access::Open) && !addrs.iter().all(|a| a.ip().is_loopback()) {
            return Err(Error::Invalid(format!(
                "--no-auth lets anyone who reaches the port run code on this machine, so it is \
                 only allowed on a loopback address (127.0.0.1:PORT), not on {listen}; use a \
                 token (--token-file FILE, or none to have one generated)"
            )));
        }
        let device = backend.open()?;
        let listener = TcpListener::bind(&addrs[..]).map_err(|e| {
            Error::Invalid(format!(
                "cannot listen on {listen}: {e}; pick a free port (--listen 127.0.0.1:PORT)"
            ))
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Invalid(format!("cannot read the bound address: {e}")))?;
        Ok(Self {
            listener,
            address: local,
            url: WorkerUrl {
                url: format!("ws://{local}"),
            },
            backend,
            device,
            access,
        })
    }

    pub fn requires_token(&self) -> bool {
        matches!(self.access, Access::Token(_))
    }

    /// Serves until the process receives Ctrl-C or SIGTERM (Burn's server installs those
    /// handlers once it listens). Sessions are logged by Burn's server (`RUST_LOG`).
    #[cfg(feature = "remote")]
    pub fn serve(self) -> Result<(), Error> {
        use burn::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};
        let server = RemoteServer::new([self.device.device.clone()]);
        let server = match &self.access {
            Access::Token(token) => server.with_authorizer(
                TokenAuthorizer::new(token.as_str())
                    .map_err(|e| Error::Invalid(format!("the worker's token: {e}")))?,
            ),
            Access::Open => server,
        };
        server
            .serve(WebSocketTransport::from_listener(self.listener))
            .map_err(|e| Error::Invalid(format!("the worker at {} stopped: {e}", self.url)))
    }

    /// Without the `remote` feature [`Worker::bind`] refuses, so this is never reached.
    #[cfg(not(feature = "remote"))]
    pub fn serve(self) -> Result<(), Error> {
        drop(self.listener);
        Err(Error::RemoteNotCompiled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_urls_are_ws_host_port() {
        let url: WorkerUrl = "ws://127.0.0.1:3000/".parse().unwrap();
        assert_eq!(url.to_string(), "ws://127.0.0.1:3000");
        assert!("ws://gpu-box:3000".parse::<WorkerUrl>().is_ok());
        for bad in [
            "127.0.0.1:3000",
            "http://a:1",
            "ws://a",
            "ws://a:0",
            "ws://:3000",
            "ws://a:3000/x",
        ] {
            let e = bad.parse::<WorkerUrl>().unwrap_err().to_string();
            assert!(
                e.contains(bad) && e.contains("ws://HOST:PORT"),
                "{bad}: {e}"
            );
        }
        let e = "wss://a:1".parse::<WorkerUrl>().unwrap_err().to_string();
        assert!(e.contains("TLS"), "{e}");
    }

    #[test]
    fn tokens_are_fresh_and_token_files_are_read_trimmed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, format!("  {a}  \nignored\n")).unwrap();
        assert_eq!(read_token_file(&file).unwrap(), a);
        std::fs::write(&file, "\n").unwrap();
        let e = read_token_file(&file).unwrap_err().to_string();
        assert!(e.contains("is empty"), "{e}");
        let e = read_token_file(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
