//! What a recipe's source is: where its bytes live, and whether and how to unpack them.

use std::fmt;
use std::path::PathBuf;

use crate::digest::Sha256;
use crate::error::Result;

/// A named input: a local path or a pinned URL, unpacked when it is an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The name recipes use for it; every error and every origin carries it.
    pub name: String,
    pub location: Location,
    /// How to unpack it; `None` uses it as it is (a file, or a local directory).
    pub archive: Option<ArchiveFormat>,
    /// Leading path components dropped from every archive member, as `tar --strip-components`.
    pub strip_components: u32,
    /// The directory (or file) inside the source, after stripping, that the source stands for.
    pub sub_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file or directory on this machine; relative paths are taken from the fetcher's base.
    Path(PathBuf),
    Url(UrlPin),
    /// The output folder of a command run in a copy of a directory.
    Command(Box<crate::command::CommandSpec>),
}

/// A URL and the exact bytes expected from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPin {
    pub url: String,
    pub sha256: Sha256,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArchiveFormat {
    Tar,
    TarGz,
    TarXz,
    Zip,
}

impl ArchiveFormat {
    /// The format a file name (or a URL's path) says, if any.
    pub fn from_name(name: &str) -> Option<ArchiveFormat> {
        // A URL's query and fragment are not part of the file's name.
        let name = name.split(['?', '#']).next().unwrap_or(name);
        let lower = name.to_ascii_lowercase();
        [
            (".tar.gz", ArchiveFormat::TarGz),
            (".tgz", ArchiveFormat::TarGz),
            (".tar.xz", ArchiveFormat::TarXz),
            (".txz", ArchiveFormat::TarXz),
            (".tar", ArchiveFormat::Tar),
            (".zip", ArchiveFormat::Zip),
        ]
        .into_iter()
        .find_map(|(suffix, format)| lower.ends_with(suffix).then_some(format))
    }

    /// A short stable name, part of the extraction cache's directory names.
    pub fn key(self) -> &'static str {
        match self {
            ArchiveFormat::Tar => "tar",
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::TarXz => "tar.xz",
            ArchiveFormat::Zip => "zip",
        }
    }
}

impl fmt::Display for ArchiveFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Source {
    /// A local file or directory; an archive when its name says so.
    pub fn path(name: impl Into<String>, path: impl Into<PathBuf>) -> Source {
        let path = path.into();
        let archive = path.to_str().and_then(ArchiveFormat::from_name);
        Source {
            name: name.into(),
            location: Location::Path(path),
            archive,
            strip_components: 0,
            sub_path: None,
        }
    }

    /// A pinned URL; an archive when its path says so. Fails when `sha256` is not a digest.
    pub fn url(
        name: impl Into<String>,
        url: impl Into<String>,
        sha256: &str,
        size: Option<u64>,
    ) -> Result<Source> {
        let name = name.into();
        let url = url.into();
        let sha256 = Sha256::parse_pin(&name, sha256)?;
        Ok(Source {
            archive: ArchiveFormat::from_name(&url),
            location: Location::Url(UrlPin { url, sha256, size }),
            name,
            strip_components: 0,
            sub_path: None,
        })
    }

    /// The output of a command (never an archive).
    pub fn command(name: impl Into<String>, spec: crate::command::CommandSpec) -> Source {
        Source {
            name: name.into(),
            location: Location::Command(Box::new(spec)),
            archive: None,
            strip_components: 0,
            sub_path: None,
        }
    }

    pub fn with_archive(mut self, archive: Option<ArchiveFormat>) -> Source {
        self.archive = archive;
        self
    }

    pub fn with_strip_components(mut self, n: u32) -> Source {
        self.strip_components = n;
        self
    }

    pub fn with_sub_path(mut self, sub_path: impl Into<String>) -> Source {
        self.sub_path = Some(sub_path.into());
        self
    }

    /// The URL pin, for URL sources.
    pub fn pin(&self) -> Option<&UrlPin> {
        match &self.location {
            Location::Url(pin) => Some(pin),
            Location::Path(_) | Location::Command(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Path(p) => write!(f, "{}", p.display()),
            Location::Url(pin) => f.write_str(&pin.url),
            Location::Command(c) => write!(f, "`{}` in {}", c.display(), c.dir.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ArchiveFormat::{self, *};

    #[test]
    fn formats_from_names() {
        for (name, format) in [
            ("godot-4.3-linux.zip", Some(Zip)),
            ("cockroach-v24.1.linux-amd64.tgz", Some(TarGz)),
            ("app.TAR.GZ", Some(TarGz)),
            ("app.tar.xz", Some(TarXz)),
            ("app.txz", Some(TarXz)),
            ("app.tar", Some(Tar)),
            ("https://h/app.tar.gz?download=1#x", Some(TarGz)),
            ("https://h/app.tar.gz/raw", None),
            ("cockroach", None),
            ("notes.gz", None),
        ] {
            assert_eq!(ArchiveFormat::from_name(name), format, "{name}");
        }
    }
}
