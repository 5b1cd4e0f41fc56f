// File fields with a drop zone and an upload progress bar. Without this script the plain
// <input type="file" multiple> still works and the form posts as usual.
(function () {
  "use strict";

  function size(bytes) {
    var units = ["bytes", "KiB", "MiB", "GiB"], value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : value) + " " + units[unit];
  }

  function listChosen(input, list) {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + size(file.size) + ")";
      list.appendChild(item);
    });
  }

  function enhance(field) {
    var input = field.querySelector('input[type="file"]');
    var form = field.closest("form");
    if (!input || !form || !window.FormData || !window.XMLHttpRequest) { return; }
    field.classList.add("dropzone");
    var list = document.createElement("ul");
    list.className = "dropzone-files";
    list.setAttribute("aria-live", "polite");
    field.appendChild(list);
    input.addEventListener("change", function () { listChosen(input, list); });
    ["dragenter", "dragover"].forEach(function (name) {
      field.addEventListener(name, function (event) {
        event.preventDefault();
        field.classList.add("dropzone-active");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      field.addEventListener(name, function () { field.classList.remove("dropzone-active"); });
    });
    field.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        listChosen(input, list);
      }
    });

    form.addEventListener("submit", function (event) {
      if (!input.files.length) { return; }  // nothing to upload: the ordinary post is quick
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
      var progress = document.createElement("progress");
      progress.max = 100;
      progress.value = 0;
      progress.className = "upload-progress";
      var status = document.createElement("p");
      status.className = "upload-status";
      status.setAttribute("role", "status");
      field.appendChild(progress);
      field.appendChild(status);
      form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = true; });
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          progress.value = Math.round((e.loaded / e.total) * 100);
          status.textContent = "Uploading: " + size(e.loaded) + " of " + size(e.total);
        }
      });
      request.addEventListener("load", function () {
        if (request.status < 400 && request.responseURL && request.responseURL !== form.action) {
          window.location.assign(request.responseURL);  // the page the post redirected to
          return;
        }
        document.open();  // a refusal: show the page the server answered with, the typed text kept
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () {
        status.textContent = "The upload was interrupted. Check your connection and send the form again.";
        form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = false; });
      });
      request.send(data);
    });
  }

  document.querySelectorAll("[data-dropzone]").forEach(enhance);
})();
