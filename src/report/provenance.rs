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

/// The workspace's own packages, whose dependency lists decide which locked version is used.
const WORKSPACE_PACKAGES: [&str; 2] = ["lmm-report", "lmm-engine"];

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

/// Versions of `names` that the package `root` (or, for crates it reaches only through them,
/// the workspace packages `members`) uses, as locked in `lock` (a Cargo.lock text).
///
/// A crate locked at one version is that version. A crate locked at several (a test-only
/// dependency pulling in an older release, say) is the one the lock file names in the
/// dependency list of `root` or of a member (`"rand_chacha 0.10.0"`); if none names it, every
/// locked version is listed, smallest first, each with the crate's name.
pub fn locked_versions(lock: &str, root_and_members: &[&str], names: &[&str]) -> Vec<Dependency> {
    let mut found: Vec<(String, String)> = Vec::new();
    // Dependency entries of the workspace packages: "name" or "name version".
    let mut direct: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut in_dependencies = false;
    for line in lock.lines() {
        if line == "[[package]]" {
            current = None;
            in_dependencies = false;
        } else if let Some(name) = line.strip_prefix("name = ") {
            current = Some(name.trim_matches('"').to_owned());
        } else if let Some(version) = line.strip_prefix("version = ") {
            if let Some(name) = &current {
                found.push((name.clone(), version.trim_matches('"').to_owned()));
            }
        } else if line == "dependencies = [" {
            in_dependencies = current
                .as_deref()
                .is_some_and(|c| root_and_members.contains(&c));
        } else if line == "]" {
            in_dependencies = false;
        } else if in_dependencies {
            direct.push(
                line.trim()
                    .trim_end_matches(',')
                    .trim_matches('"')
                    .to_owned(),
            );
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
            let chosen = direct.iter().find_map(|d| {
                d.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(' '))
                    .filter(|v| versions.contains(v))
            });
            let version = match (versions.as_slice(), chosen) {
                ([], _) => "not locked".to_owned(),
                ([only], _) => (*only).to_owned(),
                (_, Some(v)) => v.to_owned(),
                (all, None) => all.join(&format!(", {name} ")),
            };
            Dependency {
                name: name.to_owned(),
                version,
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
        dependencies: locked_versions(CARGO_LOCK, &WORKSPACE_PACKAGES, &KEY_DEPENDENCIES),
        data_file: data_file.to_owned(),
        data_sha256: sha256_hex(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_a_lock_file() {
        let lock = "version = 4\n\n[[package]]\nname = \"faer\"\nversion = \"0.24.4\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.9.5\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.10.3\"\n\n[[package]]\nname = \"rand_core\"\nversion = \"0.6.4\"\n\n[[package]]\nname = \"rand_core\"\nversion = \"0.9.3\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"faer\",\n \"rand 0.10.3\",\n]\n";
        let deps = locked_versions(lock, &["app"], &["faer", "rand", "rand_core", "absent"]);
        assert_eq!(deps[0].version, "0.24.4");
        // Two versions locked: the one the package names.
        assert_eq!(deps[1].version, "0.10.3");
        // Two versions, neither named directly: both, each with its name.
        assert_eq!(deps[2].version, "0.6.4, rand_core 0.9.3");
        assert_eq!(deps[3].version, "not locked");
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
        for dep in locked_versions(CARGO_LOCK, &WORKSPACE_PACKAGES, &KEY_DEPENDENCIES) {
            assert!(
                !dep.version.contains(','),
                "{} is ambiguous: {}",
                dep.name,
                dep.version
            );
            assert_ne!(dep.version, "not locked", "{}", dep.name);
        }
    }
}
