// vernetzen's page script: progressive enhancement only. Every page works
// without it; this file adds the CSRF header to htmx requests, confirm
// prompts and a copy button. (A file, not inline: the CSP allows no
// inline scripts.)
(function () {
  "use strict";

  // htmx requests carry the session's CSRF token, as forms do in a field.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Forms with data-confirm ask before they submit.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Buttons with data-copy copy the text of the element with that id.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn || !navigator.clipboard) {
      return;
    }
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (el) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        btn.textContent = "Copied";
      });
    }
  });
})();
