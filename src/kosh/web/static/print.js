// "Print this page" buttons (a host's receipt, a migrant's proof of status): shown only where
// JavaScript can print; the browser's own print command prints the same page without them.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
