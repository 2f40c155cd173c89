//! The SMTP sink of `tests/harness/smtp_sink.py`, as a process of the test:
//! every accepted message becomes `NNNNNN.eml` (with a `.json` sidecar) in
//! its folder; `mode` makes it refuse mail for a while.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Sink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Sink {
    /// Starts on `port` (0: any free one), accepting only `user:password`
    /// for AUTH when `auth` is given. `None` (said loudly) when aiosmtpd is
    /// not installed; in CI its absence is a failure.
    pub fn start(dir: &Path, port: u16, auth: Option<&str>) -> Option<Sink> {
        if !Path::new("/usr/bin/python3").exists()
            || Command::new("/usr/bin/python3")
                .args(["-c", "import aiosmtpd"])
                .status()
                .map_or(true, |s| !s.success())
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3-aiosmtpd is required in CI"
            );
            eprintln!("\n*** SKIPPED: python3-aiosmtpd is not installed ***\n");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let mut command = Command::new("/usr/bin/python3");
        command
            .arg(super::harness("smtp_sink.py"))
            .arg(port.to_string())
            .arg(dir);
        if let Some(auth) = auth {
            command.args(["--auth", auth]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .expect("sink ready")
            .parse()
            .unwrap();
        Some(Sink {
            child,
            port,
            dir: dir.to_owned(),
        })
    }

    /// `accept`, `tempfail`, `permfail`… (see smtp_sink.py).
    pub fn set_mode(&self, mode: &str) {
        let tmp = self.dir.join("mode.tmp");
        std::fs::write(&tmp, mode).unwrap();
        std::fs::rename(tmp, self.dir.join("mode")).unwrap();
    }

    fn files(&self, extension: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == extension)
                    && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .collect();
        files.sort();
        files
    }

    /// Every message received, in order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.files("eml")
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    /// The sidecar of every message received (`rcpt_tos`, `auth_user`…).
    pub fn envelopes(&self) -> Vec<serde_json::Value> {
        self.files("json")
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
