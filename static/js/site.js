// Small progressive enhancements shared by every page. The site works without this file.
(function () {
  "use strict";
  // Buttons that ask for confirmation first: <button data-confirm="Are you sure?">. Without script
  // such forms carry a required checkbox inside <noscript> instead.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // The phone menu: the header's button shows and hides the navigation, search and account links.
  function setupMenu() {
    var button = document.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!button || !menu) { return; }
    var header = button.closest(".site-header");
    header.classList.add("has-menu-toggle");
    button.hidden = false;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
  }

  // The account menu closes on Escape and when focus or a click goes elsewhere.
  function setupAccountMenu() {
    var menu = document.querySelector(".account-menu");
    if (!menu) { return; }
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
        event.stopPropagation();
      }
    });
  }

  // A "Copy" button on every code block of articles and posts.
  function setupCopyButtons() {
    if (!navigator.clipboard) { return; }
    var blocks = document.querySelectorAll(".article-body pre, .user-content pre");
    for (var i = 0; i < blocks.length; i++) { addCopyButton(blocks[i]); }
  }

  function addCopyButton(pre) {
    var holder = document.createElement("div");
    holder.className = "code-block";
    pre.parentNode.insertBefore(holder, pre);
    holder.appendChild(pre);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code to clipboard");
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    holder.appendChild(button);
    holder.appendChild(status);
    var timer = null;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(pre.innerText.replace(/\n$/, "")).then(function () {
        button.textContent = "Copied";
        status.textContent = "Code copied to clipboard";
      }, function () {
        button.textContent = "Copy failed";
        status.textContent = "The code could not be copied; select it and copy by hand";
      });
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { button.textContent = "Copy"; status.textContent = ""; }, 2000);
    });
  }

  // "Was this helpful?": the vote and the comment are sent in the background and the section is
  // replaced by the one the server renders next, so the thank-you appears where the reader is.
  function setupFeedback() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("#feedback form") || event.defaultPrevented) { return; }
      event.preventDefault();
      var submitter = event.submitter;
      var data = new FormData(form);
      if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
      function plainSubmit() {
        if (submitter && submitter.name) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = submitter.name;
          input.value = submitter.value;
          form.appendChild(input);
        }
        form.submit();
      }
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("feedback");
          var current = document.getElementById("feedback");
          if (!fresh || !current) { plainSubmit(); return; }
          current.replaceWith(fresh);
          var focus = fresh.querySelector("[data-feedback-focus]") || fresh;
          focus.setAttribute("tabindex", "-1");
          focus.focus();
        })
        .catch(plainSubmit);
    });
  }

  // Disclosures marked data-open-wide (the search filters) start open where there is room beside the content.
  function openWhenWide() {
    if (!window.matchMedia("(min-width: 46.01rem)").matches) { return; }
    var boxes = document.querySelectorAll("details[data-open-wide]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].open = true; }
  }

  function init() {
    openWhenWide();
    setupMenu();
    setupAccountMenu();
    setupCopyButtons();
    setupFeedback();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
