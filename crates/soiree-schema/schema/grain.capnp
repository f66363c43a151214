# soiree-pack's own description of the interfaces between a grain and its host that `up` serves
# or calls: SandstormApi (the host's, bootstrapped by the bridge on fd 3), UiView (the bridge's),
# SessionContext (the host's, passed with each session), MainView and AppPersistent (the bridge's,
# for capabilities the host keeps across restarts), and the identity and activity types
# they carry. Type ids, ordinals and types follow Sandstorm's wire format; methods past the last
# one soiree-pack uses are left out. `cargo xtask schema-check` compares the layout.
@0xec15e9eacdbba2d1;

using Util = import "util.capnp";
using Powerbox = import "powerbox.capnp";

# What the host offers a grain. The bridge bootstraps it from the other end of fd 3.
interface SandstormApi @0xd2654fcf2a7002cb (AppObjectId) {
  deprecatedPublish @0 ();
  deprecatedRegisterAction @1 ();
  shareCap @2 (cap :Capability, displayInfo :Powerbox.PowerboxDisplayInfo)
           -> (sharedCap :Capability, link :SharingLink);
  shareView @3 (view :UiView) -> (sharedView :UiView, link :ViewSharingLink);
  restore @4 (token :Data) -> (cap :Capability);
  drop @5 (token :Data);
  deleted @6 (ref :AppObjectId);
  stayAwake @7 (displayInfo :NotificationDisplayInfo, notification :OngoingNotification)
            -> (handle :Util.Handle);
  save @8 (cap :Capability, label :Util.LocalizedText) -> (token :Data);
}

# A grain's UI, served by the bridge as fd 3's bootstrap.
interface UiView @0xdbb4d798ea67e2e7 {
  getViewInfo @0 () -> Powerbox.ViewInfo;
  newSession @1 (userInfo :UserInfo, context :SessionContext,
                 sessionType :UInt64, sessionParams :AnyPointer, tabId :Data)
             -> (session :UiSession);
  newRequestSession @2 (userInfo :UserInfo, context :SessionContext,
                        sessionType :UInt64, sessionParams :AnyPointer,
                        requestInfo :List(Powerbox.PowerboxDescriptor), tabId :Data)
                    -> (session :UiSession);
  newOfferSession @3 (userInfo :UserInfo, context :SessionContext,
                      sessionType :UInt64, sessionParams :AnyPointer,
                      offer :Capability, descriptor :Powerbox.PowerboxDescriptor, tabId :Data)
                  -> (session :UiSession);
}

# What the bridge serves as fd 3's bootstrap, besides UiView: `restore` rebuilds a capability it
# made persistent (an exported API it fulfilled a Powerbox request with) from the object id its
# `AppPersistent.save` returned.
interface MainView @0xc277e9822ae2c8fc (AppObjectId) extends(UiView) {
  restore @0 (objectId :AppObjectId) -> (cap :Capability);
  drop @1 (objectId :AppObjectId);
}

# A capability a grain can make persistent: the host calls `save` and keeps the object id, to pass
# it to the grain's `MainView.restore` later (after the grain or the host restarted).
interface AppPersistent @0xaffa789add8747b8 (AppObjectId) {
  save @0 () -> (objectId :AppObjectId, label :Util.LocalizedText);
}

# The base of every session kind (WebSession, ApiSession).
interface UiSession @0xf63241ee58b5166f {}

# The host's side of one session: what the grain may ask of the user's shell.
interface SessionContext @0xbf3e401d5a63f336 {
  getSharedPermissions @0 () -> (var :Util.Assignable(List(Bool)).Getter);
  tieToUser @1 (cap :Capability, requiredPermissions :List(Bool),
                displayInfo :Powerbox.PowerboxDisplayInfo)
            -> (tiedCap :Capability);
  offer @2 (cap :Capability, requiredPermissions :List(Bool),
            descriptor :Powerbox.PowerboxDescriptor, displayInfo :Powerbox.PowerboxDisplayInfo);
  request @3 (query :List(Powerbox.PowerboxDescriptor), requiredPermissions :List(Bool))
          -> (cap :Capability, descriptor :Powerbox.PowerboxDescriptor);
  fulfillRequest @4 (cap :Capability, requiredPermissions :List(Bool),
                     descriptor :Powerbox.PowerboxDescriptor,
                     displayInfo :Powerbox.PowerboxDisplayInfo);
  close @5 ();
  openView @6 (view :UiView, path :Text = "", newTab :Bool = false);
  claimRequest @7 (requestToken :Text, requiredPermissions :List(Bool)) -> (cap :Capability);
}

# Only named by SandstormApi.shareCap's result.
interface SharingLink @0xc05520c9b0994ad3 {}

# Only named by SandstormApi.shareView's result.
interface ViewSharingLink @0xa4f82f764dc3fee8 extends(SharingLink) {}

# Who is using a session, as the host tells the grain.
struct UserInfo @0x94b9d1efb35d11d3 {
  displayName @0 :Util.LocalizedText;
  preferredHandle @4 :Text;
  pictureUrl @6 :Text;
  pronouns @5 :Profile.Pronouns;
  deprecatedPermissionsBlob @1 :Data;
  permissions @3 :List(Bool);
  identityId @2 :Data;
  identity @7 :Identity;
}

# A user, as a capability: the bridge saves it (saveIdentityCaps) and asks it for the profile of
# whoever granted an exported API.
interface Identity @0xc084987aa951dd18 {
  getProfile @0 () -> (profile :Profile);
}

struct Profile @0xd3d0c34d7201fcef {
  displayName @0 :Util.LocalizedText;
  preferredHandle @1 :Text;
  picture @2 :Util.StaticAsset;
  pronouns @3 :Pronouns;

  enum Pronouns @0x84752dcf8539ab01 {
    neutral @0;
    male @1;
    female @2;
    robot @3;
  }
}

# The caption of a wake lock (`stayAwake`), shown by the host.
struct NotificationDisplayInfo @0xd3b9f2ca42d4f783 {
  caption @0 :Util.LocalizedText;
}

# The grain's side of a wake lock: the host calls cancel when the user ends it.
interface OngoingNotification @0xfe851ddbb88940cd {
  cancel @0 ();
}

# The bridge's own service to the app, on /tmp/sandstorm-api inside the grain. soiree-pack does
# not serve it; its tests call it as an app would (`stayAwake` through `getSandstormApi`).
interface SandstormHttpBridge @0xad678f0d09bdd98a {
  getSandstormApi @0 () -> (api :SandstormApi);
}
