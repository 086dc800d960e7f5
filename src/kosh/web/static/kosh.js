// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("[data-autosubmit]")) { el.form.submit(); }
});
document.addEventListener("click", function (event) {
  var btn = event.target.closest && event.target.closest("[data-add-trip]");
  if (!btn) { return; }
  var list = document.getElementById("trips");
  var rows = list.querySelectorAll(".trip");
  var clone = rows[rows.length - 1].cloneNode(true);
  var n = rows.length;
  clone.querySelectorAll("input").forEach(function (input) {
    input.value = "";
    input.id = input.id.replace(/\d+$/, String(n));
  });
  clone.querySelectorAll("label").forEach(function (label) {
    label.htmlFor = label.htmlFor.replace(/\d+$/, String(n));
  });
  list.appendChild(clone);
  clone.querySelector("input").focus();
});
