//! What a reader needs to reproduce the report exactly: this crate's version, the versions of
//! the dependencies that compute or render something (read from the `Cargo.lock` compiled
//! into the binary), and the SHA-256 of the data file. Nothing machine- or time-dependent.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The lock file the binary was built from.
const CARGO_LOCK: &str = include_str!("../../Cargo.lock");

/// Dependencies whose versions the report lists, in display order.
pub const KEY_DEPENDENCIES: [&str; 9] = [
    "polars",
    "faer",
    "argmin",
    "bobyqa",
    "plotters",
    "minijinja",
    "pulldown-cmark",
    "pulldown-latex",
    "rand_chacha",
];

/// A dependency and its locked version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub name: String,
    pub version: String,
}

/// The reproducibility facts shown in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub crate_name: String,
    pub crate_version: String,
    pub dependencies: Vec<Dependency>,
    pub data_file: String,
    pub data_sha256: String,
}

/// Versions of `names` as locked in `lock` (a Cargo.lock text); when a crate is locked at
/// several versions, the highest is the one this crate depends on directly in practice, and
/// all are listed joined by ", ".
pub fn locked_versions(lock: &str, names: &[&str]) -> Vec<Dependency> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut current: Option<String> = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            current = None;
        } else if let Some(name) = line.strip_prefix("name = ") {
            current = Some(name.trim_matches('"').to_owned());
        } else if let Some(version) = line.strip_prefix("version = ") {
            if let Some(name) = current.take() {
                found.push((name, version.trim_matches('"').to_owned()));
            }
        }
    }
    names
        .iter()
        .map(|&name| {
            let versions: Vec<&str> = found
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect();
            Dependency {
                name: name.to_owned(),
                version: if versions.is_empty() {
                    "not locked".to_owned()
                } else {
                    versions.join(", ")
                },
            }
        })
        .collect()
}

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Provenance for a report built from `data_file` (its name only) with contents `data`.
pub fn provenance(data_file: &str, data: &[u8]) -> Provenance {
    Provenance {
        crate_name: env!("CARGO_PKG_NAME").to_owned(),
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        dependencies: locked_versions(CARGO_LOCK, &KEY_DEPENDENCIES),
        data_file: data_file.to_owned(),
        data_sha256: sha256_hex(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_a_lock_file() {
        let lock = "version = 4\n\n[[package]]\nname = \"faer\"\nversion = \"0.24.4\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.9.5\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.10.3\"\n";
        let deps = locked_versions(lock, &["faer", "rand", "absent"]);
        assert_eq!(deps[0].version, "0.24.4");
        assert_eq!(deps[1].version, "0.9.5, 0.10.3");
        assert_eq!(deps[2].version, "not locked");
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn every_key_dependency_is_locked() {
        for dep in locked_versions(CARGO_LOCK, &KEY_DEPENDENCIES) {
            assert_ne!(dep.version, "not locked", "{}", dep.name);
        }
    }
}
