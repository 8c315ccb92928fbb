/*! Reader contributions widget: appeal boxes on article pages.
 * Plain JavaScript, no framework, no build step. Renders inside Shadow DOM, makes one
 * request before rendering (the site document, the same for every page and reader, so
 * a CDN answers it), decides in the browser, and never throws into the host page.
 */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src*="/widget.js"],script[src*="/widget."]');
  if (window.__supportWidget) return;
  // The decision and the box renderer, for the staff preview and the shared tests.
  var exported = window.__supportWidget = {};

  var DAY = 864e5;
  var PLACES = ["top", "bottom", "banner", "header"];
  var FORMAT_OF = { top: "inline", bottom: "inline", banner: "banner", header: "header" };
  var store = openStore();
  var base, currency = "eur", digits = 2, dismissDays = 7, uid = 0;

  // data-lang, else <html lang>: the document comes in it (?lang=) with our words.
  var lang = "", strings = {};
  function useDocument(doc) {
    lang = doc.language || lang;
    strings = doc.strings || strings;
  }
  function withLanguage(path) {
    return lang ? path + "?lang=" + lang : path;
  }
  function gettext(message, values) {
    return (strings[message] || message).replace(/%\((\w+)\)s/g, function (all, name) {
      return values && name in values ? values[name] : all;
    });
  }

  function warn(error) {
    try { if (window.console) console.warn("[support widget]", error); } catch (e) { /* ignore */ }
  }
  function safe(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { warn(e); }
    };
  }

  function openStore() {
    try {
      var s = window.localStorage, k = "rc_probe";
      s.setItem(k, "1");
      s.removeItem(k);
      return s;
    } catch (e) {
      var m = {};
      return {
        getItem: function (k) { return k in m ? m[k] : null; },
        setItem: function (k, v) { m[k] = String(v); },
        removeItem: function (k) { delete m[k]; }
      };
    }
  }

  function readerId() {
    var id = store.getItem("rc_reader");
    if (!/^\d{1,2}$/.test(id || "")) {
      // Coarse on purpose: 100 buckets split A/B tests to the percent, keep URLs
      // cacheable, and cannot single out a reader.
      var r = new Uint32Array(1);
      (window.crypto || { getRandomValues: function (a) { a[0] = Math.random() * 4e9; } })
        .getRandomValues(r);
      id = String(r[0] % 100);
      store.setItem("rc_reader", id);
    }
    return id;
  }

  function countRead(articleId) {
    var reads = {}, now = Date.now(), keys, kept = {};
    try { reads = JSON.parse(store.getItem("rc_reads") || "{}") || {}; } catch (e) { reads = {}; }
    reads[articleId] = now;
    keys = Object.keys(reads).filter(function (k) { return now - reads[k] < 30 * DAY; });
    keys.sort(function (a, b) { return reads[b] - reads[a]; }).slice(0, 500)
      .forEach(function (k) { kept[k] = reads[k]; });
    store.setItem("rc_reads", JSON.stringify(kept));
    return Object.keys(kept).length;
  }

  function load(key) {
    try { return JSON.parse(store.getItem(key) || "{}") || {}; } catch (e) { return {}; }
  }
  // Per campaign: when this browser showed it (for view caps) and how often it was closed.
  function keep(key, slug, update) {
    var all = load(key);
    all[slug] = update(all[slug]);
    store.setItem(key, JSON.stringify(all));
  }
  function countView(slug) {
    var cutoff = Date.now() - 365 * DAY;
    keep("rc_views", slug, function (times) {
      return (times || []).filter(function (t) { return t > cutoff; }).concat(Date.now()).slice(-50);
    });
  }

  var SEARCH = /(^|\.)(google|bing|duckduckgo|yahoo|ecosia|baidu|yandex|qwant|startpage)\./;
  var SOCIAL = /(^|\.)(facebook|instagram|twitter|x|t|linkedin|reddit|bsky|threads|tiktok|youtube|mastodon|whatsapp|lnkd)\.[a-z]+$/;
  function referrerKind() {
    var medium = norm(new URLSearchParams(location.search).get("utm_medium"));
    if (medium === "email" || medium === "newsletter") return "newsletter";
    var host = "";
    try { host = new URL(document.referrer).hostname; } catch (e) { return "direct"; }
    if (host === location.hostname) return "other";
    return SEARCH.test(host) ? "search" : SOCIAL.test(host) ? "social" : "other";
  }

  function dismissedUntil(p) { return Number(store.getItem("rc_dismissed_" + p) || 0); }

  function articleBody() {
    return document.querySelector("[data-article-body]") || document.querySelector("article");
  }

  // Zero layout shift: a box goes where it moves nothing the reader can see. That is a
  // placeholder the publisher reserved space in, or a spot below the screen (or above
  // it: the browser's scroll anchoring keeps what is on screen in place), or the end of
  // the page. Otherwise the top box moves down to the first paragraph break below the
  // screen, and a box with no such spot is not shown on this page view.
  function harmless(y) {
    var h = window.innerHeight || document.documentElement.clientHeight;
    return y >= h || y <= 0 || document.body.getBoundingClientRect().bottom - y < 1;
  }

  function spotFor(p) {
    var holder = document.querySelector('[data-support-appeal="' + p + '"]');
    if (holder) {
      var r = holder.getBoundingClientRect();
      // A positioned placeholder (the header button's, say) moves nothing either.
      if (r.height > 0 || harmless(r.top) || /absolute|fixed/.test(getComputedStyle(holder).position)) {
        return [holder];
      }
    }
    if (p === "banner") return [document.body, null];
    var body = articleBody();
    if (p === "header" || !body || !body.parentNode) return null;
    var b = body.getBoundingClientRect();
    if (p === "bottom") return harmless(b.bottom) ? [body.parentNode, body.nextSibling] : null;
    if (harmless(b.top)) return [body.parentNode, body];
    for (var c = body.firstElementChild; c; c = c.nextElementSibling) {
      if (harmless(c.getBoundingClientRect().top)) return [body, c];
    }
    return null;
  }

  function slotFor(p) {
    var spot = spotFor(p);
    if (!spot || spot.length === 1) return spot && spot[0];
    var slot = document.createElement("div");
    slot.setAttribute("data-support-appeal-slot", p);
    spot[0].insertBefore(slot, spot[1]);
    return slot;
  }

  function hasSlot(p) {
    return p === "banner" || !!(document.querySelector('[data-support-appeal="' + p + '"]') ||
      (p !== "header" && articleBody()));
  }

  function articleUrl() {
    var url = new URL(location.href);
    url.hash = "";
    return url.toString();
  }

  function api(path, options) {
    options = options || {};
    options.credentials = "omit";
    return fetch(base + path, options);
  }

  // Beacons wait in a queue and leave together when the page is hidden: no request
  // before or after rendering, one at the end of the page view.
  // The server counts each beacon once per page view (its random view id) and placement.
  var queue = [], seen = {}, viewed = {}, viewId = null;
  function pageViewId() {
    if (!viewId) {
      var b = new Uint8Array(16);
      (window.crypto || { getRandomValues: function (a) {
        for (var i = 0; i < a.length; i++) a[i] = Math.random() * 256;
      } }).getRandomValues(b);
      viewId = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    }
    return viewId;
  }
  function beacon(type, answer) {
    if (!base || !answer || !answer.campaign || answer.preview) return;
    var p = answer.placement;
    if (type === "impression") {
      if (seen[p]) return;  // once per page view and placement
      seen[p] = true;
      if (!viewed[answer.campaign]) countView(answer.campaign);  // once per page view
      viewed[answer.campaign] = true;
    } else if (!seen[p]) {
      // A click or close on a box never counted as seen: count it seen first.
      beacon("impression", answer);
    }
    queue.push({
      type: type, campaign: answer.campaign, variant: answer.variant, placement: p, view_id: pageViewId()
    });
  }
  function flush() {
    if (!queue.length) return;
    var body = JSON.stringify({ events: queue.splice(0, 50) });
    var url = base + "/api/v1/appeal-events/batch";
    // text/plain keeps it a simple request: no CORS preflight, fine for sendBeacon.
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      api("/api/v1/appeal-events/batch", {
        method: "POST", keepalive: true, headers: { "Content-Type": "text/plain" }, body: body
      }).catch(function () { /* a lost beacon is fine */ });
    }
  }

  // Minor units per unit as Stripe counts them (the server says: 0 digits for jpy).
  function factor() { return Math.pow(10, digits); }

  function money(minor) {
    var text, major = minor / factor();
    try {
      text = new Intl.NumberFormat(lang || document.documentElement.lang || "en", {
        style: "currency", currency: currency.toUpperCase(),
        minimumFractionDigits: minor % factor() ? digits : 0, maximumFractionDigits: digits
      }).format(major);
    } catch (e) { text = major.toFixed(digits) + " " + currency.toUpperCase(); }
    return text;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), safe(attrs[k]));
      else if (attrs[k] !== false && attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var CSS =
    ":host{all:initial;display:block}.wrap{container-type:inline-size}" +
    ".wrap.banner{position:fixed;left:0;right:0;bottom:0;z-index:2147483000}" +
    ".wrap.inplace{position:relative}" +
    ".banner .box{margin:0;max-height:33vh;overflow:auto;border:0;border-radius:0;" +
    "border-top:6px solid var(--support-accent,#0b5a8a);box-shadow:0 -2px 12px #0003;padding-bottom:.5em}" +
    ".banner .box.open{max-height:85vh}.banner p{margin-bottom:.5em}" +
    ".hdr{position:relative;display:inline-block}" +
    ".hdr>.cta{min-height:36px;padding:.3em .9em;font:600 15px/1.2 system-ui,sans-serif}" +
    ".hdr .box{position:absolute;right:0;top:calc(100% + 6px);width:min(24rem,92vw);z-index:2147483000;" +
    "margin:0;box-shadow:0 4px 16px #0004}" +
    ".box{box-sizing:border-box;position:relative;margin:1.25em 0;padding:1.25em 3em 1.25em 1.25em;" +
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d232b;" +
    "background:#f6f3ea;border-left:6px solid var(--support-accent,#0b5a8a);border-radius:4px}" +
    ".bottom{background:#fff;border:1px solid #cfd6dd;border-top:6px solid var(--support-accent,#0b5a8a)}" +
    "h2{margin:0 0 .4em;font-size:1.3em;line-height:1.25}p{margin:0 0 .8em}" +
    "button,input{font:inherit}" +
    ".cta,.go{min-height:44px;padding:.5em 1.3em;border:0;border-radius:4px;cursor:pointer;" +
    "background:var(--support-accent,#0b5a8a);color:#fff;font-weight:600}" +
    ".close{position:absolute;top:.4em;right:.4em;width:44px;height:44px;border:0;" +
    "background:none;font-size:1.6em;line-height:1;color:#45505c;cursor:pointer;border-radius:4px}" +
    "button:focus-visible,input:focus-visible+span,input[type=number]:focus-visible{" +
    "outline:3px solid #e8a317;outline-offset:2px}" +
    ".meter{height:8px;background:#dfe4e8;border-radius:4px;overflow:hidden;margin:0 0 .3em}" +
    ".meter i{display:block;height:100%;background:var(--support-accent,#0b5a8a)}" +
    ".goal{font-size:.875em;color:#45505c}" +
    "fieldset{border:0;margin:0 0 .8em;padding:0}legend{font-weight:600;margin-bottom:.3em}" +
    ".opts{display:flex;flex-wrap:wrap;gap:.5em}label{position:relative}" +
    "label input{position:absolute;top:0;left:0;opacity:0;width:1px;height:1px}" +
    ".opts span{display:inline-block;min-width:3.5em;min-height:44px;box-sizing:border-box;" +
    "padding:.55em .9em;text-align:center;border:2px solid #8795a1;border-radius:4px;" +
    "background:#fff;cursor:pointer}" +
    ".opts input:checked+span{border-color:var(--support-accent,#0b5a8a);" +
    "background:var(--support-accent,#0b5a8a);color:#fff}" +
    "input[type=number]{width:7em;min-height:44px;box-sizing:border-box;padding:.4em;" +
    "border:2px solid #8795a1;border-radius:4px;font-size:16px}" +
    ".err{color:#a3161b;font-weight:600}.err:empty{display:none}" +
    "select{min-height:44px;margin:0 0 .5em;padding:.3em .5em;border:2px solid #8795a1;border-radius:4px;" +
    "background:#fff;font:inherit;display:block}.cover{display:block;margin:0 0 .8em;cursor:pointer}" +
    ".cur{display:flex;gap:.5em;align-items:center;margin:0 0 .5em}.cur select{margin:0}" +
    ".cover input{position:static;opacity:1;width:auto;height:auto;margin:0 .4em 0 0}" +
    "[hidden]{display:none!important}" +
    "@container (max-width:480px){.box{padding:1em 2.8em 1em 1em}h2{font-size:1.15em}" +
    ".cta,.go{width:100%}}" +
    "@media (prefers-reduced-motion:no-preference){.box{animation:rc-in .35s ease-out}}" +
    "@keyframes rc-in{from{opacity:0;transform:translateY(-6px)}to{opacity:1;transform:none}}";

  var sheet = null;
  function style(root) {
    // A constructed stylesheet needs no 'unsafe-inline' in the host page's CSP.
    try {
      sheet = sheet || new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", { text: CSS }));
    }
  }

  function mount(slot, node, cls) {
    var root = slot.shadowRoot || slot.attachShadow({ mode: "open" });
    while (root.firstChild) root.removeChild(root.firstChild);
    style(root);
    root.appendChild(el("div", { "class": cls || "wrap" }, [node]));
    return root;
  }

  function closeBox(slot, root, answer, remember) {
    if (remember && answer && !answer.preview) {
      if (dismissDays > 0) store.setItem("rc_dismissed_" + answer.placement, Date.now() + dismissDays * DAY);
      keep("rc_closes", answer.campaign, function (n) { return (n || 0) + 1; });
      beacon("dismiss", answer);
    }
    while (root.firstChild) root.removeChild(root.firstChild);
    // Keep focus somewhere sensible and say what happened.
    var note = el("p", { role: "status", text: gettext("Appeal closed.") });
    note.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)";
    root.appendChild(note);
    slot.setAttribute("tabindex", "-1");
    slot.style.outline = "none";
    try { slot.focus({ preventScroll: true }); } catch (e) { /* old browsers */ }
  }

  function closeButton(onclick) {
    return el("button", {
      type: "button", "class": "close", "aria-label": gettext("Close this box"), title: gettext("Close"),
      onclick: onclick
    }, [
      el("span", { "aria-hidden": "true", text: "\u00d7" })
    ]);
  }


  // The reader's currency: their own choice, else their country's, else the site's.
  function readerCurrency(currencies, countries, country) {
    var chosen = store.getItem("rc_currency");
    if (chosen && currencies[chosen]) return chosen;
    var mapped = countries[String(country || "").toUpperCase()];
    return mapped && currencies[mapped] ? mapped : currency;
  }
  // What this answer's variant offers in a currency: its own asks, else the defaults.
  function asksIn(answer, code) {
    var own = (answer.asks || {})[code];
    var known = (answer.currencies || {})[code];
    return own || (known && known.asks) || null;
  }
  // The same sum as service/core/money.py fee_cover: after the fee, the whole gift arrives.
  function feeCover(amount, fee) {
    if (!fee || !(amount > 0)) return 0;
    return Math.ceil((amount + fee.fixed) * 10000 / (10000 - fee.bp)) - amount;
  }

  function picker(answer, id) {
    var currencies = answer.currencies || {};
    var codes = Object.keys(currencies);
    currency = readerCurrency(currencies, answer.countries || {}, answer.country);
    if (currencies[currency]) digits = currencies[currency].digits;
    var asks = asksIn(answer, currency), frequency = asks ? asks.default_frequency : "monthly";
    var err = el("p", { "class": "err", role: "alert" });
    var amounts = el("div", { "class": "opts" });
    var freqs = el("div", { "class": "opts" });
    var custom = el("input", {
      type: "number", inputmode: "decimal", min: "1", step: digits ? "0.01" : "1", id: id + "-other",
      "aria-label": gettext("Other amount in %(currency)s", { currency: currency.toUpperCase() }),
      placeholder: gettext("Other")
    });
    var coverBox = el("input", { type: "checkbox", id: id + "-cover" });
    var coverText = el("span");
    var cover = el("label", { "class": "cover", "for": id + "-cover" }, [coverBox, coverText]);
    var go = el("button", { type: "submit", "class": "go", text: gettext("Continue to payment") });
    var picked = el("select", {
      id: id + "-cur",
      onchange: function () {
        if (!currencies[picked.value]) return;
        currency = picked.value;
        digits = currencies[currency].digits;
        store.setItem("rc_currency", currency);
        asks = asksIn(answer, currency);
        if (asks && asks.frequencies.indexOf(frequency) < 0) frequency = asks.default_frequency;
        custom.setAttribute("aria-label", gettext("Other amount in %(currency)s", { currency: currency.toUpperCase() }));
        custom.setAttribute("step", digits ? "0.01" : "1");
        fillFrequencies();
        fillAmounts();
      }
    }, codes.map(function (code) {
      return el("option", { value: code, text: code.toUpperCase(), selected: code === currency ? "" : false });
    }));
    function fillFrequencies() {
      while (freqs.firstChild) freqs.removeChild(freqs.firstChild);
      ((asks && asks.frequencies) || []).forEach(function (f) {
        freqs.appendChild(el("label", {}, [
          el("input", {
            type: "radio", name: id + "-f", value: f, checked: f === frequency ? "" : false,
            onchange: function () { frequency = f; fillAmounts(); }
          }),
          el("span", { text: ({ monthly: gettext("Monthly"), annual: gettext("Yearly"), one_off: gettext("Once-off") })[f] || f })
        ]));
      });
    }
    function chosenAmount() {
      var checked = amounts.querySelector("input:checked");
      return checked ? Number(checked.value) : Math.round(parseFloat(custom.value) * factor());
    }
    function fillCover() {
      var fee = currencies[currency] && currencies[currency].fee, amount = chosenAmount();
      cover.hidden = !(fee && amount > 0);
      if (!cover.hidden) coverText.textContent = " " + gettext("Add %(amount)s to cover the processing fees", { amount: money(feeCover(amount, fee)) });
    }
    function fillAmounts() {
      while (amounts.firstChild) amounts.removeChild(amounts.firstChild);
      var list = (asks && asks.amounts[frequency]) || [];
      var preset = asks && asks.default_amounts[frequency];
      list.forEach(function (minor) {
        amounts.appendChild(el("label", {}, [
          el("input", {
            type: "radio", name: id + "-a", value: String(minor),
            checked: minor === preset ? "" : false,
            onchange: function () { custom.value = ""; fillCover(); }
          }),
          el("span", { text: money(minor) })
        ]));
      });
      amounts.appendChild(custom);
      fillCover();
    }
    custom.addEventListener("input", safe(function () {
      if (custom.value) {
        var checked = amounts.querySelector("input:checked");
        if (checked) checked.checked = false;
      }
      fillCover();
    }));
    fillFrequencies();
    fillAmounts();
    var form = el("form", { "class": "picker", id: id, hidden: "", novalidate: "" }, [
      el("fieldset", {}, [el("legend", { text: gettext("How often?") }), freqs]),
      el("fieldset", {}, [el("legend", { text: gettext("Amount") }), amounts]),
      el("label", { "class": "cur", hidden: codes.length > 1 ? false : "" }, [
        el("span", { text: gettext("Currency") + " " }), picked]),
      cover, err, go
    ]);
    form.addEventListener("submit", safe(function (event) {
      event.preventDefault();
      var checked = amounts.querySelector("input:checked");
      var amount = chosenAmount();
      if (!(amount > 0)) {
        err.textContent = gettext("Please choose or enter an amount.");
        (checked || custom).focus();
        return;
      }
      if (asks && amount < asks.minimum) {
        err.textContent = gettext("The smallest gift here is %(amount)s.", { amount: money(asks.minimum) });
        custom.focus();
        return;
      }
      err.textContent = "";
      go.disabled = true;
      go.setAttribute("aria-busy", "true");
      go.textContent = gettext("Opening secure payment\u2026");
      var body = JSON.stringify({
        frequency: frequency, amount: amount, currency: currency,
        campaign: answer.campaign, variant: answer.variant, placement: answer.placement,
        cover_fees: !cover.hidden && coverBox.checked, return_url: articleUrl(), language: lang || null
      });
      // One key per donation attempt, the same on a retry: a retry after a lost answer
      // gets the Checkout Session already opened, not a second one.
      if (body !== attempt.body) attempt = { body: body, key: uuid4() };
      api("/api/v1/checkout", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": attempt.key },
        body: body
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.ok && body.checkout_url) { location.assign(body.checkout_url); return; }
          var error = new Error("checkout " + r.status);
          error.shown = r.status === 429 ? gettext("Too many attempts. Please wait a minute and try again.")
            : firstError(body);
          throw error;
        });
      }).catch(function (e) {
        err.textContent = (e && e.shown) || gettext("Sorry, we couldn't start the payment. Please try again.");
        go.disabled = false;
        go.removeAttribute("aria-busy");
        go.textContent = gettext("Continue to payment");
      });
    }));
    return form;
  }

  var attempt = { body: null, key: null };

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  function firstError(body) {
    var errors = body && body.errors && (body.errors.json || body.errors);
    if (errors && typeof errors === "object") {
      for (var k in errors) {
        var v = errors[k];
        if (Array.isArray(v) && typeof v[0] === "string") return v[0];
      }
    }
    return body && body.code === 422 ? body.message : "";
  }

  // "1 supporter", "2 supporters": the page language's plural rules.
  function plural(n) {
    try { return new Intl.PluralRules(document.documentElement.lang || "en").select(n); } catch (e) { return n === 1 ? "one" : "other"; }
  }

  function renderAppeal(p, answer, slot, inplace) {
    slot = slot || slotFor(p);
    if (!slot) return;
    var id = "rc" + (++uid), header = p === "header";
    var form = picker(answer, id + "-pick");
    var cta = el("button", {
      type: "button", "class": "cta", "aria-expanded": "false", "aria-controls": id + "-pick",
      text: answer.cta || gettext("Support us"),
      onclick: function () {
        beacon("click", answer);
        form.hidden = false;
        cta.setAttribute("aria-expanded", "true");
        cta.hidden = true;
        box.className += " open";
        var first = form.querySelector("input:checked");
        if (first) first.focus();
      }
    });
    if (header) {
      // The header button opens the box as a panel below it, over the page.
      var open = el("button", {
        type: "button", "class": "cta", "aria-expanded": "false", "aria-controls": id + "-box",
        text: answer.cta || gettext("Support us"), "data-placement": p, "data-campaign": answer.campaign,
        onclick: function () {
          box.hidden = !box.hidden;
          open.setAttribute("aria-expanded", String(!box.hidden));
          if (!box.hidden) { cta.click(); }
        }
      });
    }
    function shut() {
      if (!header) return closeBox(slot, root, answer, true);
      box.hidden = true;  // the header button stays; its panel closes
      open.setAttribute("aria-expanded", "false");
      open.focus();
    }
    var parts = [
      closeButton(shut),
      el("h2", { id: id + "-h", text: answer.heading }),
      el("p", { text: answer.body })
    ];
    // Social proof that never embarrasses: the meter only from a share of the goal up.
    if (answer.goal && answer.goal_meter !== false) {
      var pct = Math.min(100, Math.round(100 * answer.supporters.count / answer.goal));
      var bar = el("i");
      bar.style.width = pct + "%";
      parts.push(el("div", { "class": "meter", "aria-hidden": "true" }, [bar]));
      var goal = answer.goal.toLocaleString(lang || "en");
      parts.push(el("p", {
        "class": "goal",
        text: pct >= 100 ? gettext("Goal of %(goal)s supporters reached", { goal: goal })
          : plural(answer.supporters.count) === "one"
            ? gettext("%(count)s supporter of our goal of %(goal)s", {
              count: answer.supporters.count.toLocaleString(lang || "en"), goal: goal
            })
            : gettext("%(count)s supporters of our goal of %(goal)s", {
              count: answer.supporters.count.toLocaleString(lang || "en"), goal: goal
            })
      }));
    }
    parts.push(cta, form, el("p", { "class": "goal" }, [el("a", {
      href: base + "/support/manage?return_url=" + encodeURIComponent(articleUrl()), text: gettext("Already a supporter? Sign in")
    })]));
    var box = el("aside", {
      "class": "box " + p, "aria-labelledby": id + "-h", "data-placement": p, id: id + "-box",
      "data-campaign": answer.campaign, "data-variant": answer.variant, hidden: header ? "" : false
    }, parts);
    box.addEventListener("keydown", safe(function (event) {
      if (event.key === "Escape" && FORMAT_OF[p] !== "inline") shut();
    }));
    var cls = header ? "hdr" : "wrap " + (p === "banner" ? "banner" : "") + (inplace ? " inplace" : "");
    var root = mount(slot, header ? open : box, cls);
    if (header) root.firstChild.appendChild(box);
    watchImpression(header ? open : box, answer);
    return box;
  }
  // The staff preview renders the same box with the same styles, counting nothing.
  exported.render = function (host, answer) {
    answer.preview = true;
    currency = answer.currency || currency;
    return renderAppeal(answer.placement, answer, host, true);
  };

  function watchImpression(box, answer) {
    if (!("IntersectionObserver" in window)) { beacon("impression", answer); return; }
    var seen = new IntersectionObserver(safe(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) {
        seen.disconnect();
        beacon("impression", answer);
      }
    }), { threshold: 0.5 });
    seen.observe(box);
  }

  // The decision: service/appeals/decision.py's decide_appeal on the site document
  // (tests/appeals/decision_cases.json holds the cases both must agree on).
  var RANK = {
    supporter: 0, excluded: 1, not_targeted: 2, below_article_threshold: 3, frequency_capped: 4,
    goal_reached: 5, format_not_chosen: 6, no_copy: 7, no_variant: 8, outside_dates: 9
  };
  function norm(label) { return String(label || "").trim().toLowerCase(); }
  function has(list, label) { return list.indexOf(label) >= 0; }

  function refusal(c, article, reader, now) {
    if (c.starts != null && now < c.starts) return "outside_dates";
    if (c.ends != null && now >= c.ends) return "outside_dates";
    var donor = donorOf(reader);
    if (!has(c.donor_states.length ? c.donor_states : ["never", "lapsed"], donor)) {
      return donor === "current" ? "supporter" : "not_targeted";
    }
    var tagIn = function (list) { return article.tags.some(function (t) { return has(list, t); }); };
    if (has(c.exclude_sections, article.section) || tagIn(c.exclude_tags)) return "excluded";
    if (c.include_sections.length && !has(c.include_sections, article.section)) return "not_targeted";
    if (c.include_tags.length && !tagIn(c.include_tags)) return "not_targeted";
    if ((c.devices.length && !has(c.devices, reader.device)) ||
      (c.referrers.length && !has(c.referrers, reader.referrer)) ||
      (c.countries.length && !has(c.countries, String(reader.country || "").toUpperCase()))) {
      return "not_targeted";
    }
    if (reader.articlesRead < c.min_articles_read) return "below_article_threshold";
    var since = now - c.views_days * DAY;
    var views = ((reader.views || {})[c.slug] || []).filter(function (t) { return t > since; });
    if ((c.max_views != null && views.length >= c.max_views) ||
      (c.max_dismissals != null && ((reader.dismissals || {})[c.slug] || 0) >= c.max_dismissals)) {
      return "frequency_capped";
    }
    if (c.goal_reached_hides) return "goal_reached";
    return null;
  }

  function donorOf(reader) { return reader.supporter ? "current" : reader.donorState || "never"; }

  function decide(doc, article, reader, now, p) {
    var answer = {
      show: false, reason: "", placement: p, campaign: null, variant: null, heading: null,
      body: null, cta: null, supporters: doc.supporters, goal: null, currency: doc.currency,
      currency_digits: doc.currency_digits, dismiss_days: doc.dismiss_days,
      currencies: doc.currencies || {}, countries: doc.countries || {}, country: reader.country,
      asks: {}, goal_meter: false
    };
    function no(reason, slug) { answer.reason = reason; answer.campaign = slug || null; return answer; }
    article = { section: norm(article.section), tags: (article.tags || []).map(norm) };
    if (!doc.available) return no("unavailable");
    if (donorOf(reader) === "current" &&
      !doc.campaigns.some(function (c) { return has(c.donor_states, "current"); })) {
      return no("supporter");
    }
    if (reader.dismissedUntil > now) return no("dismissed");
    if (!doc.campaigns.length) return no("no_campaign");
    var best = null;
    for (var i = 0; i < doc.campaigns.length; i++) {
      var c = doc.campaigns[i], reason = refusal(c, article, reader, now), v = null;
      if (!reason && !has(c.formats, FORMAT_OF[p])) reason = "format_not_chosen";
      if (!reason) {
        v = c.variants[c.buckets[Number(reader.bucket) % c.buckets.length]];
        reason = !v ? "no_variant" : !v.copy[p] ? "no_copy" : null;
      }
      if (!reason) {
        var copy = v.copy[p];
        answer.show = true;
        answer.reason = c.thank_you ? "goal_thank_you" : "shown";
        answer.campaign = c.slug;
        answer.variant = v.key;
        answer.heading = copy.heading;
        answer.body = copy.body;
        answer.cta = copy.cta;
        answer.goal = c.goal;
        answer.goal_meter = c.goal_meter !== false;
        answer.asks = v.asks || {};
        return answer;
      }
      if (!best || RANK[reason] < RANK[best[0]]) best = [reason, c.slug];
    }
    return no(best[0], best[0] === "outside_dates" ? null : best[1]);
  }
  exported.decide = decide;

  function requestAppeals(articleId, cfg, incoming) {
    var now = Date.now();
    // The publisher may narrow the formats a page takes (data-formats="inline,header").
    var formats = String(cfg.formats || "inline,banner,header").split(",").map(norm);
    var wanted = PLACES.filter(function (p) {
      return has(formats, FORMAT_OF[p]) && dismissedUntil(p) <= now && hasSlot(p);
    });
    if (!wanted.length && !incoming) return;
    var reader = {
      bucket: readerId(), articlesRead: countRead(articleId), dismissedUntil: 0,
      supporter: false, donorState: norm(cfg.donorState),
      device: (window.innerWidth || 1024) < 700 ? "phone" : "desktop", referrer: referrerKind(),
      country: cfg.country || "", views: load("rc_views"), dismissals: load("rc_closes")
    };
    var article = { section: cfg.section, tags: String(cfg.tags || "").split(",") };
    api(withLanguage("/api/v1/appeals/site")).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (doc) {
      if (doc && doc.campaigns) useDocument(doc);  // the words first: the pass may thank
      return doc && doc.campaigns && standing(doc, incoming).then(function (state) {
        reader.supporter = state === "current";
        if (state === "lapsed") reader.donorState = state;
        return doc;
      });
    }).then(function (doc) {
      // The country only from the page or, when the operator's CDN tells us, from its
      // header, asked once a day: the document itself is the same for every reader.
      if (!doc || !doc.geo || reader.country) return doc;
      var known = load("rc_country");
      if (known.at > Date.now() - DAY) { reader.country = known.country || ""; return doc; }
      return api("/api/v1/reader-country").then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (answer) {
          reader.country = (answer && answer.country) || "";
          store.setItem("rc_country", JSON.stringify({ country: reader.country, at: Date.now() }));
          return doc;
        }, function () { return doc; });
    }).then(safe(function (doc) {
      if (!doc) return;
      wanted.forEach(safe(function (p) {
        var a = decide(doc, article, reader, Date.now(), p);
        currency = a.currency || currency;
        if (a.currency_digits != null) digits = a.currency_digits;
        if (!cfg.dismissDays && a.dismiss_days != null) dismissDays = a.dismiss_days;
        if (a.show && a.heading) renderAppeal(p, a);
      }));
    })).catch(warn);
  }

  // Supporter pass: static/widget-pass.js, loaded for holders only.
  function standing(doc, incoming) {
    var lapsed = store.getItem("rc_donor") || "";
    return incoming || store.getItem("rc_pass") ? new Promise(function (done) {
      var tag = el("script", { src: base + "/static/widget-pass.js" });
      tag.onload = function () {
        exported.pass(doc, incoming, store, api, { el: el, mount: mount, slot: slotFor, x: closeButton, shut: closeBox, base: base, gettext: gettext })
          .then(done, done);
      };
      tag.onerror = function () { done(lapsed); };
      document.head.appendChild(tag);
    }) : Promise.resolve(lapsed);
  }

  var main = safe(function () {
    if (!script || !script.src || !window.fetch || !Element.prototype.attachShadow) return;
    if (script.hasAttribute("data-preview")) return;  // the staff editor renders itself
    window.addEventListener("pagehide", safe(flush));
    document.addEventListener("visibilitychange", safe(function () {
      if (document.visibilityState === "hidden") flush();
    }));
    var cfg = script.dataset || {};
    base = new URL(script.src, location.href).origin;
    lang = String(cfg.lang || document.documentElement.lang || "").split(/[-_]/)[0].toLowerCase().replace(/[^a-z]/g, "");
    if (cfg.dismissDays) dismissDays = Number(cfg.dismissDays) || 0;
    var incoming = new URLSearchParams(location.hash.slice(1));
    if (incoming.has("rc_pass")) history.replaceState(history.state, "", articleUrl());
    else incoming = null;
    requestAppeals(cfg.articleId || location.pathname, cfg, incoming);
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
