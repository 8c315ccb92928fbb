/*! Reader contributions widget: the supporter pass (service/readers/passes.py).
 * Loaded by widget.js only for a reader who holds a pass or brings one in the URL
 * fragment. The pass lives in this origin's localStorage under "rc_pass":
 * "<payload>.<signature>", both base64url; the signature is ECDSA P-256/SHA-256 by the
 * service, verified here with WebCrypto against the site document's pass_key, so only
 * the service can make one: a forged or tampered pass is dropped. Until its date the
 * reader sees no appeal; once its refresh time or its date has come, one small request
 * (POST /api/v1/readers/pass) trades it for a fresh one, or answers "lapsed" (kept in
 * "rc_donor": campaigns for lapsed donors apply) or "never".
 */
(function () {
  "use strict";
  var widget = window.__supportWidget;
  if (!widget || widget.pass) return;
  var PASS = "rc_pass", DONOR = "rc_donor";

  function bytes(text) {
    var raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  var keys = {};
  function verify(token, jwk) {
    var parts = String(token || "").split(".");
    if (parts.length !== 2 || !jwk || !window.crypto || !crypto.subtle) return Promise.resolve(null);
    var id = jwk.x + jwk.y;
    keys[id] = keys[id] || crypto.subtle.importKey(
      "jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    return keys[id].then(function (key) {
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, bytes(parts[1]),
        new TextEncoder().encode(parts[0]));
    }).then(function (ok) {
      if (!ok) return null;
      var claims = JSON.parse(new TextDecoder().decode(bytes(parts[0])));
      return claims && claims.v === 1 && typeof claims.until === "number" ? claims : null;
    }).catch(function () { return null; });
  }

  // "current" with a fresh pass kept, "lapsed", "never", or null when the service is away.
  function refresh(token, jwk, store, api) {
    return api("/api/v1/readers/pass", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pass: token })
    }).then(function (r) {
      return r.status === 422 ? { state: "never" } : r.ok ? r.json() : null;
    }).then(function (answer) {
      if (!answer) return null;
      if (answer.state !== "current") return answer.state;
      return verify(answer.pass, jwk).then(function (claims) {
        if (!claims) return null;
        store.setItem(PASS, answer.pass);
        return "current";
      });
    }).catch(function () { return null; });
  }

  // The thank-you after a gift, or the welcome after a sign-in link, drawn with the
  // widget's own parts (ui) in the top box's place.
  function thank(ui, kind) {
    var slot = ui.slot("top"), back = kind === "welcome", el = ui.el, gettext = ui.gettext;
    if (!slot) return;
    var root = ui.mount(slot, el("aside", {
      "class": "box top", role: "status", "aria-labelledby": "rc-thanks-h", "data-thanks": kind
    }, [
      ui.x(function () { ui.shut(slot, root, null, false); }),
      el("h2", { id: "rc-thanks-h", tabindex: "-1", text: back ? gettext("Welcome back") : gettext("Thank you for supporting us") }),
      el("p", { text: back ? gettext("You're signed in.") + " " : gettext("Your gift keeps our reporting free for everyone who needs it.") },
        [back && el("a", { href: ui.base + "/support/manage", text: gettext("Manage my gifts") })])
    ]));
    root.getElementById("rc-thanks-h").focus({ preventScroll: true });
  }

  // The reader's standing: "current", "lapsed" or "" (never gave, as far as we know).
  widget.pass = function (doc, incoming, store, api, ui) {
    var jwk = doc.pass_key, token = incoming && incoming.get(PASS);
    var first = token ? verify(token, jwk).then(function (claims) {
      if (!claims) return;
      store.setItem(PASS, token);
      store.removeItem(DONOR);
      if (incoming.get("rc_manage")) thank(ui, "welcome");
      else if (incoming.get("rc_thanks")) thank(ui, incoming.get("rc_thanks"));
    }) : Promise.resolve();
    return first.then(function () {
      var held = store.getItem(PASS), remembered = store.getItem(DONOR) === "lapsed" ? "lapsed" : "";
      if (!held) return remembered;
      return verify(held, jwk).then(function (claims) {
        if (!claims) { store.removeItem(PASS); return remembered; }
        var now = Date.now() / 1000;
        if (now < claims.refresh && now < claims.until) return "current";
        return refresh(held, jwk, store, api).then(function (state) {
          if (state === "current") return "current";
          if (state === null) return now < claims.until ? "current" : "lapsed";
          store.removeItem(PASS);
          if (state === "lapsed") { store.setItem(DONOR, "lapsed"); return "lapsed"; }
          store.removeItem(DONOR);
          return "";
        });
      });
    });
  };
})();
