# The two messages inside an .spk file and the keyring entry that signs them.
# Ids and ordinals follow Sandstorm's wire format (see docs/ARCHITECTURE.md).
@0xe7d3a2b65c1f0984;

# The file tree of a package. Entries are sorted bytewise by name within each directory.
struct Archive @0xf153ba7dee1c9118 {
  files @0 :List(File);

  struct File @0xd92313d72a1ab4d0 {
    name @0 :Text;
    lastModificationTimeNs @5 :Int64;
    union {
      regular @1 :Data;
      executable @2 :Data;
      symlink @3 :Text;
      directory @4 :List(File);
    }
  }
}

# First message of the payload: Ed25519 over SHA-512 of the archive message, stored as
# signature (64 bytes) followed by the digest (64 bytes), as libsodium's combined mode does.
struct Signature @0xeca8b9277cb36488 {
  publicKey @0 :Data;
  signature @1 :Data;
}

# One keyring entry. A keyring is these messages concatenated; privateKey is seed ‖ publicKey.
struct KeyFile @0xe47ce2b3aab90f74 {
  publicKey @0 :Data;
  privateKey @1 :Data;
}
