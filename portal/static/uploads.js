// Progressive enhancement for the form's files and place; the form works without this file
// (it then posts the files itself, and the place is typed).
// - each picked file is sent on its own at once (progress bar); a failed one can be sent
//   again or dropped, and nothing else in the form is touched;
// - "use my current location" fills the form's hidden latitude and longitude.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) { return ""; }
  }

  var inFlight = 0;
  function setBusy(form, delta) {
    inFlight += delta;
    if (form) {
      form.querySelectorAll("button[type=submit]:not([name])").forEach(function (button) {
        button.toggleAttribute("data-waiting", inFlight > 0);
      });
    }
  }

  function item(box, file) {
    var li = document.createElement("li");
    li.className = "upload upload--sending";
    var name = document.createElement("span");
    name.className = "upload__name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", box.getAttribute("data-msg-uploading") + " " + file.name);
    var message = document.createElement("p");
    message.className = "upload__message";
    message.setAttribute("role", "status");
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(message);
    box.querySelector("[data-progress]").appendChild(li);
    return li;
  }

  function failed(box, li, text, file, retryable) {
    li.className = "upload upload--failed";
    var bar = li.querySelector("progress");
    if (bar) { bar.remove(); }
    var message = li.querySelector(".upload__message");
    message.className = "upload__message error-message";
    message.textContent = text;
    if (retryable) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "button button--secondary upload__retry";
      retry.textContent = box.getAttribute("data-msg-retry");
      retry.addEventListener("click", function () { li.remove(); send(box, file); });
      li.appendChild(retry);
    }
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link-button";
    dismiss.textContent = box.getAttribute("data-msg-dismiss");
    dismiss.addEventListener("click", function () { li.remove(); });
    li.appendChild(dismiss);
  }

  var queue = Promise.resolve();
  function send(box, file) {
    var li = item(box, file);
    var form = box.closest("form");
    if (file.size > parseInt(box.getAttribute("data-max-bytes"), 10)) {
      failed(box, li, box.getAttribute("data-msg-too-large"), file, false);
      return;
    }
    setBusy(form, 1);
    // One at a time: a phone's uplink is slow, and the office counts files in order.
    queue = queue.then(function () {
      return new Promise(function (done) {
        var body = new FormData();
        body.append("submission_key", form.querySelector("input[name=submission_key]").value);
        body.append("file", file, file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", box.getAttribute("data-upload-url"));
        xhr.setRequestHeader("x-csrftoken", csrfToken());
        xhr.timeout = 120000;
        xhr.upload.addEventListener("progress", function (event) {
          var bar = li.querySelector("progress");
          if (bar && event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
        });
        xhr.onload = function () {
          if (xhr.status === 200) {
            box.querySelector("[data-pending]").innerHTML = xhr.responseText;
            li.remove();
          } else {
            var holder = document.createElement("div");
            holder.innerHTML = xhr.responseText;
            var reason = holder.querySelector("[data-upload-error]");
            var text = reason ? reason.textContent : document.body.getAttribute("data-msg-server");
            failed(box, li, text, file, !reason || xhr.status >= 500);
          }
          finish();
        };
        xhr.onerror = xhr.ontimeout = function () {
          failed(box, li, box.getAttribute("data-msg-network"), file, true);
          finish();
        };
        function finish() { setBusy(form, -1); done(); }
        xhr.send(body);
      });
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var box = input.closest && input.closest("[data-uploads]");
    if (!box || input.type !== "file") { return; }
    Array.prototype.forEach.call(input.files, function (file) { send(box, file); });
    // Sent already: the form itself must not carry them a second time.
    input.value = "";
  });

  // Filing waits for the files still on their way.
  function holdWhileSending(event) {
    var form = event.target.closest && event.target.closest("form");
    if (inFlight > 0 && form && form.querySelector("[data-uploads]")) {
      event.preventDefault();
      var live = document.getElementById("live-status");
      var box = form.querySelector("[data-uploads]");
      if (live) { live.textContent = box.getAttribute("data-msg-wait"); }
    }
  }
  document.addEventListener("submit", holdWhileSending, true);
  document.addEventListener("htmx:confirm", holdWhileSending);

  function setPoint(field, lat, lng, text) {
    field.querySelector("[data-lat]").value = lat;
    field.querySelector("[data-lng]").value = lng;
    field.querySelector("[data-locate-status]").textContent = text;
    field.querySelector("[data-locate-clear]").hidden = !lat;
  }

  document.addEventListener("click", function (event) {
    var locate = event.target.closest("[data-locate]");
    var clear = event.target.closest("[data-locate-clear]");
    var field = (locate || clear) && (locate || clear).closest("[data-location]");
    if (!field) { return; }
    if (clear) { setPoint(field, "", "", ""); return; }
    var status = field.querySelector("[data-locate-status]");
    status.textContent = locate.getAttribute("data-msg-locating");
    locate.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude.toFixed(6);
      var lng = position.coords.longitude.toFixed(6);
      setPoint(field, lat, lng, locate.getAttribute("data-msg-found") + " " + lat + ", " + lng);
      locate.disabled = false;
    }, function (error) {
      status.textContent = locate.getAttribute(error.code === 1 ? "data-msg-denied" : "data-msg-failed");
      locate.disabled = false;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });

  function enhance(root) {
    if (!("geolocation" in navigator)) { return; }
    root.querySelectorAll("[data-locate-box]").forEach(function (box) { box.hidden = false; });
  }
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.detail.target); });
  enhance(document);
})();
