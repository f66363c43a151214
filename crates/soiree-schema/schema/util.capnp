# soiree-pack's own description of the small Sandstorm utility types it reads and writes.
# Type ids, field ordinals and types match Sandstorm's wire format; `cargo xtask schema-check`
# compares the compiled layout with Sandstorm's schema files.
@0xb3a1f6d2c9e40a11;

struct KeyValue @0x94a081e4abb13424 {
  key @0 :Text;
  value @1 :Text;
}

# Text shown to users, with optional translations.
struct LocalizedText @0x8b5db772377be249 {
  defaultText @0 :Text;
  localizations @1 :List(Localization);

  struct Localization @0xa4f5ae06dd1b7791 {
    locale @0 :Text;
    text @1 :Text;
  }
}

# A file served by the host (icons, profile pictures); `up` serves users' pictures.
interface StaticAsset @0xfabb5e621fa9a23f {
  getUrl @0 () -> (protocol :Protocol, hostPath :Text);

  enum Protocol @0x9714437546d80c39 {
    https @0;
    http @1;
  }
}

# A capability whose only meaning is its lifetime: dropping it cancels what it stands for.
interface Handle @0x98f424ac606042e0 {
  ping @0 ();
}

# A stream of bytes pushed by the writer (response bodies, request bodies).
interface ByteStream @0xcd57387729cfe35f {
  write @0 (data :Data) -> stream;
  done @1 ();
  expectSize @2 (size :UInt64);
}

# Only its nested Getter is named (by SessionContext.getSharedPermissions).
interface Assignable @0xeaf255b498229199 (T) {
  interface Getter @0x80f2f65360d64224 {}
}
