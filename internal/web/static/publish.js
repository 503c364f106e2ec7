// Publishing pages: the media upload (streamed to the API with the CSRF
// header, so the server reads the file as it arrives), the composer's
// variants, confirmations.
(function () {
  "use strict";
  var limits = { image: 20 * 1024 * 1024, video: 1024 * 1024 * 1024 };
  var form = document.getElementById("media-upload");
  if (form && window.fetch && window.FormData) {
    var err = document.getElementById("media-error");
    var say = function (msg) { err.textContent = msg; err.hidden = false; };
    form.addEventListener("submit", function (ev) {
      var input = form.querySelector("input[type=file]");
      var f = input && input.files && input.files[0];
      if (!f) return;
      ev.preventDefault();
      var kind = f.type.indexOf("video/") === 0 ? "video" : "image";
      if (f.size > limits[kind]) {
        say("The " + kind + " is larger than " + Math.round(limits[kind] / 1048576) + " MB.");
        return;
      }
      var data = new FormData(form);
      data.delete("redirect");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      err.hidden = true;
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": form.querySelector("input[name=csrf]").value, "Accept": "application/json" }
      }).then(function (resp) {
        if (resp.ok) { window.location.href = "/media"; return; }
        return resp.json().then(function (j) {
          say((j && j.error && j.error.message) || ("Upload failed (" + resp.status + ")"));
        }, function () { say("Upload failed (" + resp.status + ")"); });
      }).catch(function () { say("The upload was interrupted."); })
        .finally(function () { button.disabled = false; });
    });
  }
  // The composer's variants: one fieldset per platform or channel, added
  // by htmx from /posts/variant; adding one twice shows the first, and
  // removing one checks the post again.
  var compose = document.getElementById("compose");
  if (compose) {
    var findVariant = function (key) {
      var found = null;
      compose.querySelectorAll("fieldset.variant").forEach(function (v) {
        if (v.getAttribute("data-variant-key") === key) found = v;
      });
      return found;
    };
    document.body.addEventListener("htmx:beforeRequest", function (ev) {
      if (!ev.detail || ev.detail.elt.id !== "variant-add") return;
      var have = findVariant(document.getElementById("variant-target").value);
      if (have) {
        ev.preventDefault();
        have.scrollIntoView({ block: "nearest" });
        have.querySelector("textarea").focus();
      }
    });
    compose.addEventListener("click", function (ev) {
      var btn = ev.target.closest(".js-variant-remove");
      if (!btn) return;
      btn.closest("fieldset.variant").remove();
      if (window.htmx) window.htmx.trigger(compose, "change");
    });
  }
  document.querySelectorAll("form.js-confirm").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (!window.confirm(f.getAttribute("data-confirm") || "Sure?")) ev.preventDefault();
    });
  });
})();
