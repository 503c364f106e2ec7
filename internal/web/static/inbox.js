// The inbox pages' script: live updates and keyboard shortcuts. Progressive
// enhancement only (every action is also a form); a file, since the CSP
// allows no inline scripts.
//
// Live updates: the list page listens to /inbox/events (server-sent
// events, the caller's units only) and, on a new message, asks the server
// for the "N new messages" banner at once (htmx, the event "inbox-new").
//
// Shortcuts: j / k move through the list, Enter or o opens, e closes the
// conversation, a assigns it to me, r goes to the reply box, x checks the
// row for a bulk action, ? lists them.
(function () {
  "use strict";

  var live = document.querySelector(".inbox-live");
  if (live && window.EventSource) {
    var es = new EventSource("/inbox/events");
    // The page says when it is live (the server has subscribed it).
    es.addEventListener("open", function () { document.body.dataset.live = "on"; });
    es.addEventListener("error", function () { document.body.dataset.live = "off"; });
    // One update at a time, and one more after it when messages arrived
    // meanwhile: a burst costs two requests and loses nothing.
    var busy = false, again = false;
    var update = function () {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      document.body.dispatchEvent(new CustomEvent("inbox-new"));
    };
    // The rows of the first page take the updates; elsewhere the banner.
    var updated = document.getElementById("inbox-rows") || live;
    document.body.addEventListener("htmx:afterRequest", function (e) {
      if (e.target === updated) {
        busy = false;
        if (again) {
          again = false;
          update();
        }
      }
    });
    es.addEventListener("message", update);
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // Rows inserted live: the newest shown moves on (so that the next
  // update and the banner count from it) and the shortcuts see them.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (!e.target || e.target.id !== "inbox-rows") {
      return;
    }
    var first = e.target.querySelector("tr[data-id]");
    var after = document.getElementById("inbox-after");
    if (first && after && Number(first.getAttribute("data-id")) > Number(after.value)) {
      after.value = first.getAttribute("data-id");
    }
    var sel = rows[current];
    var before = rows.length;
    rows = Array.prototype.slice.call(document.querySelectorAll(".inbox-table tbody tr"));
    current = sel ? rows.indexOf(sel) : -1;
    // The count above the list grows with the rows.
    var summary = document.querySelector(".summary");
    var m = summary && /^(\d+)(\+?) /.exec(summary.textContent);
    if (m && rows.length > before) {
      var n = Number(m[1]) + rows.length - before;
      summary.textContent = n + m[2] + (n === 1 ? " message" : " messages");
    }
  });

  // Choosing a saved reply puts its text, filled in, into the reply box.
  var saved = document.getElementById("reply-saved");
  if (saved) {
    saved.addEventListener("change", function () {
      var opt = saved.options[saved.selectedIndex];
      var text = document.getElementById("reply-text");
      if (opt && text && opt.getAttribute("data-text")) {
        text.value = opt.getAttribute("data-text");
        text.focus();
      }
    });
  }

  // A reply still on its way: look again in a few seconds, unless someone
  // is writing.
  if (document.querySelector(".rs-scheduled, .rs-publishing")) {
    window.setTimeout(function () {
      var text = document.getElementById("reply-text");
      var note = document.getElementById("note-text");
      if ((!text || !text.value) && (!note || !note.value)) {
        window.location.reload();
      }
    }, 4000);
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // post sends a form to the conversation of message id, then reloads.
  function post(id, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf", csrf());
    fetch("/inbox/" + id, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf() }
    }).then(function () { window.location.reload(); });
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll(".inbox-table tbody tr"));
  var current = -1;
  function select(i) {
    if (!rows.length) {
      return;
    }
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (current >= 0 && rows[current]) {
      rows[current].classList.remove("selected");
    }
    current = i;
    rows[i].classList.add("selected");
    rows[i].scrollIntoView({ block: "nearest" });
  }
  function selectedID() {
    var row = rows[current];
    if (row) {
      return row.getAttribute("data-id");
    }
    var page = document.querySelector("[data-message-id]");
    return page ? page.getAttribute("data-message-id") : null;
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) {
      return;
    }
    var id;
    switch (e.key) {
    case "j":
      select(current + 1);
      break;
    case "k":
      select(current - 1);
      break;
    case "Enter":
    case "o":
      if ((id = rows[current] && selectedID())) {
        window.location.href = "/inbox/" + id;
      } else {
        return;
      }
      break;
    case "e":
      if (!(id = selectedID())) {
        return;
      }
      post(id, { status: "closed" });
      break;
    case "a":
      if (!(id = selectedID())) {
        return;
      }
      post(id, { assign: "me" });
      break;
    case "r":
      var box = document.getElementById("reply-text");
      if (box) {
        box.focus();
      } else if ((id = selectedID())) {
        window.location.href = "/inbox/" + id + "#reply-text";
      } else {
        return;
      }
      break;
    case "x":
      var box2 = rows[current] && rows[current].querySelector('input[type="checkbox"]');
      if (!box2) {
        return;
      }
      box2.checked = !box2.checked;
      break;
    case "?":
      var help = document.getElementById("inbox-keys");
      if (help) {
        help.hidden = !help.hidden;
      }
      break;
    default:
      return;
    }
    e.preventDefault();
  });
})();
