// Severity questionnaire: suggest a severity as the questions are answered.
// Without this script the questionnaire still works: its button submits the form and the server answers.
(function () {
  "use strict";

  function answers(container) {
    var params = new URLSearchParams();
    container.querySelectorAll('input[type="radio"]:checked').forEach(function (input) {
      if (input.closest(".case-question")) { params.append(input.name, input.value); }
    });
    return params;
  }

  function show(box, data) {
    box.textContent = "";
    box.hidden = false;
    var p = document.createElement("p");
    if (data.severity) {
      var strong = document.createElement("strong");
      strong.textContent = "Suggested: severity " + data.severity + ". ";
      p.appendChild(strong);
    }
    p.appendChild(document.createTextNode(data.reason));
    box.appendChild(p);
  }

  function preselect(container, severity) {
    var name = container.getAttribute("data-target-field");
    if (!name || !severity) { return; }
    var form = container.closest("form");
    var chosen = form && form.querySelector('input[name="' + name + '"]:checked');
    if (chosen && !chosen.hasAttribute("data-suggested")) { return; }  // never override the customer's own choice
    var input = form && form.querySelector('input[name="' + name + '"][value="' + severity + '"]');
    if (input) {
      if (chosen) { chosen.removeAttribute("data-suggested"); }
      input.checked = true;
      input.setAttribute("data-suggested", "");
      input.dispatchEvent(new Event("change", { bubbles: true }));  // the due time below follows it
    }
  }

  document.querySelectorAll("[data-severity-questionnaire]").forEach(function (container) {
    var url = container.getAttribute("data-suggest-url");
    var box = container.parentElement.querySelector("[data-suggestion]");
    if (!url || !box) { return; }
    container.addEventListener("change", function (event) {
      if (!event.target.closest(".case-question")) { return; }
      fetch(url + "?" + answers(container).toString(), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          show(box, data);
          preselect(container, data.severity);
        })
        .catch(function () { /* offline: the submit button still asks the server */ });
    });
  });
}());

// Case form: the first-response due time follows the chosen severity (each option carries its own).
(function () {
  "use strict";
  var box = document.querySelector("[data-response-due]");
  var form = box && box.closest("form");
  if (!form) { return; }
  var text = box.firstChild;
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "severity" && input.checked && input.getAttribute("data-due")) {
      text.nodeValue = input.getAttribute("data-due") + " ";
    }
  });
})();

// Staff composer: the reply button says what else it will do ("Send and set to Waiting on customer").
(function () {
  "use strict";
  document.querySelectorAll("[data-case-composer]").forEach(function (composer) {
    var status = composer.querySelector('select[name="update-status"]');
    var button = composer.querySelector(".composer-send-reply");
    if (!status || !button) { return; }
    function relabel() {
      var option = status.options[status.selectedIndex];
      button.textContent = status.value ? "Send and set to " + option.text : button.getAttribute("data-label-base");
    }
    status.addEventListener("change", relabel);
  });
})();
