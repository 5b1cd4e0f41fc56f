// Small progressive enhancements shared by every page. The site works without this file.
(function () {
  "use strict";
  // Buttons that ask for confirmation first: <button data-confirm="Are you sure?">
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
