// Live preview in the campaign editor: copy is shown as plain text, exactly as readers see it.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form) return;
  var supporters = form.getAttribute("data-supporters") || "";
  var goalInput = form.querySelector("input[name=goal_supporters]");
  function goalText() {
    var n = parseInt(goalInput && goalInput.value, 10);
    return isNaN(n) ? (form.getAttribute("data-goal") || "") : n.toLocaleString("en");
  }
  // Same rule as service/appeals.py fill(): a value that starts a sentence is capitalised.
  function fill(text) {
    var values = { supporters: supporters, goal: goalText() };
    return text.replace(/(^|[.!?]\s+)?\{(supporters|goal)\}/g, function (_m, start, name) {
      var value = values[name];
      return start === undefined ? value : start + value.charAt(0).toUpperCase() + value.slice(1);
    });
  }
  function refresh(variant) {
    variant.querySelectorAll("[data-preview]").forEach(function (input) {
      var out = variant.querySelector('[data-preview-out="' + input.getAttribute("data-preview") + '"]');
      // textContent, never innerHTML: markup typed here shows as text, as it will for readers.
      if (out) out.textContent = fill(input.value);
    });
  }
  form.addEventListener("input", function (event) {
    var variant = event.target.closest(".variant");
    if (variant) refresh(variant);
    else if (event.target === goalInput) form.querySelectorAll(".variant").forEach(refresh);
  });
})();
