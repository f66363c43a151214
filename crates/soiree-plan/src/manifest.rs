//! The `sandstorm-manifest` and `sandstorm-http-bridge-config` messages of a package.

use capnp::message::{Builder, HeapAllocator};
use soiree_party::Package;
use soiree_schema::manifest_capnp::{bridge_config, manifest, metadata, Category, OpenSourceLicense};
use soiree_schema::util_capnp::localized_text;

pub use soiree_party::vocab::{
    BRIDGE_CONFIG, MANIFEST, POWERBOX_JSON, SERVICES_JSON, SOIREE_DIR, SUPERVISOR,
};

fn set_text(mut t: localized_text::Builder, text: &str) {
    t.set_default_text(text);
}

/// The command a grain runs: the bridge in front of the supervisor, or the supervisor alone.
pub fn command_argv(pkg: &Package) -> Vec<String> {
    let mut argv = Vec::new();
    if let Some(b) = &pkg.bridge {
        argv.extend([
            "/sandstorm-http-bridge".to_string(),
            b.port.to_string(),
            "--".to_string(),
        ]);
    }
    argv.extend([SUPERVISOR.to_string(), SERVICES_JSON.to_string()]);
    argv
}

fn fill_command(mut c: soiree_schema::manifest_capnp::manifest::command::Builder, pkg: &Package) {
    let argv = command_argv(pkg);
    let mut list = c.reborrow().init_argv(argv.len() as u32);
    for (i, a) in argv.iter().enumerate() {
        list.set(i as u32, a.as_str());
    }
    let mut env = c.init_environ(pkg.env.len() as u32);
    for (i, (k, v)) in pkg.env.iter().enumerate() {
        let mut kv = env.reborrow().get(i as u32);
        kv.set_key(k.as_str());
        kv.set_value(v.as_str());
    }
}

fn fill_metadata(mut m: metadata::Builder, pkg: &Package) -> Result<(), String> {
    let meta = &pkg.meta;
    if let Some(w) = &meta.website {
        m.set_website(w.as_str());
    }
    if let Some(c) = &meta.code_url {
        m.set_code_url(c.as_str());
    }
    if let Some(l) = meta.license {
        let license = OpenSourceLicense::try_from(l).map_err(|_| format!("license number {l}"))?;
        m.reborrow().init_license().set_open_source(license);
    }
    let mut cats = m.reborrow().init_categories(meta.categories.len() as u32);
    for (i, c) in meta.categories.iter().enumerate() {
        cats.set(
            i as u32,
            Category::try_from(*c).map_err(|_| format!("category number {c}"))?,
        );
    }
    {
        let mut author = m.reborrow().init_author();
        if let Some(e) = &meta.contact_email {
            author.set_contact_email(e.as_str());
        }
        if let Some(a) = &meta.upstream_author {
            author.set_upstream_author(a.as_str());
        }
    }
    if let Some(d) = &meta.short_description {
        set_text(m.reborrow().init_short_description(), d);
    }
    if let Some(d) = &meta.description {
        set_text(m.reborrow().init_description(), d);
    }
    if let Some(icon) = &meta.icon {
        let svg = std::fs::read_to_string(icon).map_err(|e| format!("{}: {e}", icon.display()))?;
        let mut icons = m.init_icons();
        icons.reborrow().init_app_grid().set_svg(svg.as_str());
        icons.reborrow().init_grain().set_svg(svg.as_str());
        icons.reborrow().init_market().set_svg(svg.as_str());
    }
    Ok(())
}

/// The package's `Manifest` message.
pub fn manifest(pkg: &Package) -> Result<Builder<HeapAllocator>, String> {
    let mut b = Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        set_text(m.reborrow().init_app_title(), &pkg.title);
        m.set_app_version(pkg.meta.app_version);
        set_text(
            m.reborrow().init_app_marketing_version(),
            &pkg.meta.marketing_version,
        );
        {
            let mut action = m.reborrow().init_actions(1).get(0);
            action.reborrow().init_input().set_none(());
            set_text(action.reborrow().init_noun_phrase(), "instance");
            fill_command(action.init_command(), pkg);
        }
        fill_command(m.reborrow().init_continue_command(), pkg);
        fill_metadata(m.init_metadata(), pkg)?;
    }
    Ok(b)
}

/// The package's `BridgeConfig` message, if it has a bridge.
pub fn bridge_config(pkg: &Package) -> Option<Builder<HeapAllocator>> {
    let bridge = pkg.bridge.as_ref()?;
    let mut b = Builder::new_default();
    {
        let mut c = b.init_root::<bridge_config::Builder>();
        if let Some(p) = &bridge.api_path {
            c.set_api_path(p.as_str());
        }
        c.set_save_identity_caps(bridge.save_identity_caps);
        {
            let mut view = c.reborrow().init_view_info();
            let mut perms = view.reborrow().init_permissions(bridge.permissions.len() as u32);
            for (i, p) in bridge.permissions.iter().enumerate() {
                let mut d = perms.reborrow().get(i as u32);
                d.set_name(p.name.as_str());
                set_text(d.reborrow().init_title(), p.title.as_deref().unwrap_or(&p.name));
                if let Some(desc) = &p.description {
                    set_text(d.init_description(), desc);
                }
            }
            let mut roles = view.init_roles(bridge.roles.len() as u32);
            for (i, r) in bridge.roles.iter().enumerate() {
                let mut d = roles.reborrow().get(i as u32);
                set_text(d.reborrow().init_title(), &r.title);
                if let Some(v) = &r.verb_phrase {
                    set_text(d.reborrow().init_verb_phrase(), v);
                }
                if let Some(desc) = &r.description {
                    set_text(d.reborrow().init_description(), desc);
                }
                d.set_default(r.default);
                let mut set = d.init_permissions(bridge.permissions.len() as u32);
                for p in &r.permissions {
                    set.set(*p as u32, true);
                }
            }
        }
        let mut apis = c.init_powerbox_apis(pkg.offers.len() as u32);
        for (i, o) in pkg.offers.iter().enumerate() {
            let mut api = apis.reborrow().get(i as u32);
            api.set_name(o.name.as_str());
            api.set_path(o.path.as_str());
            api.reborrow()
                .init_tag()
                .set_canonical_url(o.canonical_url.as_str());
            {
                let mut info = api.reborrow().init_display_info();
                set_text(
                    info.reborrow().init_title(),
                    o.title.as_deref().unwrap_or(&o.name),
                );
                if let Some(v) = &o.verb_phrase {
                    set_text(info.reborrow().init_verb_phrase(), v);
                }
                if let Some(d) = &o.description {
                    set_text(info.init_description(), d);
                }
            }
            let mut set = api.init_permissions(bridge.permissions.len() as u32);
            for p in &o.permissions {
                set.set(*p as u32, true);
            }
        }
    }
    Some(b)
}
