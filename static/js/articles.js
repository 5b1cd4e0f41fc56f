// Article editor: a live preview rendered by the server (the same pipeline as saving).
// Without this script the "Preview" button re-renders the page with the preview.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) { return; }
  var body = form.querySelector("[data-preview-source]");
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var pending = null;

  function refresh() {
    var data = new FormData();
    data.append("body", body.value);
    if (token) { data.append("csrf_token", token.value); }
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: token ? { "X-CSRFToken": token.value } : {},
      signal: pending.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error("preview failed: " + response.status); }
      return response.text();
    }).then(function (html) {
      // The server returns sanitized HTML (kb.markup), the same that will be stored.
      target.innerHTML = html;
    }).catch(function (error) {
      if (error.name !== "AbortError") {
        target.textContent = "The preview is not available right now; your text is safe. Save the draft to keep it.";
      }
    });
  }

  if (body) {
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 500);
    });
    var button = form.querySelector("[data-preview-button]");
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        refresh();
        target.focus();
      });
    }
    target.setAttribute("tabindex", "-1");
    if (body.value.trim()) { refresh(); }
  }
})();
