//! The page at `/.soiree/links/`: a row per Powerbox request with its status, a link button
//! whose script makes the real `powerboxRequest` and hands the token to the claim endpoint, and
//! unlink. The script is a file of its own: Sandstorm's UI hosts allow no inline script.

use crate::config::LinkRequest;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page, with each request's state as `linked` tells it.
pub fn page(package: &str, requests: &[LinkRequest], linked: impl Fn(&str) -> bool) -> String {
    let mut rows = String::new();
    for r in requests {
        let name = escape(&r.name);
        let label = escape(&r.label);
        let state = if linked(&r.name) { "linked" } else { "not linked" };
        rows.push_str(&format!(
            "<li data-request=\"{name}\" data-label=\"{label}\" data-descriptor=\"{}\">\n  \
             <strong>{label}</strong> (<code>{name}</code>, {}): <span class=\"status\" id=\"status-{name}\">{state}</span>\n  \
             <button class=\"link\" id=\"link-{name}\">link</button> <button class=\"unlink\" id=\"unlink-{name}\">unlink</button>\n</li>\n",
            escape(&r.descriptor),
            escape(&r.interface),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n<title>Links of {pkg}</title>\n\
         <h1>What {pkg} is linked to</h1>\n\
         <p>Each link is a grant from another grain, asked for through Sandstorm's Powerbox and kept by this grain until you unlink it.</p>\n\
         <ul>\n{rows}</ul>\n<script src=\"links.js\"></script>\n",
        pkg = escape(package),
    )
}

/// Asks the shell (the page's parent) for a grant, posts the token to this grain's claim
/// endpoint, and shows what came of it in the row's status.
pub const SCRIPT: &str = r#"// soiree-pack's link page: Powerbox requests made from this grain's page.
"use strict";
let nextRpcId = 1;
const waiting = new Map();
window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !event.data) return;
  const done = waiting.get(event.data.rpcId);
  if (done) {
    waiting.delete(event.data.rpcId);
    done(event.data);
  }
});
function ask(row) {
  const rpcId = nextRpcId++;
  return new Promise((resolve) => {
    waiting.set(rpcId, resolve);
    window.parent.postMessage({powerboxRequest: {rpcId, query: [row.dataset.descriptor],
      saveLabel: {defaultText: row.dataset.label}}}, "*");
  });
}
async function link(row, status) {
  status.textContent = "waiting for the grant";
  const reply = await ask(row);
  if (reply.canceled || !reply.token) {
    status.textContent = "not linked (nothing was chosen)";
    return;
  }
  status.textContent = "claiming";
  const res = await fetch(row.dataset.request + "/claim", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({requestToken: reply.token})});
  status.textContent = res.ok ? "linked" : "not linked: " + await res.text();
}
async function unlink(row, status) {
  const res = await fetch(row.dataset.request + "/unlink", {method: "POST"});
  status.textContent = res.ok ? "not linked" : "still linked: " + await res.text();
}
for (const row of document.querySelectorAll("li[data-request]")) {
  const status = row.querySelector(".status");
  row.querySelector("button.link").addEventListener("click", () => link(row, status));
  row.querySelector("button.unlink").addEventListener("click", () => unlink(row, status));
}
"#;
