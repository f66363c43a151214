//! The shell's pages: the list of grains with their API URLs, and a grain framed beside the
//! picker that chooses who you are (the owner, a guest with one of the package's roles, or an
//! anonymous visitor). Plain HTML; the grain runs on its own origin, as on Sandstorm.

use crate::grain::ViewInfo;
use crate::identity::Identity;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// One grain as the index lists it.
pub struct Listed {
    pub name: String,
    pub api_url: String,
    pub wake_locks: Vec<String>,
}

pub fn index(grains: &[Listed]) -> String {
    let mut rows = String::new();
    for g in grains {
        let locks = if g.wake_locks.is_empty() {
            String::new()
        } else {
            format!(" — awake: {}", esc(&g.wake_locks.join(", ")))
        };
        rows.push_str(&format!(
            "<li><a href=\"/grain/{n}/\">{n}</a>{locks}<br>API: <code>{api}</code></li>\n",
            n = esc(&g.name),
            api = esc(&g.api_url),
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>soiree-pack up</title></head>\
         <body><h1>The party's grains</h1><ul>\n{rows}</ul></body></html>\n"
    )
}

/// The page that frames a grain: `ui_origin` is the grain's own host, `current` who you are.
pub fn grain_page(name: &str, ui_origin: &str, view: &ViewInfo, current: &Identity) -> String {
    let mut options = String::new();
    for id in Identity::all(view) {
        let selected = if &id == current { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{k}\"{selected}>{label}</option>",
            k = esc(&id.key()),
            label = esc(&id.display_name(view)),
        ));
    }
    let src = format!("{ui_origin}/_soiree-init?as={}&amp;path=/", esc(&current.key()));
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{n} — soiree-pack up</title>\
         <style>body{{margin:0;font-family:sans-serif}}header{{padding:4px 8px;background:#eee}}\
         iframe{{border:0;width:100%;height:calc(100vh - 40px)}}</style></head><body>\
         <header><a href=\"/\">grains</a> / {n} — you are \
         <form method=\"get\" style=\"display:inline\"><select id=\"soiree-identity\" name=\"as\" \
         onchange=\"this.form.submit()\">{options}</select></form></header>\
         <iframe id=\"grain-frame\" src=\"{src}\"></iframe></body></html>\n",
        n = esc(name),
    )
}
