// Type-ahead for every <input data-suggest>: titles (and a short excerpt, when the engine gives one)
// from /search/suggest as the user types, always ending with a "Search for …" row that submits the query.
// Progressive enhancement: without this script the search box still submits its form.
// Optional attributes: data-suggest-kind="thread" limits suggestions to one kind of document.
(function () {
  "use strict";
  var counter = 0;

  function setup(input) {
    counter += 1;
    var listId = "suggest-list-" + counter;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    input.parentNode.classList.add("suggest-wrap");
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var latest = 0;
    var active = -1;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = options();
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", items[active].id);
    }

    function searchRow(q, i) {
      var li = document.createElement("li");
      li.id = listId + "-" + i;
      li.className = "suggest-search";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.searchAll = "true";
      var a = document.createElement("a");
      var form = searchForm();
      a.href = (form ? form.action : "/search") + "?q=" + encodeURIComponent(q);
      a.textContent = "Search for \u2018" + q + "\u2019";
      a.tabIndex = -1;
      a.addEventListener("mousedown", function (event) { event.preventDefault(); });
      a.addEventListener("click", function (event) { event.preventDefault(); submitQuery(); });
      li.appendChild(a);
      return li;
    }

    function searchForm() {
      var form = input.form;
      return form && form.method.toLowerCase() === "get" ? form : null;
    }

    // The row submits the box's own search form (keeping its hidden filters), else opens /search.
    function submitQuery() {
      var form = searchForm();
      var q = input.value.trim();
      close();
      if (!form) { window.location.assign("/search?q=" + encodeURIComponent(q)); return; }
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }

    function render(suggestions, q) {
      list.textContent = "";
      active = -1;
      suggestions.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var a = document.createElement("a");
        a.href = item.url;
        a.textContent = item.title;
        a.tabIndex = -1;
        if (item.kind === "thread") {
          var tag = document.createElement("span");
          tag.className = "suggest-kind";
          tag.textContent = " · forum";
          a.appendChild(tag);
        }
        if (item.excerpt) {
          var excerpt = document.createElement("span");
          excerpt.className = "suggest-excerpt";
          excerpt.textContent = item.excerpt;
          a.appendChild(excerpt);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
      list.appendChild(searchRow(q, suggestions.length));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var ticket = ++latest;
      var url = "/search/suggest?q=" + encodeURIComponent(q);
      if (input.dataset.suggestKind) { url += "&kind=" + encodeURIComponent(input.dataset.suggestKind); }
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (ticket === latest) { render(data.suggestions || [], q); } })
        .catch(function () { if (ticket === latest) { render([], q); } });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active < 0 ? -1 : active - 1); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }  // keep the typed query
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        var chosen = options()[active];
        if (chosen.dataset.searchAll) { submitQuery(); } else { window.location.assign(chosen.querySelector("a").href); }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 200); });
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-suggest]");
    for (var i = 0; i < inputs.length; i++) { setup(inputs[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
