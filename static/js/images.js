// Images in the article editor and the forum composer: a chosen image is uploaded at once and
// ![name](url) is inserted where the cursor is. Without this script the same file input uploads
// when the form is sent, and the server adds the image line to the end of the text.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  // Where the cursor is; at the end when the writer has not been in the text yet (a fresh page
  // puts the cursor at the start, which is rarely where a screenshot belongs).
  function insertAtCursor(area, text) {
    var start = area.selectionStart, end = area.selectionEnd, value = area.value;
    if (typeof start !== "number" || !area.dataset.imageCursor) { start = end = value.length; }
    var before = value.slice(0, start), after = value.slice(end);
    var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    var tail = after && !/^\n/.test(after) ? "\n\n" : "\n";
    area.value = before + lead + text + tail + after;
    var caret = (before + lead + text + tail).length;
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));  // the live preview follows
  }

  function messageOf(response, data) {
    if (data && data.error && data.error.message) { return data.error.message; }
    if (response.status === 413) { return "The image is too large."; }
    return "The image could not be added (error " + response.status + "). Your text is safe.";
  }

  function wire(form) {
    var input = form.querySelector("input[data-image-input]");
    var area = form.querySelector("textarea[name=body]");
    var token = form.querySelector("input[name=csrf_token]");
    if (!input || !area || !token) { return; }
    ["focus", "input", "click", "keyup"].forEach(function (name) {
      area.addEventListener(name, function () { area.dataset.imageCursor = "1"; });
    });
    var status = document.createElement("p");
    status.className = "hint image-status";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", status);

    function upload(file) {
      var data = new FormData();
      data.append("image", file);
      data.append("csrf_token", token.value);
      return fetch(form.dataset.imageUploadUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token.value, "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (answer) {
          if (!response.ok || !answer || !answer.markdown) { throw new Error(messageOf(response, answer)); }
          insertAtCursor(area, answer.markdown);
        });
      });
    }

    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) { return; }
      status.textContent = "Uploading " + files.length + (files.length === 1 ? " image…" : " images…");
      var chain = Promise.resolve(), failed = null;
      files.forEach(function (file) {
        chain = chain.then(function () { return upload(file); }).catch(function (error) {
          failed = file.name + ": " + error.message;
        });
      });
      chain.then(function () {
        input.value = "";  // already in the text: sending the form must not upload it again
        status.textContent = failed || "Image added to the text.";
        area.focus();
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-image-upload-url]"), wire);
})();
