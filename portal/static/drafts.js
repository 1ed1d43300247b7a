// Textareas on the citizen's form: how many characters are left, shown before the limit.
// The first number is rendered by the server (portal/templates/citizen/_form.html); this
// keeps it current while typing. Drafts themselves are saved by htmx (hx-post on [data-draft]).
(function () {
  "use strict";

  function counterFor(textarea) {
    return document.querySelector('[data-char-count="' + textarea.id + '"]');
  }

  function update(textarea, counter) {
    var limit = parseInt(textarea.getAttribute("maxlength"), 10);
    if (!limit || !counter) { return; }
    var left = Math.max(0, limit - textarea.value.length);
    var text = (counter.getAttribute("data-msg-left") || "{n}").replace("{n}", String(left));
    // Screen readers hear it when typing pauses, not at every key.
    clearTimeout(counter._countTimer);
    counter._countTimer = setTimeout(function () { counter.textContent = text; }, 400);
  }

  function bind(root) {
    (root || document).querySelectorAll("[data-char-count]").forEach(function (counter) {
      var textarea = document.getElementById(counter.getAttribute("data-char-count"));
      if (!textarea) { return; }
      var described = (textarea.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(counter.id) < 0) {
        described.push(counter.id);
        textarea.setAttribute("aria-describedby", described.join(" "));
      }
    });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && target.tagName === "TEXTAREA" && target.id) {
      update(target, counterFor(target));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
})();
