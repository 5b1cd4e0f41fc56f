// Answers before asking, for the forum composer and the case form: suggest existing answers (and, in
// the composer, outage guidance) while the title or the description is typed.
// Without this file the "Check for answers" button does the same on the server.
(function () {
  "use strict";
  var form = document.querySelector("form[data-answers-url]");
  if (!form) { return; }
  var title = form.querySelector("[data-deflect]");
  var body = form.querySelector("[data-deflect-text]") || form.querySelector("textarea");
  var results = document.getElementById("deflection-results");
  var outage = document.getElementById("outage-guidance");
  if (!title || !results) { return; }
  var timer = null;
  var last = "";

  function render(data) {
    results.textContent = "";
    if (data.results && data.results.length) {
      var intro = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = "These may already answer your question:";
      intro.appendChild(strong);
      results.appendChild(intro);
      var list = document.createElement("ul");
      list.className = "deflection-list";
      data.results.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.url;
        a.textContent = item.title;
        li.appendChild(a);
        var badge = document.createElement("span");
        badge.className = "badge" + (item.solved ? " badge-ok" : "");
        badge.textContent = item.kind_label || item.kind;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(badge);
        list.appendChild(li);
      });
      results.appendChild(list);
    }
    if (outage && data.outage) {
      outage.hidden = !data.outage.detected;
      var signals = outage.querySelector("[data-outage-signals]");
      if (signals && data.outage.detected) {
        signals.textContent = "What we noticed: " + data.outage.signals.join("; ") + "." +
          (data.outage.severity ? " This usually means severity " + data.outage.severity + "." : "");
      }
    }
  }

  function check() {
    var q = title.value.trim();
    if (q.length < 4 && body) {  // nothing in the title yet: look for the description's opening words
      q = body.value.trim().split(/\s+/).slice(0, 12).join(" ");
    }
    var text = body ? body.value.slice(0, 4000) : "";
    var key = q + "\u0000" + text.length;
    if (key === last) { return; }
    last = key;
    if (q.length < 4 && !text) { results.textContent = ""; return; }
    var url = form.dataset.answersUrl + "?q=" + encodeURIComponent(q) + "&text=" + encodeURIComponent(text.slice(0, 1500));
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the Check for answers button still works */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 350);
  }
  title.addEventListener("input", schedule);
  if (body) { body.addEventListener("input", schedule); }
})();
