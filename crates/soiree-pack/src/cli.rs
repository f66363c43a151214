//! The command line: names here are a contract with scripts and CI.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "soiree-pack",
    version,
    about = "Build, sign and check Sandstorm packages (.spk) without a VM"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct KeyringArg {
    /// Keyring file (concatenated KeyFile messages, as `spk` keeps them).
    #[arg(long, short = 'k', value_name = "PATH", env = "SOIREE_KEYRING")]
    pub keyring: Option<PathBuf>,
}

/// How the archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// xz -1: quick, larger packages for development.
    Fast,
    /// xz -6, as `spk pack`.
    Default,
    /// xz -9e: slowest, smallest.
    Best,
}

#[derive(Debug, clap::Args)]
pub struct CompressionArg {
    /// How hard to compress.
    #[arg(long, value_name = "LEVEL", default_value = "default")]
    pub compression: Level,
    /// Same as `--compression fast`.
    #[arg(long)]
    pub fast: bool,
    /// xz's x86 branch filter for blocks of x86 machine code: about 4% smaller, but Sandstorm
    /// only; Tempest (and any reader without BCJ filters) cannot read these packages.
    #[arg(long)]
    pub x86_filter: bool,
    /// Compress every block afresh, without reading or filling the block cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a signing key, append it to the keyring and print its app id.
    Keygen {
        #[command(flatten)]
        keyring: KeyringArg,
    },
    /// List or export the keys of a keyring.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Pack a prepared directory (with a `sandstorm-manifest`) into a signed .spk.
    Pack {
        /// The tree to pack, as it should appear inside the grain.
        dir: PathBuf,
        /// Where to write the package.
        #[arg(short, long, value_name = "OUT.spk")]
        output: PathBuf,
        #[command(flatten)]
        keyring: KeyringArg,
        /// Sign with the key of this app id (default: SOIREE_SIGNING_KEY, or the keyring's only key).
        #[arg(long, value_name = "ID")]
        app_id: Option<String>,
        #[command(flatten)]
        compression: CompressionArg,
    },
    /// Check a package the way Sandstorm does before installing it.
    Verify {
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a package and unpack it into a new directory.
    Unpack { file: PathBuf, dir: PathBuf },
    /// Build the party's packages: dist/<package>.spk, signed, and dist/<package>/ with the
    /// sandstorm-pkgdef.capnp and staged files Sandstorm's own `spk pack` would read.
    Build {
        #[command(flatten)]
        party: PartyArg,
        /// Build only these packages (default: all).
        packages: Vec<String>,
        #[arg(long, value_name = "DIR", default_value = "dist")]
        out: PathBuf,
        #[command(flatten)]
        keyring: KeyringArg,
        /// Require each package's real key (its app-id, in the keyring or SOIREE_SIGNING_KEY);
        /// without it a development key signs and the app id differs.
        #[arg(long)]
        release: bool,
        /// Use only sources already in the cache; a missing one is an error that names it.
        #[arg(long)]
        offline: bool,
        /// `human` (default) or `json`: one JSON object a line per package.
        #[arg(long, value_name = "FORMAT", default_value = "human")]
        message_format: MessageFormat,
        #[command(flatten)]
        compression: CompressionArg,
        #[command(flatten)]
        sysroot: SysrootArg,
    },
    /// Run a package the way a grain would, in bubblewrap: a package of the party (planned and
    /// staged now) or a FILE.spk (verified and unpacked). Logs stream here; Ctrl-C stops it.
    Run {
        /// A package of the party, or a .spk file.
        #[arg(value_name = "PACKAGE|FILE.spk")]
        target: String,
        #[command(flatten)]
        plan: PlanArg,
        /// The host directory that is the grain's /var, kept between runs
        /// (default: .soiree/run/NAME/var).
        #[arg(long, value_name = "DIR")]
        var: Option<PathBuf>,
        /// The host port (on 127.0.0.1) for the HTTP bridge's port (default: the same number;
        /// 0 picks a free one).
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// Also forward a TCP port of the grain: GRAIN[:HOST] (HOST defaults to GRAIN).
        #[arg(long, value_name = "GRAIN[:HOST]")]
        tcp: Vec<String>,
        /// Forward a UDP port of the grain: GRAIN[:HOST] (HOST defaults to GRAIN).
        #[arg(long, value_name = "GRAIN[:HOST]")]
        udp: Vec<String>,
    },
    /// Fetch every pinned download of the party (and profile), verify it, and record it in
    /// party.lock (comments and layout of the lock file are kept).
    Lock {
        #[command(flatten)]
        party: PartyArg,
        /// Check against the cache only; a source that is not cached is an error.
        #[arg(long)]
        offline: bool,
    },
    /// Check party.toml and the recipes it uses, without building anything.
    Check {
        #[command(flatten)]
        party: PartyArg,
    },
    /// Add a recipe to a package in party.toml (comments and layout are kept).
    Add {
        recipe: String,
        #[arg(long, short = 'p', value_name = "PACKAGE")]
        package: String,
        /// A recipe parameter, `key=value` (value in TOML syntax; bare words are strings).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[arg(long, value_name = "FILE", default_value = "party.toml")]
        party: PathBuf,
    },
    /// Set one value in party.toml, e.g. `set party.marketing-version '"0.2.0"'`.
    Set {
        /// Dotted key path: party.app-version, packages.uro.title, …
        path: String,
        /// The value in TOML syntax (`2`, `true`, `"text"`); a bare word is a string.
        value: String,
        #[arg(long, value_name = "FILE", default_value = "party.toml")]
        party: PathBuf,
    },
    /// Encode or decode a powerbox descriptor.
    Descriptor {
        #[command(subcommand)]
        command: DescriptorCommand,
    },
    /// Write a package signed with another key, without recompressing it. Checks the old
    /// signature and the archive stream's structure; `--verify` also decompresses and checks
    /// everything `verify` does.
    Sign {
        input: PathBuf,
        #[arg(short, long, value_name = "OUT.spk")]
        output: PathBuf,
        #[command(flatten)]
        keyring: KeyringArg,
        #[arg(long, value_name = "ID")]
        app_id: Option<String>,
        /// Run every `verify` check on the input first.
        #[arg(long)]
        verify: bool,
        /// Used only for a package from `spk` (one xz stream), which must be recompressed.
        #[command(flatten)]
        compression: CompressionArg,
    },
    /// Manage the cache of compressed blocks that makes re-packing fast.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// List a package's files with their sizes, grouped by the recipe and source (or the program
    /// whose run-time closure) that put them there, with totals; warn near Sandstorm's limits.
    /// Plans the package without packing it.
    Ls {
        package: String,
        #[command(flatten)]
        plan: PlanArg,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Say why a path is in a package: the recipe and source that placed it, or the chain from
    /// a program of the package down to the library or interpreter it needs.
    Why {
        package: String,
        /// An absolute path inside the package, e.g. /lib/x86_64-linux-gnu/libc.so.6.
        path: PathBuf,
        #[command(flatten)]
        plan: PlanArg,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Where the run-time closures of the packages' programs come from.
#[derive(Debug, clap::Args)]
pub struct SysrootArg {
    /// Take the system from DIR instead of this machine (a debootstrap tree, an exported
    /// container filesystem): the libraries and interpreters the programs need, and every
    /// source whose path is `/`.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
}

/// What planning a package without building it needs.
#[derive(Debug, clap::Args)]
pub struct PlanArg {
    #[command(flatten)]
    pub party: PartyArg,
    /// Use only sources already in the cache; a missing one is an error that names it.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub sysroot: SysrootArg,
}

#[derive(Debug, clap::Args)]
pub struct PartyArg {
    /// The party file; recipes are read from `recipes/` beside it.
    #[arg(long, value_name = "FILE", default_value = "party.toml")]
    pub party: PathBuf,
    /// Use this profile's sources (for example `release`: pinned upstream downloads).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum DescriptorCommand {
    /// Encode a powerbox request descriptor (packed, base64url) from flags.
    Encode {
        /// api-session, ip-interface or ip-network.
        #[arg(long)]
        interface: String,
        /// For api-session: the API's canonical URL.
        #[arg(long, value_name = "URL")]
        canonical_url: Option<String>,
        /// For ip-network: require TLS.
        #[arg(long)]
        tls: bool,
    },
    /// Decode a descriptor string and print it as JSON.
    Decode { descriptor: String },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove cached blocks: all of them, or the least recently used down to `--keep`.
    Clean {
        /// Keep up to this much (bytes, or with a K, M, G suffix).
        #[arg(long, value_name = "SIZE")]
        keep: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print the app id of every key, one a line.
    List {
        #[command(flatten)]
        keyring: KeyringArg,
    },
    /// Write one key as a KeyFile message (a one-key keyring) to standard output.
    Export {
        app_id: String,
        #[command(flatten)]
        keyring: KeyringArg,
    },
}
