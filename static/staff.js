// Campaign editor: the preview is the widget's own box (static/widget.js, loaded with
// data-preview), rendered at a phone's and a desktop's width with the copy as typed,
// filled in as readers will see it, goal meter and close button included.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form) return;
  var widget = window.__supportWidget;
  var supporters = form.getAttribute("data-supporters") || "";
  var count = Number(form.getAttribute("data-supporter-count") || 0);
  var goalInput = form.querySelector("input[name=goal_supporters]");
  function goal() {
    var n = parseInt(goalInput && goalInput.value, 10);
    return isNaN(n) ? null : n;
  }
  function goalText() {
    var n = goal();
    return n === null ? (form.getAttribute("data-goal") || "") : n.toLocaleString("en");
  }
  // Same rule as service/appeals/decision.py fill(): a value that starts a sentence is capitalised.
  function fill(text) {
    var values = { supporters: supporters, goal: goalText() };
    return text.replace(/(^|[.!?]\s+)?\{(supporters|goal)\}/g, function (_m, start, name) {
      var value = values[name];
      return start === undefined ? value : start + value.charAt(0).toUpperCase() + value.slice(1);
    });
  }
  function text(variant, name) {
    var input = variant.querySelector('[data-preview="' + name + '"]');
    return input ? input.value.trim() : "";
  }
  var currencies = {};
  try { currencies = JSON.parse(form.getAttribute("data-currencies") || "{}"); } catch (e) { currencies = {}; }
  // The preview's picker offers each currency's default asks (what readers get without
  // the variant's own); the variant's own are checked when saving.
  function refresh(variant) {
    var key = variant.querySelector("input[name$='-key']");
    variant.querySelectorAll("[data-preview-host]").forEach(function (host) {
      var p = host.getAttribute("data-preview-host");
      var copy = [text(variant, p + "-heading"), text(variant, p + "-body"), text(variant, p + "-cta")];
      if (host.shadowRoot) host.shadowRoot.replaceChildren();
      host.hidden = !(widget && copy[0] && copy[1] && copy[2]);
      if (host.hidden) return;
      widget.render(host, {
        show: true, placement: p, campaign: form.getAttribute("data-slug") || "preview",
        variant: (key && key.value) || "preview", heading: fill(copy[0]), body: fill(copy[1]),
        cta: fill(copy[2]), supporters: { count: count, display: supporters }, goal: goal(),
        currency: form.getAttribute("data-currency") || "eur", currencies: currencies
      });
    });
  }
  form.querySelectorAll(".variant").forEach(refresh);
  form.addEventListener("input", function (event) {
    var variant = event.target.closest(".variant");
    if (variant) refresh(variant);
    else if (event.target === goalInput) form.querySelectorAll(".variant").forEach(refresh);
  });
})();
