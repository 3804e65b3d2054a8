//! Test certificates made with the real `openssl` command: a private CA,
//! leaf certificates it issues (with subject alternative names), and PFX
//! files in both the modern (PBES2/AES, SHA-256 MAC) and the legacy
//! (3DES/RC2, SHA-1 MAC) encodings.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private certificate authority in a directory of its own.
pub struct TestCa {
    dir: tempfile::TempDir,
}

impl Default for TestCa {
    fn default() -> TestCa {
        TestCa::new()
    }
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
    /// `password`: an EC P-256 key, valid from now for 10 days.
    pub fn issue_pfx(&self, names: &[&str], password: &str, kind: PfxKind, out: &Path) {
        let leaf = Leaf {
            kind,
            ..Leaf::default()
        };
        self.issue(names, password, &leaf, out);
    }

    /// [`TestCa::issue_pfx`] with the key type and validity of `leaf`.
    pub fn issue(&self, names: &[&str], password: &str, leaf: &Leaf, out: &Path) {
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
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
                 extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={}\n",
                san.join(",")
            ),
        )
        .unwrap();
        let subject = format!("/CN={}", names[0]);
        let mut req = vec!["req", "-newkey"];
        match leaf.rsa {
            true => req.extend(["rsa:2048"]),
            false => req.extend(["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        }
        req.extend([
            "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", &subject,
        ]);
        openssl(d, &req);
        match leaf.dates {
            None => openssl(
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
            ),
            // OpenSSL 3.0's `x509` cannot back-date: `openssl ca` can.
            Some((start, end)) => {
                std::fs::write(d.join("ca.cnf"), CA_CONFIG).unwrap();
                std::fs::write(d.join("index.txt"), b"").unwrap();
                openssl(
                    d,
                    &[
                        "ca",
                        "-batch",
                        "-config",
                        "ca.cnf",
                        "-notext",
                        "-in",
                        "leaf.csr",
                        "-out",
                        "leaf.crt",
                        "-startdate",
                        start,
                        "-enddate",
                        end,
                        "-extfile",
                        "leaf.ext",
                    ],
                );
            }
        }
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
        if let PfxKind::Legacy = leaf.kind {
            args.push("-legacy");
        }
        openssl(d, &args);
    }
}

/// How [`TestCa::issue`] makes a leaf certificate.
#[derive(Clone, Copy, Debug)]
pub struct Leaf {
    /// The PFX encryption.
    pub kind: PfxKind,
    /// An RSA 2048 key instead of EC P-256.
    pub rsa: bool,
    /// Validity as `(start, end)` in OpenSSL's `YYYYMMDDHHMMSSZ`; `None`:
    /// from now for 10 days.
    pub dates: Option<(&'static str, &'static str)>,
}

impl Default for Leaf {
    fn default() -> Leaf {
        Leaf {
            kind: PfxKind::Modern,
            rsa: false,
            dates: None,
        }
    }
}

/// A minimal `openssl ca` configuration for the test CA's directory.
const CA_CONFIG: &str = "[ca]\ndefault_ca = test\n[test]\ndir = .\ndatabase = index.txt\n\
new_certs_dir = .\ncertificate = ca.crt\nprivate_key = ca.key\nserial = ca.srl\n\
rand_serial = yes\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
copy_extensions = none\n[any]\ncommonName = supplied\n";
