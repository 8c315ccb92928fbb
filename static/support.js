/* Support page, made nicer with JavaScript: live amount checks, a clear button label,
   no double submits. Without it the form still posts and the server checks everything.
   On the thank-you page it keeps the signed supporter pass for this origin's widget. */
(function () {
  "use strict";

  var thanks = document.querySelector("[data-supporter-thanks]");
  if (thanks && thanks.dataset.supporterPass) {
    try { window.localStorage.setItem("rc_pass", thanks.dataset.supporterPass); } catch (e) { /* private mode */ }
  }

  // The currency switch works as a plain GET form; with JavaScript a choice applies at once.
  var switcher = document.querySelector("[data-currency-switch]");
  if (switcher) {
    var switchButton = switcher.querySelector("[data-currency-button]");
    if (switchButton) { switchButton.hidden = true; }
    switcher.querySelector("select").addEventListener("change", function () { switcher.submit(); });
  }

  var form = document.querySelector("[data-give-form]");
  if (!form) { return; }
  var cover = form.querySelector("[data-cover-fees]");
  var coverLabel = form.querySelector("[data-fee-label]");
  var status = form.querySelector("[data-form-status]");
  var amountError = form.querySelector("[data-amount-error]");
  var custom = form.querySelector("#custom-amount");
  var button = form.querySelector("[data-give-button]");
  var idle = button.textContent;
  var symbol = (form.querySelector(".money-input span") || {}).textContent || "";

  // Decimals as Stripe counts them (0 for jpy); the server's parser has the last word.
  var digits = parseInt(form.dataset.digits, 10) || 0;
  var factor = Math.pow(10, digits);
  var zeros = new Array(digits + 1).join("0");

  function parseMinor(text) {
    var cleaned = text.replace(symbol, "").trim();
    if (cleaned.indexOf(",") !== -1 && cleaned.indexOf(".") === -1) {
      cleaned = cleaned.replace(",", ".");
    }
    var shape = digits ? new RegExp("^\\d+(\\.\\d{1," + digits + "})?$") : /^\d+$/;
    if (!shape.test(cleaned)) { return null; }
    var parts = cleaned.split(".");
    var fraction = digits ? parseInt(((parts[1] || "") + zeros).slice(0, digits), 10) : 0;
    return parseInt(parts[0], 10) * factor + fraction;
  }
  var minimum = parseInt(form.dataset.minimumMinor, 10);
  var maximum = parseInt(form.dataset.maximumMinor, 10);

  function frequency() {
    var checked = form.querySelector("input[name=frequency]:checked");
    return checked ? checked.value : "monthly";
  }
  function preset() {
    var checked = form.querySelector("input[name=amount_" + frequency() + "]:checked");
    return checked && checked.value !== "other" ? parseInt(checked.value, 10) : null;
  }
  function chosenAmount() {
    return custom.value.trim() ? parseMinor(custom.value) : preset();
  }
  // Amounts as the page's language writes them ("10 £", "£10"), whole ones bare.
  function label(minor) {
    var major = minor / factor;
    try {
      return new Intl.NumberFormat(document.documentElement.lang || "en", {
        style: "currency", currency: (form.dataset.currency || "eur").toUpperCase(),
        minimumFractionDigits: minor % factor ? digits : 0, maximumFractionDigits: digits
      }).format(major);
    } catch (e) {
      return symbol + (minor % factor === 0 ? String(major) : major.toFixed(digits));
    }
  }
  // The page's own (translated) messages, from data-message-* and data-label-*.
  function text(name, amount) {
    return (form.dataset[name] || "").replace("%(amount)s", amount || "");
  }
  function problem() {
    var amount = chosenAmount();
    if (amount === null) {
      return custom.value.trim() ? text("messageFormat") : text("messageEmpty");
    }
    if (amount < minimum) { return text("messageMinimum"); }
    if (amount > maximum) { return text("messageMaximum"); }
    return null;
  }
  function showProblem(message) {
    amountError.textContent = message || "";
    amountError.hidden = !message;
    if (message) { custom.setAttribute("aria-invalid", "true"); } else { custom.removeAttribute("aria-invalid"); }
  }
  // The same sum as service/core/money.py fee_cover: the total after the fee is the gift.
  function feeCover(amount) {
    if (!cover || !(amount > 0)) { return 0; }
    var bp = parseInt(cover.dataset.feeBp, 10), fixed = parseInt(cover.dataset.feeFixed, 10);
    return Math.ceil((amount + fixed) * 10000 / (10000 - bp)) - amount;
  }
  function refresh() {
    var amount = chosenAmount();
    var ok = amount !== null && !problem();
    var fee = ok ? feeCover(amount) : 0;
    if (cover && coverLabel && ok) { coverLabel.textContent = text("labelCover", label(fee)); }
    var total = ok && cover && cover.checked ? amount + fee : amount;
    var kind = { monthly: "labelMonthly", annual: "labelAnnual" }[frequency()] || "labelOnce";
    button.textContent = ok ? text(kind, label(total)) : idle;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.indexOf("amount_") === 0) {
      if (event.target.value === "other") { custom.focus(); } else { custom.value = ""; }
      showProblem(null);
    }
    refresh();
  });
  custom.addEventListener("input", function () {
    if (custom.value.trim()) {
      var other = form.querySelector("input[name=amount_" + frequency() + "][value=other]");
      if (other) { other.checked = true; }
    }
    if (!amountError.hidden) { showProblem(problem()); }
    refresh();
  });
  form.addEventListener("submit", function (event) {
    var message = problem();
    if (message) {
      event.preventDefault();
      showProblem(message);
      status.innerHTML = "";
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = message;
      status.appendChild(p);
      custom.focus();
      return;
    }
    // The server would open the same Checkout Session anyway; this just avoids the wait.
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    button.disabled = true;
    button.textContent = text("messageBusy");
  });
  window.addEventListener("pageshow", function () {
    // Coming back from Stripe with the back button: let them try again.
    delete form.dataset.submitting;
    button.disabled = false;
    refresh();
  });
  refresh();
})();
