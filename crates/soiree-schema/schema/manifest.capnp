# The package manifest, its metadata, the http-bridge config and the package definition that
# `sandstorm-pkgdef.capnp` evaluates to. Ids and ordinals follow Sandstorm's wire format.
@0xa9f04c7d2e6b1358;

using Util = import "util.capnp";
using Powerbox = import "powerbox.capnp";

struct PackageDefinition @0x9f149fa71489be0b {
  id @0 :Text;
  manifest @1 :Manifest;
  sourceMap @2 :SourceMap;
  fileList @3 :Text;
  alwaysInclude @4 :List(Text);
  bridgeConfig @5 :BridgeConfig;
}

struct Manifest @0x855f296a69e6e1ca {
  # The manifest must stay under this many words (8 MiB).
  const sizeLimitInWords :UInt64 = 1048576;

  minApiVersion @0 :UInt32;
  maxApiVersion @1 :UInt32;
  actions @2 :List(Action);
  continueCommand @3 :Command;
  appVersion @4 :UInt32;
  minUpgradableAppVersion @5 :UInt32;
  appMarketingVersion @6 :Util.LocalizedText;
  appTitle @7 :Util.LocalizedText;
  metadata @8 :Metadata;

  # Runs with exactly this argv and environment; no shell is involved.
  struct Command @0xc64951b2a02886cf {
    deprecatedExecutablePath @0 :Text;
    argv @1 :List(Text);
    environ @2 :List(Util.KeyValue);
  }

  struct Action @0xe5c59b9296375a00 {
    input :union {
      none @0 :Void;
      capability @1 :List(Powerbox.PowerboxDescriptor);
    }
    command @2 :Command;
    title @3 :Util.LocalizedText;
    description @4 :Util.LocalizedText;
    nounPhrase @5 :Util.LocalizedText;
  }
}

struct SourceMap @0xe3d7ba482b2e470b {
  searchPath @0 :List(Mapping);

  struct Mapping @0x87dcf1b1edcb3eaf {
    packagePath @0 :Text;
    sourcePath @1 :Text;
    hidePaths @2 :List(Text);
  }
}

struct BridgeConfig @0xdd8c82383168c096 {
  viewInfo @0 :Powerbox.ViewInfo;
  apiPath @1 :Text;
  saveIdentityCaps @2 :Bool;
  powerboxApis @3 :List(PowerboxApi);
  expectAppHooks @4 :Bool;

  # An HTTP API the app exports through the powerbox.
  struct PowerboxApi @0xc9702c7dbfc6d7e4 {
    name @0 :Text;
    displayInfo @1 :Powerbox.PowerboxDisplayInfo;
    path @2 :Text;
    tag @3 :Powerbox.ApiSessionTag;
    permissions @4 :List(Bool);
  }
}

struct Metadata @0xe0c5892a5448f4ee {
  icons :group {
    appGrid @0 :Icon;
    grain @1 :Icon;
    market @2 :Icon;
    marketBig @18 :Icon;
  }
  website @3 :Text;
  codeUrl @4 :Text;
  license :group {
    union {
      none @5 :Void;
      openSource @6 :OpenSourceLicense;
      proprietary @7 :Util.LocalizedText;
      publicDomain @8 :Util.LocalizedText;
    }
    notices @9 :Util.LocalizedText;
  }
  categories @10 :List(Category);
  author :group {
    contactEmail @11 :Text;
    pgpSignature @12 :Data;
    upstreamAuthor @19 :Text;
  }
  pgpKeyring @13 :Data;
  description @14 :Util.LocalizedText;
  shortDescription @15 :Util.LocalizedText;
  screenshots @16 :List(Screenshot);
  changeLog @17 :Util.LocalizedText;

  struct Icon @0xe492a2981208ad0b {
    union {
      unknown @0 :Void;
      svg @1 :Text;
      png :group {
        dpi1x @2 :Data;
        dpi2x @3 :Data;
      }
    }
  }

  struct Screenshot @0x8bc9f4365959348e {
    width @0 :UInt32;
    height @1 :UInt32;
    union {
      unknown @2 :Void;
      png @3 :Data;
      jpeg @4 :Data;
    }
  }
}

enum OpenSourceLicense @0xd86e43f42c8b0f74 {
  invalid @0;
  mit @1;
  apache2 @2;
  gpl3 @3;
  agpl3 @4;
  bsd3Clause @5;
  bsd2Clause @6;
  gpl2 @7;
  lgpl2 @8;
  lgpl3 @9;
  isc @10;
  artistic2 @11;
  python2 @12;
  php3 @13;
  mpl2 @14;
  cddl @15;
  epl @16;
  cpal @17;
  zlib @18;
}

enum Category @0x938e7e53b106e1c0 {
  other @0;
  productivity @1;
  communications @2;
  social @3;
  webPublishing @4;
  office @5;
  developerTools @6;
  science @7;
  media @8;
  games @9;
  graphics @10;
}

# The raw bytes of an app id (public key) and package id, copied little-endian into words.
struct AppId @0x880c6c7782a33310 {
  id0 @0 :UInt64;
  id1 @1 :UInt64;
  id2 @2 :UInt64;
  id3 @3 :UInt64;
}

struct PackageId @0xe2e344d346ffda6b {
  id0 @0 :UInt64;
  id1 @1 :UInt64;
}

# What verification reports about a package.
struct VerifiedInfo @0x987ef3040a0342a9 {
  appId @0 :AppId;
  packageId @1 :PackageId;
  title @2 :Util.LocalizedText;
  version @3 :UInt32;
  marketingVersion @4 :Util.LocalizedText;
  authorPgpKeyFingerprint @5 :Text;
  metadata @6 :Metadata;
}
