//! Test certificates made with the real `openssl` command: a private CA,
//! leaf certificates it issues (with subject alternative names), and PFX
//! files in both the modern (PBES2/AES, SHA-256 MAC) and the legacy
//! (3DES/RC2, SHA-1 MAC) encodings.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private certificate authority in a directory of its own.
pub struct TestCa {
    dir: tempfile::TempDir,
}

/// How a PFX file is encrypted.
#[derive(Clone, Copy, Debug)]
pub enum PfxKind {
    /// OpenSSL 3's default: PBES2 with AES-256, HMAC-SHA-256.
    Modern,
    /// `-legacy`: 3DES / RC2 with a SHA-1 MAC.
    Legacy,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command is needed for the TLS tests (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestCa {
    /// A new CA ("Skein Test CA").
    pub fn new() -> TestCa {
        let ca = TestCa {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        openssl(
            ca.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                "/CN=Skein Test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        ca
    }

    /// The CA certificate (PEM).
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Issues a leaf certificate for `names` (DNS names or IP addresses)
    /// and writes it with its key as a PFX file at `out`, encrypted with
    /// `password`.
    pub fn issue_pfx(&self, names: &[&str], password: &str, kind: PfxKind, out: &Path) {
        let d = self.dir.path();
        let san: Vec<String> = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(_) => format!("IP:{n}"),
                Err(_) => format!("DNS:{n}"),
            })
            .collect();
        std::fs::write(
            d.join("leaf.ext"),
            format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={}\n",
                san.join(",")
            ),
        )
        .unwrap();
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                &format!("/CN={}", names[0]),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.crt",
                "-days",
                "10",
                "-extfile",
                "leaf.ext",
            ],
        );
        let pass = format!("pass:{password}");
        let out = out.to_str().expect("utf-8 path");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.crt",
            "-certfile",
            "ca.crt",
            "-passout",
            &pass,
            "-out",
            out,
        ];
        if let PfxKind::Legacy = kind {
            args.push("-legacy");
        }
        openssl(d, &args);
    }
}
