// Progressive enhancement only: every step works without this file.
// - opens the step dialog when htmx swaps a step into it, closes it when a page step arrives;
// - counts down until a new code may be asked for;
// - moves focus to an error summary or the new step, and announces network failures.
// The dialog is looked up each time: after the back button htmx restores a new copy of it.
(function () {
  "use strict";

  function stepDialog() { return document.getElementById("step-dialog"); }

  // A page swapped into <main> is a new page: start at its top, focus on its heading (or on
  // its error summary), as a full page load would.
  function focusPage(root) {
    if (root.querySelector("[data-step]")) {  // a step shown as a page (tracking): its field
      window.scrollTo(0, 0);
      focusStep(root);
      return;
    }
    var target = root.querySelector("[data-focus-on-load]") || root.querySelector("h1");
    if (target) {
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      target.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }

  function focusStep(root) {
    var summary = root.querySelector("[data-focus-on-load]");
    var target = summary || root.querySelector("input:not([type=hidden]), select, textarea") ||
      root.querySelector("h1, h2");
    if (target) {
      if (!target.hasAttribute("tabindex") && /^H[12]$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (button) {
      var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
      var form = button.closest("form");
      var text = form && form.querySelector("[data-countdown-text]");
      var seconds = form && form.querySelector("[data-countdown-seconds]");
      if (left <= 0) { return; }
      // Without JavaScript the sentence gives the time of day; here the seconds count down.
      var clock = form.querySelector("[data-countdown-clock]");
      var live = form.querySelector("[data-countdown-live]");
      if (clock && live) { clock.hidden = true; live.hidden = false; }
      button.disabled = true;
      var timer = setInterval(function () {
        left -= 1;
        if (seconds) { seconds.textContent = String(left); }
        if (left <= 0) {
          clearInterval(timer);
          button.disabled = false;
          if (text) { text.hidden = true; }
        }
      }, 1000);
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var dialog = stepDialog();
    if (dialog && target.id === "dialog-body") {
      // Labelled only while open: without JavaScript the heading lives in the page instead.
      dialog.setAttribute("aria-labelledby", "step-title");
      if (dialog.open && !dialog.matches(":modal")) { dialog.close(); }
      if (!dialog.open) { dialog.showModal(); }
      startCountdowns(target);
      focusStep(target);
    } else if (target.id === "main") {
      if (dialog && dialog.open) { dialog.close(); }
      startCountdowns(target);
      focusPage(target);
    }
  });

  // A step in the dialog is not a page: the address bar keeps the page beneath it, so closing
  // the dialog (or reloading) shows that page, and the back button never lands on a dead step.
  // htmx would push the step's URL (HX-Location pushes by default): replace with the same URL.
  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var target = event.detail.target;
    var history = event.detail.history;
    if (target && target.id === "dialog-body" && history) {
      history.type = "replace";
      history.path = window.location.pathname + window.location.search;
    }
  });

  // A page restored by the back button may carry the dialog as it was, open but not modal:
  // close it, so the page underneath is usable again.
  document.addEventListener("htmx:historyRestore", function () {
    var dialog = stepDialog();
    if (dialog && dialog.open) { dialog.close(); }
  });

  // A closed dialog keeps no stale step (or its error summary) behind. "close" does not
  // bubble, so listen in the capture phase to catch every copy of the dialog.
  document.addEventListener("close", function (event) {
    if (event.target && event.target.id === "step-dialog") {
      var body = document.getElementById("dialog-body");
      if (body) { body.innerHTML = ""; }
    }
  }, true);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var dialog = stepDialog();
    if (closer && dialog && dialog.open) {
      event.preventDefault();
      dialog.close();
    }
  });

  // Back office: a reply template fills the note to the citizen (staff can still edit it).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-fills]");
    if (!select || !select.value) { return; }
    var note = document.getElementById(select.getAttribute("data-fills"));
    if (note) { note.value = select.value; note.focus(); }
  });

  function announce(key) {
    var live = document.getElementById("live-status");
    if (live) { live.textContent = document.body.getAttribute(key) || ""; }
  }
  document.addEventListener("htmx:sendError", function () { announce("data-msg-network"); });
  document.addEventListener("htmx:responseError", function () { announce("data-msg-server"); });
  document.addEventListener("htmx:beforeRequest", function () {
    var live = document.getElementById("live-status");
    if (live) { live.textContent = ""; }
  });

  // Return focus to what opened the dialog (a card), so keyboard users keep their place.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = stepDialog();
    if (dialog && !dialog.open && event.detail.target && event.detail.target.id === "dialog-body") {
      opener = event.detail.elt;
    }
  });
  document.addEventListener("close", function (event) {
    if (event.target && event.target.id === "step-dialog" && opener && document.contains(opener)) {
      opener.focus();
    }
  }, true);

  // Larger text for older citizens, remembered on this phone.
  var sizeSwitch = document.querySelector("[data-text-size]");
  function applyTextSize(size) {
    document.documentElement.classList.toggle("text-large", size === "large");
    document.querySelectorAll("[data-text-size-set]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-text-size-set") === size));
    });
  }
  if (sizeSwitch) {
    sizeSwitch.hidden = false;
    applyTextSize(localStorage.getItem("text-size") || "normal");
    sizeSwitch.addEventListener("click", function (event) {
      var button = event.target.closest("[data-text-size-set]");
      if (!button) { return; }
      var size = button.getAttribute("data-text-size-set");
      localStorage.setItem("text-size", size);
      applyTextSize(size);
    });
  }

  // Offer installation once, on the home page, and never again after "not now".
  var install = document.querySelector("[data-install]");
  window.addEventListener("beforeinstallprompt", function (event) {
    if (!install || localStorage.getItem("install-dismissed")) { return; }
    event.preventDefault();
    var prompt = event;
    install.hidden = false;
    install.querySelector("[data-install-accept]").addEventListener("click", function () {
      install.hidden = true;
      prompt.prompt();
    });
    install.querySelector("[data-install-dismiss]").addEventListener("click", function () {
      install.hidden = true;
      localStorage.setItem("install-dismissed", "1");
    });
  });

  // The receipt's "print" button: printing needs JavaScript, so the button shows only with it.
  function revealPrint(root) {
    root.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
  }
  revealPrint(document);
  document.addEventListener("htmx:afterSwap", function (event) { revealPrint(event.detail.target); });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* offline page is a bonus */ });
  }

  startCountdowns(document);
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }
})();
