// Send forms marked with data-api-method to the JSON API with fetch.
//
// The CSRF token is read from the promax_csrf cookie and sent in the
// X-CSRF-Token header (double-submit). The session cookie is HttpOnly, so
// this script never sees it. Without JavaScript the forms post as usual.
"use strict";

(function () {
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)promax_csrf=([0-9a-f]{64})(?:;|$)/);
    return match ? match[1] : "";
  }

  function showError(message) {
    var box = document.getElementById("api-error");
    if (box) {
      box.textContent = message;  // textContent, never innerHTML
      box.hidden = false;
    }
  }

  function submitThroughApi(event) {
    var form = event.currentTarget;
    event.preventDefault();
    fetch(form.dataset.apiUrl, {
      method: form.dataset.apiMethod,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) {
        window.location.reload();
        return;
      }
      return response.json().then(function (body) {
        showError((body.error && body.error.message) || "The request failed.");
      });
    }).catch(function () {
      showError("The server could not be reached. Try again.");
    });
  }

  document.querySelectorAll("form[data-api-method]").forEach(function (form) {
    form.addEventListener("submit", submitThroughApi);
  });
})();
