"""What the live preview adds to a page: a script that listens for builds over Server-Sent
Events and reloads the page when its output changed (a stylesheet is swapped in place), or
shows a failed build's error over the page."""

from __future__ import annotations

import json
from dataclasses import dataclass

EVENTS_PATH = "/__sitegen/events"
CLIENT_PATH = "/__sitegen/livereload.js"
CLIENT_TAG = f'<script src="{CLIENT_PATH}" defer></script>'.encode()

CLIENT_JS = r"""
(() => {
  const show = (err) => {
    let box = document.getElementById("sitegen-error-overlay");
    if (!box) {
      box = document.createElement("div");
      box.id = "sitegen-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;" +
        "background:#2b0b0b;color:#ffe9e6;font:14px/1.6 ui-monospace,monospace;padding:16px 20px;" +
        "border-top:4px solid #ff5a4f;white-space:pre-wrap";
      document.body.append(box);
    }
    box.textContent = "sitegen: 重建失败 (build failed)\n" + (err.location ? err.location + "\n" : "") + err.message;
  };
  const hide = () => { const box = document.getElementById("sitegen-error-overlay"); if (box) box.remove(); };
  const here = () => decodeURI(location.pathname).replace(/index\.html$/, "");
  const swapStyles = (css) => {
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      const name = Object.keys(css).find((n) => new URL(link.href).pathname.startsWith("/static/" + n.replace(/\.css$/, ".")));
      if (name) link.href = css[name];
    }
  };
  let version = null;
  const source = new EventSource("/__sitegen/events?page=" + encodeURIComponent(here()));
  source.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (state.error) { show(state.error); version = state.version; return; }
    const wasBroken = !!document.getElementById("sitegen-error-overlay");
    hide();
    if (version !== null && state.version !== version) {
      // reload only a page that changed; a stylesheet edit swaps the stylesheet in place
      if (state.changed.includes(here()) || (wasBroken && state.changed.length)) {
        try { sessionStorage.setItem("sitegen-reload-at", String(Date.now())); } catch (e) {}
        location.reload();
      }
      else if (Object.keys(state.css).length) { swapStyles(state.css); }
    }
    version = state.version;
  });
})();
"""


@dataclass(frozen=True)
class BuildState:
    """The outcome of the latest build, as the browser sees it: which page URLs changed and
    the new URLs of changed stylesheets."""

    version: int
    error: dict[str, str] | None = None
    changed: tuple[str, ...] = ()
    css: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "error": self.error, "changed": list(self.changed),
                           "css": dict(self.css)}, ensure_ascii=False)
