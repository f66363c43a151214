# Powerbox descriptors, the tags soiree-pack puts in them, and the parts of a grain's view info
# that a bridge config declares. Ids and ordinals follow Sandstorm's wire format.
@0xc41e8f5a7d2b9063;

using Util = import "util.capnp";

# A query or offer: a set of tags, each the type id of an interface plus an optional value.
struct PowerboxDescriptor @0xedcf0fa3bfc71c58 {
  tags @0 :List(Tag);
  quality @1 :MatchQuality = acceptable;

  struct Tag @0xbe3d16a8df03c418 {
    id @0 :UInt64;
    value @1 :AnyPointer;
  }

  enum MatchQuality @0xbb1afa45d25ce8de {
    acceptable @0;
    preferred @1;
    unacceptable @2;
  }
}

struct PowerboxDisplayInfo @0xa553a209bee32bec {
  title @0 :Util.LocalizedText;
  verbPhrase @1 :Util.LocalizedText;
  description @2 :Util.LocalizedText;
}

# The tag value of an ApiSession (type id 0xc879e379c625cdc7) descriptor.
struct ApiSessionTag @0x93e1f7ca567dee32 {
  canonicalUrl @0 :Text;
  oauthScopes @1 :List(OAuthScope);
  authentication @2 :Text;

  struct OAuthScope @0xbb95f31093b1fd88 {
    name @0 :Text;
  }
}

# The tag value of an IpNetwork (type id 0xa982576b7a2a2040) descriptor.
struct IpNetworkTag @0xcf9e3f33950df819 {
  encryption @0 :Encryption;

  struct Encryption @0xe2d94cf90fe4078d {
    union {
      none @0 :Void;
      tls @1 :Void;
    }
  }
}

# What a grain's UI declares: permissions, roles and the powerbox requests/offers it matches.
struct ViewInfo @0xbc5e354741a8e665 {
  permissions @0 :List(PermissionDef);
  roles @1 :List(RoleDef);
  deniedPermissions @2 :List(Bool);
  matchRequests @3 :List(PowerboxDescriptor);
  matchOffers @4 :List(PowerboxDescriptor);
  appTitle @5 :Util.LocalizedText;
  grainIcon @6 :Util.StaticAsset;
  eventTypes @7 :List(ActivityTypeDef);
}

struct PermissionDef @0xf144a5e58889dafb {
  name @3 :Text;
  title @0 :Util.LocalizedText;
  description @1 :Util.LocalizedText;
  obsolete @2 :Bool = false;
}

struct RoleDef @0xcb3f7064eae4dc5a {
  title @0 :Util.LocalizedText;
  verbPhrase @1 :Util.LocalizedText;
  description @2 :Util.LocalizedText;
  permissions @3 :List(Bool);
  obsolete @4 :Bool = false;
  default @5 :Bool = false;
}

struct ActivityTypeDef @0xe638de0ad7c89a2b {
  name @0 :Text;
  verbPhrase @1 :Util.LocalizedText;
  description @2 :Util.LocalizedText;
  requiredPermission :union {
    everyone @3 :Void;
    permissionIndex @4 :UInt16;
    explicitList @5 :Void;
  }
  obsolete @6 :Bool = false;
  notifySubscribers @7 :Bool;
  autoSubscribeToThread @8 :Bool;
  autoSubscribeToGrain @9 :Bool;
  suppressUnread @10 :Bool;
}
