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
    pub running: bool,
}

pub fn index(grains: &[Listed]) -> String {
    let mut rows = String::new();
    for g in grains {
        let locks = if g.wake_locks.is_empty() {
            String::new()
        } else {
            format!(" — awake: {}", esc(&g.wake_locks.join(", ")))
        };
        let state = if g.running { "running" } else { "stopped" };
        rows.push_str(&format!(
            "<li><a href=\"/grain/{n}/\">{n}</a> <span class=\"state\">({state})</span>{locks}<br>API: <code>{api}</code></li>\n",
            n = esc(&g.name),
            api = esc(&g.api_url),
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>soiree-pack up</title></head>\
         <body><h1>The party's grains</h1><ul>\n{rows}</ul></body></html>\n"
    )
}

/// The shell's side of the grain's `postMessage` API: `powerboxRequest` answered with a picker of
/// the grains whose APIs match (then a grant), `renderTemplate` with a rendered offer template.
/// Messages are taken only from the framed grain, and answered to its origin.
const SCRIPT: &str = r#"
const frame = document.getElementById('grain-frame');
const picker = document.getElementById('soiree-powerbox');
const me = JSON.parse(document.getElementById('soiree-me').textContent);
async function call(path, body) {
  const r = await fetch(path, {method: 'POST', body: JSON.stringify(body)});
  return r.json();
}
function pick(options) {
  return new Promise((resolve) => {
    picker.replaceChildren();
    const title = document.createElement('p');
    title.textContent = options.length ? 'Choose what to link:' : 'No grain offers what this grain asks for.';
    picker.appendChild(title);
    for (const o of options) {
      const b = document.createElement('button');
      b.id = 'powerbox-option-' + o.grain + '-' + o.api;
      b.textContent = o.grain + ': ' + (o.title || o.api);
      b.onclick = () => { picker.hidden = true; resolve(o); };
      picker.appendChild(b);
    }
    const cancel = document.createElement('button');
    cancel.id = 'powerbox-cancel';
    cancel.textContent = 'Cancel';
    cancel.onclick = () => { picker.hidden = true; resolve(null); };
    picker.appendChild(cancel);
    picker.hidden = false;
  });
}
function fail(message) {
  const p = document.createElement('p');
  p.className = 'soiree-error';
  p.textContent = message;
  picker.replaceChildren(p);
  picker.hidden = false;
}
window.addEventListener('message', async (e) => {
  if (e.source !== frame.contentWindow) return;
  const m = e.data || {};
  const reply = (x) => e.source.postMessage(x, e.origin);
  if (m.powerboxRequest) {
    const r = m.powerboxRequest;
    const found = await call('/_soiree/powerbox/options', {query: r.query || []});
    if (found.error) { fail(found.error); reply({rpcId: r.rpcId, canceled: true}); return; }
    const choice = await pick(found.options);
    if (!choice) { reply({rpcId: r.rpcId, canceled: true}); return; }
    const g = await call('/_soiree/powerbox/grant',
      {grain: me.grain, as: me.as, query: r.query, provider: choice.grain, api: choice.api});
    if (g.error) { fail(g.error); reply({rpcId: r.rpcId, canceled: true}); return; }
    reply({rpcId: r.rpcId, token: g.token, descriptor: g.descriptor});
  } else if (m.renderTemplate) {
    const r = m.renderTemplate;
    const t = await call('/_soiree/template',
      {grain: me.grain, as: me.as, template: r.template, clipboardButton: r.clipboardButton || '',
       petname: r.petname, roleAssignment: r.roleAssignment, forSharing: r.forSharing});
    reply(t.error ? {rpcId: r.rpcId, error: t.error} : {rpcId: r.rpcId, uri: t.uri});
  }
});
"#;

/// The page that frames a grain: `ui_origin` is the grain's own host, `current` who you are.
pub fn grain_page(name: &str, ui_origin: &str, path: &str, view: &ViewInfo, current: &Identity) -> String {
    let mut options = String::new();
    for id in Identity::all(view) {
        let selected = if &id == current { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{k}\"{selected}>{label}</option>",
            k = esc(&id.key()),
            label = esc(&id.display_name(view)),
        ));
    }
    let src = format!(
        "{ui_origin}/_soiree-init?as={}&amp;path={}",
        esc(&current.key()),
        esc(path)
    );
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{n} — soiree-pack up</title>\
         <style>body{{margin:0;font-family:sans-serif}}header{{padding:4px 8px;background:#eee}}\
         iframe{{border:0;width:100%;height:calc(100vh - 40px)}}</style></head><body>\
         <header><a href=\"/\">grains</a> / {n} — you are \
         <form method=\"get\" style=\"display:inline\"><select id=\"soiree-identity\" name=\"as\" \
         onchange=\"this.form.submit()\">{options}</select></form></header>\
         <div id=\"soiree-powerbox\" hidden></div>\
         <iframe id=\"grain-frame\" src=\"{src}\"></iframe>\
         <script type=\"application/json\" id=\"soiree-me\">{me}</script>\
         <script>{SCRIPT}</script></body></html>\n",
        n = esc(name),
        // JSON inside a script element: `<` escaped so no text can close the element.
        me = serde_json::json!({"grain": name, "as": current.key()})
            .to_string()
            .replace('<', "\\u003c"),
    )
}

/// Where an offer template's copy button goes (`renderTemplate`'s `clipboardButton`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// The page a rendered offer template is shown in (the grain frames it): the text, and a copy
/// button when asked for, which selects the text and copies it as Sandstorm's offer page does;
/// while shown it keeps `token` alive at `api_url`, as Sandstorm's does.
pub fn offer_page(text: &str, button: Option<Side>, api_url: &str, token: &str) -> String {
    let copy = "<button id=\"offer-copy\" type=\"button\">copy</button>";
    let (left, right) = match button {
        Some(Side::Left) => (copy, ""),
        Some(Side::Right) => ("", copy),
        None => ("", ""),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>offer</title>\
         <style>body{{margin:0;font-family:monospace;display:flex;gap:4px;align-items:center}}\
         #offer-text{{margin:0;white-space:pre-wrap;word-break:break-all;flex:1}}</style></head>\
         <body>{left}<pre id=\"offer-text\">{t}</pre>{right}\
         <script type=\"application/json\" id=\"offer-token\">{keep}</script>\
         <script>{OFFER_SCRIPT}</script></body></html>\n",
        t = esc(text),
        // JSON inside a script element: `<` escaped so no text can close the element.
        keep = serde_json::json!({"url": api_url, "token": token})
            .to_string()
            .replace('<', "\\u003c"),
    )
}

/// The copy button's work: select the text (so that a refused clipboard still leaves it ready
/// for Ctrl-C), then copy it. And the keepalive: an unused token lives 5 minutes, so the page
/// extends it on load and every 60 s (Sandstorm's offer-template.html: every 60 s), the last
/// answer's status in `data-keepalive`.
const OFFER_SCRIPT: &str = r#"
const keep = JSON.parse(document.getElementById('offer-token').textContent);
async function keepAlive() {
  try {
    const r = await fetch(keep.url, {method: 'POST', headers: {
      'Authorization': 'Bearer ' + keep.token, 'X-Sandstorm-Token-Keepalive': '300000'}});
    document.body.dataset.keepalive = String(r.status);
  } catch (e) {
    document.body.dataset.keepalive = 'failed';
  }
}
keepAlive();
setInterval(keepAlive, 60000);
const button = document.getElementById('offer-copy');
if (button) button.onclick = () => {
  const range = document.createRange();
  range.selectNodeContents(document.getElementById('offer-text'));
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  document.execCommand('copy');
  button.textContent = 'copied';
};
"#;
