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
    /// Verify a package and write it signed with another key, without recompressing it.
    Sign {
        input: PathBuf,
        #[arg(short, long, value_name = "OUT.spk")]
        output: PathBuf,
        #[command(flatten)]
        keyring: KeyringArg,
        #[arg(long, value_name = "ID")]
        app_id: Option<String>,
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
