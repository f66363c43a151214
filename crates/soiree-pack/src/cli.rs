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
    /// Say less: only errors and warnings (no progress, no confirmations).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more: each step (sources resolved, files planned, blocks compressed).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colours and progress bars: `auto` (on a terminal), `always` or `never`.
    #[arg(long, value_name = "WHEN", global = true, default_value = "auto")]
    pub color: clap::ColorChoice,
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

/// The commands, in the order a user meets them: build and look, then edit the party, then work
/// with single packages, and keys last.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the party's packages into signed .spk files
    ///
    /// Writes dist/<package>.spk, signed, and dist/<package>/ with the sandstorm-pkgdef.capnp
    /// and the staged files (root/) Sandstorm's own `spk pack` would read.
    Build {
        #[command(flatten)]
        party: PartyArg,
        /// Build only these packages (default: all).
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
        /// Where to write the packages (default: `dist` beside the party file).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        keyring: KeyringArg,
        /// Require each package's real key (its app-id, in the keyring or SOIREE_SIGNING_KEY);
        /// without it a development key signs and the app id differs.
        #[arg(long)]
        release: bool,
        /// Use only sources already in the cache; a missing one is an error that names it.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        compression: CompressionArg,
        #[command(flatten)]
        sysroot: SysrootArg,
        #[command(flatten)]
        rebuild: RebuildArg,
        /// What to build: `spk` (default: Sandstorm packages), `oci` (an OCI image layout per
        /// package in OUT/oci/<package>/, run by its supervisor without Sandstorm's bridge),
        /// `compose` (OUT/compose/compose.yaml) or `helm` (a chart in OUT/helm/<party>/); see
        /// docs/beyond-sandstorm.md.
        #[arg(long, value_name = "TARGET", default_value = "spk")]
        target: BuildTarget,
        /// The HOST/PREFIX images are named under (HOST/PREFIX/<party>-<package>:<app-version>;
        /// default localhost/soiree): the images `oci` writes, and those the compose file and
        /// chart pull.
        #[arg(long, value_name = "HOST/PREFIX")]
        registry: Option<String>,
    },
    /// Check party.toml and the recipes it uses, without building anything
    ///
    /// Reports every problem, each with its file:line:col.
    Check {
        #[command(flatten)]
        party: PartyArg,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Run a package the way a grain would, in bubblewrap
    ///
    /// Runs a package of the party (planned and staged now) or a FILE.spk (verified and
    /// unpacked). Logs stream here; Ctrl-C stops it.
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
    /// Bring the whole party up as Sandstorm runs it
    ///
    /// One grain per package with the package's own command (Sandstorm's HTTP bridge first) in
    /// bubblewrap, soiree-pack as its supervisor, and a shell and gateway on
    /// http://127.0.0.1:PORT/. Ctrl-C stops everything.
    Up {
        /// The packages to start (default: every package of the party).
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
        #[command(flatten)]
        plan: PlanArg,
        /// The gateway's port on 127.0.0.1 (0 picks a free one).
        #[arg(long, value_name = "N", default_value_t = 6080)]
        port: u16,
        /// Stop a grain when an idle check, every SECS seconds, finds it neither used since the
        /// last one nor held awake (Sandstorm: 90); the next request starts it again. 0 never
        /// stops an idle grain.
        #[arg(long, value_name = "SECS", default_value_t = 90)]
        idle: u64,
        /// Use folder DIR as the party's source NAME (for example the real bridge:
        /// `--source sandstorm-bundle=DIR`, DIR holding bin/sandstorm-http-bridge).
        #[arg(long, value_name = "NAME=DIR")]
        source: Vec<String>,
        /// Once the grains are up, grant package PKG's Powerbox request REQUEST (a
        /// `[[packages.PKG.requests]]` of party.toml) with an API package TARGET exports (API, by
        /// its name in `[[packages.TARGET.offers]]`, when several match), as the shell's picker
        /// would, for the grain's owner; repeatable. For CI: links survive restarts.
        #[arg(long, value_name = "PKG.REQUEST=TARGET[/API]")]
        link: Vec<String>,
    },
    /// Open a shell inside a grain that `run` or `up` is running
    ///
    /// Joins the grain's namespaces (mount, network, pid, ipc, uts, cgroup, user) as its user
    /// (uid and gid 1000), with the package as `/` and the manifest's environment, like
    /// vagrant-spk's `enter-grain`. Runs /bin/sh, or COMMAND. Needs nsenter (util-linux).
    Enter {
        /// The grain: the name `run` was given (a package, or FILE's name without .spk), or a
        /// package that `up` runs.
        grain: String,
        /// What to run instead of /bin/sh, after `--`.
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// List a package's files, sizes and who put them there
    ///
    /// Groups the files by the recipe and source (or the program whose run-time closure) that
    /// put them there, with totals; warns near Sandstorm's limits. Plans the package without
    /// packing it.
    Ls {
        /// A package of the party.
        package: String,
        #[command(flatten)]
        plan: PlanArg,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Say why a path is in a package
    ///
    /// Shows the recipe and source that placed it, or the chain from a program of the package
    /// down to the library or interpreter it needs.
    Why {
        /// A package of the party.
        package: String,
        /// An absolute path inside the package, e.g. /lib/x86_64-linux-gnu/libc.so.6.
        path: PathBuf,
        /// List every chain that brings the path in, not only the shortest.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        plan: PlanArg,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Push the party's OCI images (built by `build --target oci`) to a registry
    ///
    /// Sends dist/oci/<package>/ to HOST/PREFIX/<party>-<package>:<app-version> and prints
    /// each image's digest. Credentials: SOIREE_REGISTRY_USER and SOIREE_REGISTRY_PASSWORD, or
    /// the `auths` of REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json.
    Push {
        #[command(flatten)]
        party: PartyFileArg,
        /// Push only these packages (default: all).
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
        /// The registry and prefix to push to, e.g. ghcr.io/v-sekai or 127.0.0.1:5000/soiree.
        #[arg(long, value_name = "HOST/PREFIX")]
        registry: String,
        /// Plain HTTP instead of HTTPS (loopback registries always get plain HTTP).
        #[arg(long)]
        insecure: bool,
        /// Where the images were built (default: `dist` beside the party file).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Start a party: party.toml with one package, a recipe, an icon
    ///
    /// Writes party.toml (one package that serves the folder `site/`), recipes/site.toml,
    /// site/index.html, icon.svg and, if there is none, a README.md. Writes nothing if any of
    /// these exists. `soiree-pack build` then builds it.
    Init {
        /// The folder of the new party (created if needed).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The package's name (default: from the folder's name).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Start a recipe (`new recipe NAME`)
    New {
        #[command(subcommand)]
        command: NewCommand,
    },
    /// List the recipes beside party.toml with their parameters
    ///
    /// Each recipe with its description, and each parameter with its type, default (or
    /// "required") and description: what `add RECIPE --set KEY=VALUE` can set.
    Recipes {
        #[command(flatten)]
        party: PartyFileArg,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Add a recipe to a package in party.toml
    ///
    /// Comments and layout of party.toml are kept.
    Add {
        /// The recipe's name: a file `recipes/NAME.toml` beside the party file.
        recipe: String,
        /// The package of the party that gets the recipe.
        #[arg(long, short = 'p', value_name = "PACKAGE")]
        package: String,
        /// A recipe parameter, `key=value` (value in TOML syntax; bare words are strings).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        party: PartyFileArg,
    },
    /// Set one value in party.toml
    ///
    /// For example `set party.marketing-version '"0.2.0"'`. Comments and layout are kept.
    Set {
        /// Dotted key path: party.app-version, packages.uro.title, …
        path: String,
        /// The value in TOML syntax (`2`, `true`, `"text"`); a bare word is a string.
        value: String,
        #[command(flatten)]
        party: PartyFileArg,
    },
    /// Download, verify and pin every download source in party.lock
    ///
    /// Fetches every pinned download of the party (and profile), verifies it, and records it in
    /// party.lock (comments and layout of the lock file are kept).
    Lock {
        #[command(flatten)]
        party: PartyArg,
        /// Check against the cache only; a source that is not cached is an error.
        #[arg(long)]
        offline: bool,
    },
    /// Encode or decode a powerbox descriptor.
    Descriptor {
        #[command(subcommand)]
        command: DescriptorCommand,
    },
    /// Pack a prepared directory into a signed .spk
    ///
    /// The directory must hold a `sandstorm-manifest`; `build` leaves such a tree for each
    /// package in dist/<package>/root.
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
        /// The package to check.
        #[arg(value_name = "FILE.spk")]
        file: PathBuf,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Verify a package and unpack it into a new directory.
    Unpack {
        /// The package to unpack.
        #[arg(value_name = "FILE.spk")]
        file: PathBuf,
        /// The directory to create; it must not exist yet.
        dir: PathBuf,
    },
    /// Sign a package again with another key, without recompressing it
    ///
    /// Checks the old signature and the archive stream's structure; `--verify` also
    /// decompresses and checks everything `verify` does.
    Sign {
        /// The package to sign again.
        #[arg(value_name = "IN.spk")]
        input: PathBuf,
        /// Where to write the signed package.
        #[arg(short, long, value_name = "OUT.spk")]
        output: PathBuf,
        #[command(flatten)]
        keyring: KeyringArg,
        /// Sign with the key of this app id (default: SOIREE_SIGNING_KEY, or the keyring's only key).
        #[arg(long, value_name = "ID")]
        app_id: Option<String>,
        /// Run every `verify` check on the input first.
        #[arg(long)]
        verify: bool,
        /// Used only for a package from `spk` (one xz stream), which must be recompressed.
        #[command(flatten)]
        compression: CompressionArg,
    },
    /// Show or clean soiree-pack's caches: compressed blocks, downloads and built sources.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
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
    #[command(flatten)]
    pub rebuild: RebuildArg,
}

/// Command sources to build again.
#[derive(Debug, clap::Args)]
pub struct RebuildArg {
    /// Run the command of this source again even when its output is cached (repeatable).
    #[arg(long, value_name = "SOURCE")]
    pub rebuild: Vec<String>,
}

/// What `build` makes of each package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuildTarget {
    /// Signed Sandstorm packages: OUT/<package>.spk and OUT/<package>/.
    Spk,
    /// OCI image layouts: OUT/oci/<package>/.
    Oci,
    /// A compose file for one host, a service per package: OUT/compose/compose.yaml.
    Compose,
    /// A Helm chart, a Pod per package: OUT/helm/<party>/.
    Helm,
}

#[derive(Debug, clap::Args)]
pub struct PartyArg {
    #[command(flatten)]
    pub file: PartyFileArg,
    /// Use this profile's sources (for example `release`: pinned upstream downloads).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Which party file a command reads or edits.
#[derive(Debug, clap::Args)]
pub struct PartyFileArg {
    /// The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or
    /// in the nearest folder above that has one).
    #[arg(long, value_name = "FILE")]
    pub party: Option<PathBuf>,
}

/// How a command reports: the same two forms, with the same names, on every command that
/// reports.
#[derive(Debug, clap::Args)]
pub struct OutputArg {
    /// `human` (default), or `json`: one JSON object a line, errors included.
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    pub message_format: MessageFormat,
    /// Same as `--message-format json`.
    #[arg(long)]
    pub json: bool,
}

impl OutputArg {
    pub fn format(&self) -> MessageFormat {
        if self.json {
            MessageFormat::Json
        } else {
            self.message_format
        }
    }

    pub fn is_json(&self) -> bool {
        self.format() == MessageFormat::Json
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Text for people.
    Human,
    /// One JSON object a line, for scripts and CI annotations.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum DescriptorCommand {
    /// Encode a powerbox request descriptor (packed, base64url) from flags.
    Encode {
        /// api-session, ip-interface or ip-network.
        #[arg(long, value_name = "NAME")]
        interface: String,
        /// For api-session: the API's canonical URL.
        #[arg(long, value_name = "URL")]
        canonical_url: Option<String>,
        /// For ip-network: require TLS.
        #[arg(long)]
        tls: bool,
    },
    /// Decode a descriptor string and print it as JSON.
    Decode {
        /// A descriptor: packed, base64url (as `encode` prints it).
        descriptor: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// Write recipes/NAME.toml beside party.toml: a parameter, a file mapping and a service to
    /// fill in, every key explained.
    Recipe {
        /// The recipe's name (lowercase letters, digits and `-`).
        name: String,
        #[command(flatten)]
        party: PartyFileArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Empty the caches, or trim them together to `--keep`, least recently used first.
    Clean {
        /// Keep up to this much across the caches (bytes, or with a K, M, G suffix).
        #[arg(long, value_name = "SIZE")]
        keep: Option<String>,
        #[command(flatten)]
        which: CacheWhichArg,
    },
    /// Show where each cache is and how much it holds.
    Info {
        #[command(flatten)]
        which: CacheWhichArg,
    },
}

/// Which caches `cache` works on; both when neither flag is given.
#[derive(Debug, clap::Args)]
pub struct CacheWhichArg {
    /// The cache of compressed blocks (what makes re-packing fast).
    #[arg(long)]
    pub blocks: bool,
    /// The source cache: downloads, unpacked archives, command sources' outputs and logs.
    #[arg(long)]
    pub sources: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print the app id of every key, one a line.
    List {
        #[command(flatten)]
        keyring: KeyringArg,
    },
    /// Write one key as a KeyFile message (a one-key keyring) to standard output, or with
    /// `-o FILE` to a new file of mode 0600.
    Export {
        /// The app id of the key to export (as `keys list` prints it).
        app_id: String,
        #[command(flatten)]
        keyring: KeyringArg,
        /// Write the key to this new file (mode 0600) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}
