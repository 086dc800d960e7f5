// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";

  // A page names the element to focus when it loads with `autofocus` (the calculator's result, an error
  // summary, the trip just added); browsers that only honour it on form fields are helped here.
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.querySelector("main [autofocus]");
    if (el && document.activeElement !== el) { el.focus(); }
  });

  // Switching language keeps what is on the page. The switch itself carries the state the server knows
  // (the address, or the search it re-posts); what was typed in the page's forms and not yet sent is
  // kept here for the one page load that follows the switch, and forgotten on that load.
  var KEPT = "kosh:typed";
  var SKIP = ["hidden", "password", "file", "submit", "button", "reset", "image"];

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && !el.disabled && SKIP.indexOf(el.type) < 0;
    });
  }

  function valueOf(el) {
    return el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
  }

  document.addEventListener("click", function (event) {
    var choice = event.target.closest && event.target.closest("[data-lang-switch] a, [data-lang-switch] button");
    if (!choice) { return; }
    var typed = false;
    var forms = Array.prototype.map.call(document.querySelectorAll("main form"), function (form) {
      return fieldsOf(form).map(function (el) {
        var value = valueOf(el);
        typed = typed || (value !== "" && value !== false);
        return [el.name, value];
      });
    });
    if (!typed) { return; }
    try {
      sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, forms: forms }));
    } catch (e) { /* storage refused (private mode): the switch still keeps what the server knows */ }
  });

  function restore() {
    var kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
      sessionStorage.removeItem(KEPT);
    } catch (e) { return; }
    if (!kept || kept.path !== location.pathname || !Array.isArray(kept.forms)) { return; }
    var forms = document.querySelectorAll("main form");
    kept.forms.forEach(function (values, i) {
      var fields = forms[i] ? fieldsOf(forms[i]) : [];
      // Only into the same form: the same fields in the same order; anything else is left as served.
      if (fields.length !== values.length) { return; }
      if (!fields.every(function (el, j) { return values[j][0] === el.name; })) { return; }
      fields.forEach(function (el, j) {
        if (el.type === "checkbox" || el.type === "radio") { el.checked = values[j][1] === true; }
        else { el.value = values[j][1]; }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
}());
